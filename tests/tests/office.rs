//! The office's people and devices over real HTTP (`/api/v1/office/…`): the commune police see
//! everyone working in their commune with their devices, add a volunteer and get a one-time
//! code that enrolls a phone, issue a new code, see how much a phone still holds unsent, and
//! revoke a phone, which is then refused and wipes. Everything stays inside the officer's places: a volunteer is refused the office, and
//! another commune's police can neither see nor touch this commune's people.

use gocua_core::sync::engine::{Transport, TransportError, sync_once};
use gocua_core::sync::office::NewPerson;
use gocua_core::sync::protocol::{APP_VERSION, PushRequest, Role, SCHEMA_VERSION};
use gocua_e2e::{TestServer, enrolled_device};
use gocua_http_client::HttpTransport;

fn refused(e: TransportError) -> (u16, String) {
    match e {
        TransportError::Refused { status, kind, .. } => (status, kind),
        other => panic!("not refused: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_commune_police_add_a_volunteer_enroll_her_phone_and_revoke_it_inside_their_commune_only() {
    let server = TestServer::start().await;
    server.add_places();
    let office_code = server.code_for("Trần Văn Công", "commune-police", "03445");
    let (_office, office) = enrolled_device(&server, "office.sqlite", &office_code).await;

    // a volunteer the administrator added is listed with the officer
    server.volunteer_code("Giàng A Dũng", "03445-02");
    let people = office.office_people().await.unwrap().people;
    let names: Vec<&str> = people.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Giàng A Dũng", "Trần Văn Công"], "by name");
    assert_eq!(people[1].devices.len(), 1, "the office's own device");
    assert!(people[0].devices.is_empty(), "not enrolled yet");

    // the office adds a volunteer for hamlet 01 and gets a code that enrolls her phone
    let added = office
        .office_add_person(&NewPerson {
            name: "  Lò Thị Lan ".into(),
            role: Role::Volunteer,
            places: vec!["03445-01".into()],
        })
        .await
        .unwrap();
    assert_eq!(added.person.name, "Lò Thị Lan", "trimmed");
    assert_eq!(added.person.places, ["03445-01"]);
    let hours = (added.code.expires_at - chrono::Utc::now()).num_hours();
    assert!((70..=72).contains(&hours), "{hours} h");
    let (phone, phone_link) = enrolled_device(&server, "lan.sqlite", &added.code.code).await;
    assert_eq!(phone.lock().unwrap().enrollment().unwrap().unwrap().scope.key(), "03445-01");
    let lan = office.office_people().await.unwrap().people.into_iter().find(|p| p.name == "Lò Thị Lan").unwrap();
    assert_eq!(lan.devices.len(), 1);
    let lan_device = lan.devices[0].id;
    assert!(lan.devices[0].revoked_at.is_none());

    // a used code is spent; a new one enrolls another phone
    let transport = HttpTransport::new(&server.url).unwrap();
    assert_eq!(refused(transport.enroll(&added.code.code, "again").await.unwrap_err()).0, 401);
    let again = office.office_new_code(lan.id).await.unwrap();
    assert_ne!(again.code, added.code.code);
    transport.enroll(&again.code, "máy thứ hai").await.unwrap();

    // a volunteer is refused the office; so is another commune's police, for this commune
    assert_eq!(refused(phone_link.office_people().await.unwrap_err()).0, 403);
    let other_code = server.code_for("Lò Văn Kim", "commune-police", "03637");
    let (_other, other) = enrolled_device(&server, "other.sqlite", &other_code).await;
    let theirs = other.office_people().await.unwrap().people;
    assert!(theirs.iter().all(|p| p.name != "Lò Thị Lan"), "another commune does not see her");
    assert_eq!(refused(other.office_revoke(lan_device).await.unwrap_err()).0, 403);
    assert_eq!(refused(other.office_new_code(lan.id).await.unwrap_err()).0, 403);
    let outside = NewPerson { name: "Ai Đó".into(), role: Role::Volunteer, places: vec!["03445-01".into()] };
    assert_eq!(refused(other.office_add_person(&outside).await.unwrap_err()).0, 403);
    let police = NewPerson { name: "Ai Đó".into(), role: Role::CommunePolice, places: vec!["03445-01".into()] };
    assert_eq!(refused(office.office_add_person(&police).await.unwrap_err()).0, 400);

    // her phone reports what it still holds unsent: 3 of 5 after a push of 2, none after a sync
    let mut rng = gocua_core::fixtures::Rng::new(5);
    let (_, _, payloads) = gocua_core::fixtures::household_payloads(&mut rng, "03445-01", 4);
    for p in payloads.into_iter().take(5) {
        phone.lock().unwrap().record(p).unwrap();
    }
    let first_two = phone.lock().unwrap().outbox_batch(2, 1 << 20).unwrap();
    let request = PushRequest {
        schema_version: SCHEMA_VERSION,
        app_version: APP_VERSION.into(),
        events: first_two,
        queued: Some(5),
    };
    phone_link.push(&request).await.unwrap();
    let unsent = |people: Vec<gocua_core::sync::office::OfficePerson>| {
        people
            .into_iter()
            .find(|p| p.name == "Lò Thị Lan")
            .unwrap()
            .devices
            .iter()
            .find(|d| d.id == lan_device)
            .unwrap()
            .unsent
    };
    assert_eq!(unsent(office.office_people().await.unwrap().people), Some(3));
    sync_once(&phone, &phone_link).await.unwrap();
    assert_eq!(unsent(office.office_people().await.unwrap().people), Some(0));

    // the office revokes her phone: refused at its next contact, which tells it to wipe
    assert!(office.office_revoke(lan_device).await.unwrap());
    assert!(!office.office_revoke(lan_device).await.unwrap(), "revoked once");
    let err = sync_once(&phone, &phone_link).await.unwrap_err();
    assert!(format!("{err:?}").contains("revoked"), "{err:?}");
    let lan = office.office_people().await.unwrap().people.into_iter().find(|p| p.name == "Lò Thị Lan").unwrap();
    let listed = lan.devices.iter().find(|d| d.id == lan_device).unwrap();
    assert!(listed.revoked_at.is_some());
    assert_eq!(lan.devices.len(), 2, "both phones listed, newest first");
}
