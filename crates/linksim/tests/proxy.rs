//! The proxy forwards faithfully, never faster than its caps, and cuts where it is told to.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use gocua_linksim::{Profile, Proxy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An upstream that answers each connection by echoing everything back.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = socket.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    addr
}

async fn round_trip(addr: SocketAddr, payload: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(addr).await?;
    let (mut r, mut w) = stream.split();
    let write = async {
        w.write_all(payload).await?;
        w.shutdown().await
    };
    let mut out = Vec::new();
    let read = r.read_to_end(&mut out);
    let (written, read) = tokio::join!(write, read);
    written?;
    read?;
    Ok(out)
}

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

#[tokio::test]
async fn a_clean_link_forwards_every_byte_both_ways() {
    let proxy = Proxy::start("127.0.0.1:0", echo_server().await, Profile::CLEAN).await.unwrap();
    let data = payload(300_000);
    assert_eq!(round_trip(proxy.addr(), &data).await.unwrap(), data);
    assert_eq!(proxy.stats().bytes_up.load(Ordering::Relaxed), 300_000);
    assert_eq!(proxy.stats().bytes_down.load(Ordering::Relaxed), 300_000);
}

#[tokio::test]
async fn the_caps_and_the_latency_are_never_beaten() {
    // 8 KB each way at 64 kbit/s up and 128 kbit/s down cannot take less than 1 s up + 0.5 s down
    // minus overlap (the echo streams both at once), so at least 1 s, plus 200 ms of round trip.
    let profile = Profile {
        up_bps: Some(64_000),
        down_bps: Some(128_000),
        rtt: Duration::from_millis(200),
        cut_after_bytes: None,
    };
    let proxy = Proxy::start("127.0.0.1:0", echo_server().await, profile).await.unwrap();
    let data = payload(8_000);
    let started = Instant::now();
    assert_eq!(round_trip(proxy.addr(), &data).await.unwrap(), data, "slow, but intact");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(1_200), "a capped link delivered too fast: {took:?}");
}

#[tokio::test]
async fn snapshots_count_what_crossed_the_link_between_two_moments() {
    let proxy = Proxy::start("127.0.0.1:0", echo_server().await, Profile::CLEAN).await.unwrap();
    let first = payload(2_000);
    assert_eq!(round_trip(proxy.addr(), &first).await.unwrap(), first);
    let before = proxy.stats().snapshot();
    assert_eq!((before.bytes_up, before.bytes_down, before.connections, before.cuts), (2_000, 2_000, 1, 0));
    let second = payload(5_000);
    assert_eq!(round_trip(proxy.addr(), &second).await.unwrap(), second);
    let delta = proxy.stats().snapshot().since(before);
    assert_eq!((delta.bytes_up, delta.bytes_down, delta.connections, delta.cuts), (5_000, 5_000, 1, 0));
}

#[tokio::test]
async fn a_connection_is_cut_after_the_given_bytes() {
    let proxy = Proxy::start("127.0.0.1:0", echo_server().await, Profile::CLEAN.with_cuts(10_000)).await.unwrap();
    let data = payload(100_000);
    let got: Vec<u8> = round_trip(proxy.addr(), &data).await.unwrap_or_default();
    assert!(got.len() < data.len(), "the cut must lose the rest of the stream");
    let carried = proxy.stats().bytes_up.load(Ordering::Relaxed) + proxy.stats().bytes_down.load(Ordering::Relaxed);
    assert!(carried <= 10_000, "no more than the cut allows: {carried}");
    assert_eq!(proxy.stats().cuts.load(Ordering::Relaxed), 1);
    // a new connection starts a fresh budget
    let small = payload(1_000);
    assert_eq!(round_trip(proxy.addr(), &small).await.unwrap(), small);
}

#[tokio::test]
async fn a_dropped_answer_reaches_the_server_but_never_the_client() {
    let (upstream, got) = counting_server().await;
    let proxy = Proxy::start("127.0.0.1:0", upstream, Profile::CLEAN).await.unwrap();
    proxy.drop_next_answer();
    let answer = round_trip(proxy.addr(), b"one request").await.unwrap_or_default();
    assert!(answer.is_empty(), "the answer must be lost: {answer:?}");
    assert_eq!(got.load(Ordering::SeqCst), 11, "the server had the whole request");
    assert_eq!(proxy.stats().cuts.load(Ordering::Relaxed), 1);
    // armed once: the next answer goes through
    assert_eq!(round_trip(proxy.addr(), b"again").await.unwrap(), b"again");
}

/// An echo server that also counts the bytes it received.
async fn counting_server() -> (SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let got = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&got);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let counter = std::sync::Arc::clone(&counter);
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    counter.fetch_add(n, Ordering::SeqCst);
                    if socket.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    (addr, got)
}

#[tokio::test]
async fn offline_refuses_new_connections_and_cuts_live_ones() {
    let proxy = Proxy::start("127.0.0.1:0", echo_server().await, Profile::CLEAN).await.unwrap();
    let mut live = TcpStream::connect(proxy.addr()).await.unwrap();
    live.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 4];
    live.read_exact(&mut buf).await.unwrap();
    proxy.set_offline(true);
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), live.read_to_end(&mut rest))
        .await
        .expect("the cut ends the stream");
    assert!(read.is_err() || rest.is_empty());
    assert!(round_trip(proxy.addr(), b"hello").await.map(|b| b.is_empty()).unwrap_or(true), "no service while offline");
    proxy.set_offline(false);
    assert_eq!(round_trip(proxy.addr(), b"hello").await.unwrap(), b"hello");
}

#[test]
fn named_profiles_match_the_issue() {
    let g2 = Profile::named("2g").unwrap();
    assert_eq!((g2.down_bps, g2.up_bps, g2.rtt), (Some(20_000), Some(18_000), Duration::from_millis(650)));
    let edge = Profile::named("edge").unwrap();
    assert_eq!((edge.down_bps, edge.up_bps, edge.rtt), (Some(240_000), Some(200_000), Duration::from_millis(400)));
    let g3 = Profile::named("3g").unwrap();
    assert_eq!((g3.down_bps, g3.up_bps, g3.rtt), (Some(780_000), Some(330_000), Duration::from_millis(100)));
    assert!(Profile::named("5g").is_none());
}
