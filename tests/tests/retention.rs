//! Retention against the real server: a phone's acknowledged records leave it once old, without
//! changing what it shows; when the police later move the volunteer (a reset), her own old
//! records come back from the server (`own=true`), as her role sees them.

use gocua_core::fixtures::{self, Rng, SENTINEL_CCCD, SENTINEL_NAME, record_sentinel_household};
use gocua_core::privacy::mask_cccd;
use gocua_core::sync::engine::sync_once;
use gocua_e2e::{TestServer, enrolled_device};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_records_leave_the_phone_and_a_reset_brings_its_own_back_from_the_server() {
    let server = TestServer::start().await;
    server.add_places();
    // another volunteer's households in both hamlets of the commune
    let nga = server.volunteer_code("Hà Thị Nga", "03445");
    let (other, other_link) = enrolled_device(&server, "other.sqlite", &nga).await;
    let mut rng = Rng::new(21);
    for hamlet in ["03445-01", "03445-02", "03445-02"] {
        let (_, _, payloads) = fixtures::household_payloads(&mut rng, hamlet, 2);
        for p in payloads {
            other.lock().unwrap().record(p).unwrap();
        }
    }
    sync_once(&other, &other_link).await.unwrap();

    let user = server.admin(&["add-user", "--name", "Lò Thị Lan", "--role", "volunteer", "--scope", "03445"]);
    let code = server.admin(&["create-code", "--user", &user]);
    let (phone, link) = enrolled_device(&server, "phone.sqlite", &code).await;
    let own = record_sentinel_household(&mut phone.lock().unwrap());
    sync_once(&phone, &link).await.unwrap();
    // the server's order went on past her records: a quiet commune still moves her cursor
    sync_once(&phone, &link).await.unwrap();
    let (shown, held) = {
        let store = phone.lock().unwrap();
        (store.projection().unwrap(), store.event_count().unwrap())
    };
    assert_eq!(shown.households.len(), 4);
    assert_eq!(held, 3 * 3 + 2, "three households of three events, and her two");

    // a month on, everything acknowledged is old
    let later = chrono::Utc::now() + chrono::Duration::days(31);
    let purged = phone.lock().unwrap().purge_acknowledged(later).unwrap();
    assert_eq!(purged, held, "every acknowledged event left");
    assert_eq!(phone.lock().unwrap().event_count().unwrap(), 0);
    assert_eq!(phone.lock().unwrap().projection().unwrap(), shown, "the phone shows the same");
    sync_once(&phone, &link).await.unwrap();
    assert_eq!(phone.lock().unwrap().projection().unwrap(), shown, "and a quiet sync changes nothing");

    // the police narrow her to hamlet 01: a reset, which asks the server for her own events too
    server.admin(&["set-scope", "--user", &user, "--scope", "03445-01"]);
    sync_once(&phone, &link).await.unwrap();
    let store = phone.lock().unwrap();
    assert!(!store.pulls_own_events().unwrap(), "the reset is over");
    let now = store.projection().unwrap();
    assert!(now.households.values().all(|h| h.hamlet_code == "03445-01"), "hamlet 02 left the phone");
    assert_eq!(now.households.len(), 2, "the other volunteer's household in 01, and hers");
    let back = now.households.get(&own).expect("her own purged household came back from the server");
    assert_eq!(back.head_name, SENTINEL_NAME);
    let sentinel = now.residents.values().find(|r| r.household_id == own).expect("and its resident");
    assert_eq!(
        sentinel.cccd.as_deref(),
        Some(mask_cccd(SENTINEL_CCCD).as_str()),
        "as a volunteer sees it from the server: masked"
    );
}
