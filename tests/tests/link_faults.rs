//! Sync over a bad link: the real server behind the impairment proxy, connections cut
//! mid-request and mid-response. Retrying rounds must converge with nothing lost and nothing
//! applied twice.

use std::sync::atomic::Ordering;

use gocua_core::fixtures::{self, Rng};
use gocua_core::sync::engine::{BatchSizer, SyncError, sync_once_with_progress};
use gocua_e2e::{TestServer, enrolled_device};
use gocua_http_client::HttpTransport;
use gocua_linksim::{Profile, Proxy};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_after_cut_the_device_and_server_converge_without_duplicates() {
    let server = TestServer::start().await;
    server.add_places();
    let code = server.volunteer_code("Lò Thị Lan", "03445");
    let (device, direct) = enrolled_device(&server, "phone.sqlite", &code).await;
    drop(direct);
    let mut rng = Rng::new(11);
    let mut recorded = 0;
    {
        let mut store = device.lock().unwrap();
        for h in 0..30 {
            let hamlet = if h % 2 == 0 { "03445-01" } else { "03445-02" };
            let (_, residents, payloads) = fixtures::household_payloads(&mut rng, hamlet, 4);
            for p in payloads {
                store.record(p).unwrap();
                recorded += 1;
            }
            for r in residents {
                store.record(fixtures::visit_payload(&mut rng, r, &["refused", "absent_unreachable"])).unwrap();
                recorded += 1;
            }
        }
    }
    // a 3G link that drops every connection after 6 KB: a full 100-event batch can never
    // get through, so the engine must shrink its requests until they fit between cuts
    let upstream = server.url.trim_start_matches("http://").parse().unwrap();
    let proxy = Proxy::start("127.0.0.1:0", upstream, Profile::named("3g").unwrap().with_cuts(6_000)).await.unwrap();
    let token = device.lock().unwrap().enrollment().unwrap().unwrap().token;
    let transport = HttpTransport::new(&format!("http://{}", proxy.addr())).unwrap().with_token(&token);

    let mut failed_rounds = 0;
    let mut acknowledged = 0;
    let mut sizer = BatchSizer::default();
    loop {
        match sync_once_with_progress(&device, &transport, &mut sizer, |_| {}).await {
            Ok(report) => {
                acknowledged += report.applied + report.duplicates;
                break;
            }
            Err(SyncError::Transport(e)) if e.is_transient() => failed_rounds += 1,
            Err(e) => panic!("a round failed for good: {e}"),
        }
        assert!(failed_rounds < 500, "no progress over the cut link");
    }
    let cuts = proxy.stats().cuts.load(Ordering::Relaxed);
    eprintln!("{recorded} events over a link cut every 6 KB: {failed_rounds} failed rounds, {cuts} cuts");
    assert!(cuts > 0, "the link really was cut");
    assert!(failed_rounds > 0, "some rounds really failed");
    assert_eq!(device.lock().unwrap().unsent_count().unwrap(), 0);
    assert_eq!(server.event_count("applied"), recorded as i64, "every event applied exactly once");
    assert_eq!(server.event_count("rejected"), 0);
    assert_eq!(server.projection(), device.lock().unwrap().projection().unwrap());
    assert!(acknowledged <= recorded as u64);
}
