//! The office's people screen ("Người dùng và phân công"): who works in the commune, with their
//! devices, from the server; a new volunteer or team leader with a one-time code shown as text
//! and as a QR code; a new code; a device revoked. Those need the server. Assigning places is
//! recorded here as an event (`assignment_set.v1`), offline, and shown as waiting until the
//! server has applied it.

use chrono::{DateTime, Utc};
use gocua_core::event::{AssignmentSet, Payload};
use gocua_core::model::Assignment;
use gocua_core::places::Place;
use gocua_core::reducer::StateView;
use gocua_core::sql::projection::SqlView;
use gocua_core::store::{DeviceStore, Enrollment};
use gocua_core::sync::office::{EnrollmentCode, NewPerson, OfficePerson};
use gocua_core::sync::protocol::Role;
use gocua_http_client::HttpTransport;
use serde::Serialize;
use tauri::State;
use uuid::Uuid;

use crate::error::CommandError;
use crate::state::AppState;

/// Whether a role runs the office's people screen (the server's `Action::Office`).
pub fn may_run_office(role: Role) -> bool {
    matches!(role, Role::CommunePolice | Role::ProvincePolice)
}

/// The enrollment of a store whose user runs the office: not the sandbox, police only.
pub fn authorize(store: &DeviceStore) -> Result<Enrollment, CommandError> {
    store.refuse_in_sandbox()?;
    let enrollment = store.enrollment()?.ok_or(gocua_core::Error::NotEnrolled)?;
    if !may_run_office(enrollment.role) {
        return Err(CommandError::new(
            "refused",
            "Chỉ công an xã, công an tỉnh dùng chức năng này / Only the police can do this",
        ));
    }
    Ok(enrollment)
}

/// One person, with the places the office gave them here that the server has not applied yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct PersonView {
    /// The person, as the server has them.
    pub person: OfficePerson,
    /// Places assigned on an office device that the server does not show yet (waiting to sync).
    pub waiting: Option<Vec<String>>,
}

/// The people screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct PeopleView {
    /// Everyone of the officer's places, by name.
    pub people: Vec<PersonView>,
    /// The hamlets that may be assigned (this device's).
    pub hamlets: Vec<Place>,
    /// Every place a person of the list may work in (the hamlets and this device's own places),
    /// to show names for codes.
    pub places: Vec<Place>,
    /// This device (the office does not revoke itself from here).
    pub this_device: Uuid,
}

/// A one-time code to show: as text, and as a QR code a phone's camera reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct CodeView {
    /// For whom.
    pub user_id: Uuid,
    /// The code.
    pub code: String,
    /// Until when it works (RFC 3339).
    pub expires_at: DateTime<Utc>,
    /// A QR code of the server's address and the code (`gocua://enroll?server=…&code=…`), SVG.
    pub qr_svg: String,
}

/// A new person and their first code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct NewPersonView {
    /// The person.
    pub person: OfficePerson,
    /// Their code.
    pub code: CodeView,
}

/// What the QR code of an enrollment code says: the server's address and the code.
pub fn enrollment_uri(server_url: &str, code: &str) -> String {
    let encode = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    format!("gocua://enroll?server={}&code={}", encode(server_url), encode(code))
}

/// `text` as a QR code (error correction M), in SVG.
pub fn qr_svg(text: &str) -> Result<String, CommandError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| CommandError::new("internal", format!("QR: {e}")))?;
    Ok(code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(240, 240).quiet_zone(true).build())
}

fn code_view(server_url: &str, code: EnrollmentCode) -> Result<CodeView, CommandError> {
    let qr_svg = qr_svg(&enrollment_uri(server_url, &code.code))?;
    Ok(CodeView { user_id: code.user_id, code: code.code, expires_at: code.expires_at, qr_svg })
}

/// The people as the server lists them, with what this device assigned that the server does not
/// show yet.
pub fn merge(people: Vec<OfficePerson>, assigned: &[Assignment]) -> Vec<PersonView> {
    people
        .into_iter()
        .map(|person| {
            let waiting = assigned
                .iter()
                .find(|a| a.user_id == person.id)
                .filter(|a| a.places != person.places)
                .map(|a| a.places.clone());
            PersonView { person, waiting }
        })
        .collect()
}

async fn link(state: &AppState) -> Result<(Enrollment, HttpTransport), CommandError> {
    let enrollment = state.with_store(|s| Ok(authorize(s))).await??;
    let transport = HttpTransport::new(&enrollment.server_url)?.with_token(&enrollment.token);
    Ok((enrollment, transport))
}

/// The people screen: from the server, with this device's waiting assignments.
#[tauri::command]
pub async fn office_people(state: State<'_, AppState>) -> Result<PeopleView, CommandError> {
    let (enrollment, transport) = link(&state).await?;
    let people = transport.office_people().await?.people;
    let people = merge(people, &assigned_of(&state).await?);
    let given: Vec<String> = people
        .iter()
        .flat_map(|p| p.person.places.iter().chain(p.waiting.iter().flatten()))
        .filter(|code| gocua_core::places::household_of(code).is_some())
        .cloned()
        .collect();
    let (hamlets, own, households) = state
        .with_store(move |s| {
            let view = SqlView::new(s.connection());
            let mut own = Vec::new();
            for code in enrollment.scope.codes() {
                own.extend(view.place(code)?);
            }
            Ok((s.hamlets()?, own, household_places(&view, &given)?))
        })
        .await?;
    let places = own.into_iter().chain(hamlets.iter().cloned()).chain(households).collect();
    Ok(PeopleView { people, hamlets, places, this_device: enrollment.device_id })
}

