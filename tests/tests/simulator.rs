//! `gocua-sim` against the real server: its last line is the JSON the benchmarks read.

use std::process::Command;

use gocua_e2e::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_simulated_phones_sync_everything_once() {
    let server = TestServer::start().await;
    server.add_places();
    let sim = gocua_e2e::server_bin().with_file_name("gocua-sim");
    let out = Command::new(&sim)
        .args(["--server", &server.url, "--devices", "3", "--visits", "40", "--seed", "5", "--admin-database"])
        .arg(server.database())
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", sim.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let last: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    // each phone: 10 households × (created + 4 residents) + 40 visits = 90 events
    assert_eq!(last["devices"], 3);
    assert_eq!(last["events_sent"], 270);
    assert_eq!(last["events_acknowledged"], 270);
    assert_eq!((last["duplicates"].as_u64(), last["rejected"].as_u64()), (Some(0), Some(0)));
    assert!(last["bytes_up"].as_u64().unwrap() > 0 && last["bytes_down"].as_u64().unwrap() > 0);
    assert!(last["seconds"].as_f64().unwrap() > 0.0);
    assert_eq!(server.event_count("applied"), 270);
    assert_eq!(server.projection().visits.len(), 120);
}
