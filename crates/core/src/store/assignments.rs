//! Who works where, as this device last heard it: the office's assignments of places to
//! volunteers and team leaders (`assignment_set.v1`), its own and those pulled from other office
//! devices. The server applies each to the user's scope; this table is for the office's screens.

use std::str::FromStr;

use uuid::Uuid;

use super::DeviceStore;
use crate::error::Error;
use crate::model::Assignment;

impl DeviceStore {
    /// Every assignment this device holds, by user id.
    pub fn assignments(&self) -> Result<Vec<Assignment>, Error> {
        let mut stmt = self.conn.prepare("SELECT user_id, places, assigned_by FROM assignments ORDER BY user_id")?;
        let rows =
            stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (user, places, by) = row?;
            let id = |s: &str| Uuid::from_str(s).map_err(|_| Error::invalid_input(format!("unreadable id {s}")));
            out.push(Assignment {
                user_id: id(&user)?,
                places: places.split(',').map(str::to_owned).collect(),
                assigned_by: id(&by)?,
            });
        }
        Ok(out)
    }
}