async fn assigned_of(state: &AppState) -> Result<Vec<Assignment>, CommandError> {
    state.with_store(|s| s.assignments()).await
}

/// The households given on their own among `codes`, as places named by their head and address
/// (as this device holds them), so the screen shows names, not ids.
fn household_places(view: &SqlView<'_>, codes: &[String]) -> Result<Vec<Place>, gocua_core::Error> {
    let mut out: Vec<Place> = Vec::new();
    for code in codes {
        let Some(id) = gocua_core::places::household_of(code) else { continue };
        if out.iter().any(|p| &p.code == code) {
            continue;
        }
        if let Some(h) = view.household(id)? {
            let label = format!("{} — {}", h.head_name, h.address);
            out.push(gocua_core::places::household_place(id, &h.hamlet_code, &label));
        }
    }
    Ok(out)
}

/// Adds a volunteer or team leader of this office's hamlets; answers their first code.
#[tauri::command]
pub async fn office_add_person(
    state: State<'_, AppState>,
    name: String,
    role: Role,
    places: Vec<String>,
) -> Result<NewPersonView, CommandError> {
    let (enrollment, transport) = link(&state).await?;
    let added = transport.office_add_person(&NewPerson { name, role, places }).await?;
    Ok(NewPersonView { person: added.person, code: code_view(&enrollment.server_url, added.code)? })
}

/// A new one-time code for a person (a new phone, a lost code).
#[tauri::command]
pub async fn office_new_code(state: State<'_, AppState>, user_id: Uuid) -> Result<CodeView, CommandError> {
    let (enrollment, transport) = link(&state).await?;
    code_view(&enrollment.server_url, transport.office_new_code(user_id).await?)
}

/// Makes a volunteer a team leader, or a team leader a volunteer (the server decides, online);
/// their phones take the role on at their next sync.
#[tauri::command]
pub async fn office_set_role(
    state: State<'_, AppState>,
    user_id: Uuid,
    role: Role,
) -> Result<OfficePerson, CommandError> {
    let (_, transport) = link(&state).await?;
    Ok(transport.office_set_role(user_id, role).await?)
}

/// Revokes a device: it wipes its data at its next contact, locked or not.
#[tauri::command]
pub async fn office_revoke_device(state: State<'_, AppState>, device_id: Uuid) -> Result<bool, CommandError> {
    let (_, transport) = link(&state).await?;
    Ok(transport.office_revoke(device_id).await?)
}

/// Gives a volunteer or team leader their places: recorded here, offline, and applied by the
/// server when this device syncs (their phones then move).
#[tauri::command]
pub async fn office_assign(state: State<'_, AppState>, user_id: Uuid, places: Vec<String>) -> Result<(), CommandError> {
    state.with_store(|s| Ok(authorize(s))).await??;
    state.write(move |s| s.record(Payload::AssignmentSet(AssignmentSet { user_id, places })).map(|_| ())).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use gocua_core::sync::office::OfficeDevice;

    fn person(places: &[&str]) -> OfficePerson {
        OfficePerson {
            id: Uuid::from_u128(7),
            name: "Lò Thị Lan".into(),
            role: Role::Volunteer,
            places: places.iter().map(|p| (*p).to_owned()).collect(),
            devices: Vec::<OfficeDevice>::new(),
        }
    }

    #[test]
    fn an_assignment_waits_until_the_server_shows_it() {
        let assigned = |places: &[&str]| Assignment {
            user_id: Uuid::from_u128(7),
            places: places.iter().map(|p| (*p).to_owned()).collect(),
            assigned_by: Uuid::from_u128(1),
        };
        let merged = merge(vec![person(&["03445-01"])], &[assigned(&["03445-02"])]);
        assert_eq!(merged[0].waiting.as_deref(), Some(&["03445-02".to_owned()][..]));
        let merged = merge(vec![person(&["03445-02"])], &[assigned(&["03445-02"])]);
        assert_eq!(merged[0].waiting, None, "applied");
        assert_eq!(merge(vec![person(&["03445-01"])], &[])[0].waiting, None);
    }

    #[test]
    fn only_the_police_run_the_people_screen() {
        let runs: Vec<Role> = Role::ALL.into_iter().filter(|r| may_run_office(*r)).collect();
        assert_eq!(runs, [Role::CommunePolice, Role::ProvincePolice]);
    }

    #[test]
    fn a_code_is_shown_as_a_qr_code_of_the_server_and_the_code() {
        let uri = enrollment_uri("https://gocua.example.vn:8443/", "ABCD-EFGH");
        assert_eq!(uri, "gocua://enroll?server=https%3A%2F%2Fgocua.example.vn%3A8443%2F&code=ABCD-EFGH");
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.starts_with("<?xml") && svg.contains("<svg") && svg.contains("<path"), "{}", &svg[..80]);
        // the same text, the same picture; another text, another
        assert_eq!(svg, qr_svg(&uri).unwrap());
        assert_ne!(svg, qr_svg("gocua://enroll?server=x&code=y").unwrap());
    }
}
