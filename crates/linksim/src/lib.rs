//! A userspace TCP proxy that makes a loopback link behave like a rural 2G/EDGE/3G one:
//! one-way latency, separate up/down bandwidth caps, and connections cut mid-request or
//! mid-response. Kernel `netem` is not available on our machines; this is the stand-in.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// How the link behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// Client → server rate in bits per second (`None`: unlimited).
    pub up_bps: Option<u64>,
    /// Server → client rate in bits per second.
    pub down_bps: Option<u64>,
    /// Added round-trip time; each direction gets half.
    pub rtt: Duration,
    /// Cut each connection once it has carried this many bytes (both directions together).
    pub cut_after_bytes: Option<u64>,
}

impl Profile {
    /// A clean link: no delay, no cap, no cuts.
    pub const CLEAN: Profile = Profile { up_bps: None, down_bps: None, rtt: Duration::ZERO, cut_after_bytes: None };

    /// A named profile of issue 4: `2g` (20/18 kbit/s down/up, 650 ms), `edge` (240/200 kbit/s,
    /// 400 ms), `3g` (780/330 kbit/s, 100 ms), `clean`.
    pub fn named(name: &str) -> Option<Profile> {
        let p = |down_kbps: u64, up_kbps: u64, rtt_ms: u64| Profile {
            up_bps: Some(up_kbps * 1000),
            down_bps: Some(down_kbps * 1000),
            rtt: Duration::from_millis(rtt_ms),
            cut_after_bytes: None,
        };
        match name {
            "2g" | "2g-rural" => Some(p(20, 18, 650)),
            "edge" => Some(p(240, 200, 400)),
            "3g" => Some(p(780, 330, 100)),
            "clean" => Some(Profile::CLEAN),
            _ => None,
        }
    }

    /// The same profile, cutting every connection after `bytes`.
    pub fn with_cuts(self, bytes: u64) -> Profile {
        Profile { cut_after_bytes: Some(bytes), ..self }
    }
}

/// Counters of a running proxy.
#[derive(Debug, Default)]
pub struct Stats {
    /// Bytes forwarded client → server.
    pub bytes_up: AtomicU64,
    /// Bytes forwarded server → client.
    pub bytes_down: AtomicU64,
    /// Connections accepted.
    pub connections: AtomicU64,
    /// Connections cut by the profile or by [`Proxy::cut_all`].
    pub cuts: AtomicU64,
}

impl Stats {
    /// The counters' values now.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            bytes_up: self.bytes_up.load(Ordering::Relaxed),
            bytes_down: self.bytes_down.load(Ordering::Relaxed),
            connections: self.connections.load(Ordering::Relaxed),
            cuts: self.cuts.load(Ordering::Relaxed),
        }
    }
}

/// The counters of [`Stats`] at one moment: TCP payload bytes (HTTP headers and bodies, no
/// TCP/IP overhead) that crossed the link each way, connections accepted and cuts made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Bytes forwarded client → server.
    pub bytes_up: u64,
    /// Bytes forwarded server → client.
    pub bytes_down: u64,
    /// Connections accepted.
    pub connections: u64,
    /// Connections cut.
    pub cuts: u64,
}

impl StatsSnapshot {
    /// What happened between `earlier` and this snapshot.
    pub fn since(self, earlier: StatsSnapshot) -> StatsSnapshot {
        StatsSnapshot {
            bytes_up: self.bytes_up.saturating_sub(earlier.bytes_up),
            bytes_down: self.bytes_down.saturating_sub(earlier.bytes_down),
            connections: self.connections.saturating_sub(earlier.connections),
            cuts: self.cuts.saturating_sub(earlier.cuts),
        }
    }
}

/// A running proxy; dropping it stops accepting and cuts every connection.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    stats: Arc<Stats>,
    offline: Arc<AtomicBool>,
    drop_answer: Arc<AtomicBool>,
    cut_tx: watch::Sender<u64>,
    stop: Option<tokio::task::JoinHandle<()>>,
}

impl Proxy {
    /// Listens on `listen` and forwards every connection to `upstream` through `profile`.
    pub async fn start(listen: &str, upstream: SocketAddr, profile: Profile) -> io::Result<Proxy> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let stats = Arc::new(Stats::default());
        let offline = Arc::new(AtomicBool::new(false));
        let drop_answer = Arc::new(AtomicBool::new(false));
        let (cut_tx, cut_rx) = watch::channel(0u64);
        let link = Link {
            profile,
            stats: Arc::clone(&stats),
            offline: Arc::clone(&offline),
            drop_answer: Arc::clone(&drop_answer),
            cut_rx,
        };
        let accept = tokio::spawn(accept_loop(listener, upstream, link));
        Ok(Proxy { addr, stats, offline, drop_answer, cut_tx, stop: Some(accept) })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// No signal: new connections are dropped at once, and live ones are cut.
    pub fn set_offline(&self, offline: bool) {
        self.offline.store(offline, Ordering::SeqCst);
        if offline {
            self.cut_all();
        }
    }

    /// Cuts every live connection now (mid-request or mid-response, wherever they are).
    pub fn cut_all(&self) {
        self.cut_tx.send_modify(|generation| *generation += 1);
    }

    /// Loses the next answer: the next bytes a server sends, on any connection, are dropped
    /// and that connection is cut. The request got through and was handled; the client never
    /// learns it (the case where a retry resends what the server already has).
    pub fn drop_next_answer(&self) {
        self.drop_answer.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut_all();
        if let Some(task) = self.stop.take() {
            task.abort();
        }
    }
}

/// What every connection of one proxy shares.
#[derive(Debug, Clone)]
struct Link {
    profile: Profile,
    stats: Arc<Stats>,
    offline: Arc<AtomicBool>,
    drop_answer: Arc<AtomicBool>,
    cut_rx: watch::Receiver<u64>,
}

async fn accept_loop(listener: TcpListener, upstream: SocketAddr, link: Link) {
    loop {
        let Ok((client, _)) = listener.accept().await else { continue };
        if link.offline.load(Ordering::SeqCst) {
            drop(client);
            continue;
        }
        link.stats.connections.fetch_add(1, Ordering::Relaxed);
        let link = link.clone();
        tokio::spawn(async move {
            if let Ok(server) = TcpStream::connect(upstream).await {
                connection(client, server, link).await;
            }
        });
    }
}

/// Both directions of one connection; ends when either side closes or the link is cut.
async fn connection(client: TcpStream, server: TcpStream, link: Link) {
    let Link { profile, stats, drop_answer, mut cut_rx, .. } = link;
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_r, client_w) = client.into_split();
    let (server_r, server_w) = server.into_split();
    let carried = Arc::new(AtomicU64::new(0));
    let half = profile.rtt / 2;
    let up = pump(
        client_r,
        server_w,
        profile.up_bps,
        half,
        profile.cut_after_bytes,
        Arc::clone(&carried),
        Arc::clone(&stats),
        None,
    );
    let down = pump(
        server_r,
        client_w,
        profile.down_bps,
        half,
        profile.cut_after_bytes,
        carried,
        Arc::clone(&stats),
        Some(drop_answer),
    );
    let generation = *cut_rx.borrow_and_update();
    let (mut up, mut down) = (Box::pin(up), Box::pin(down));
    let (mut up_open, mut down_open) = (true, true);
    while up_open || down_open {
        let flow = tokio::select! {
            flow = &mut up, if up_open => { up_open = false; flow }
            flow = &mut down, if down_open => { down_open = false; flow }
            _ = cut_rx.wait_for(|g| *g != generation) => Flow::Cut,
        };
        if flow == Flow::Cut {
            stats.cuts.fetch_add(1, Ordering::Relaxed);
            break;
        }
    }
    // dropping the halves closes both sockets: the peer sees the connection die mid-stream
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Closed,
    Cut,
}

/// Copies one direction: each chunk leaves when the capped link has serialized it, plus the
/// one-way latency; chunks are pipelined, so latency is paid once, not per chunk.
/// `drop_answer` is given for the server → client direction only.
#[allow(clippy::too_many_arguments)]
async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    bps: Option<u64>,
    latency: Duration,
    cut_after: Option<u64>,
    carried: Arc<AtomicU64>,
    stats: Arc<Stats>,
    drop_answer: Option<Arc<AtomicBool>>,
) -> Flow {
    let upward = drop_answer.is_none();
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let reader = async move {
        let mut link_free_at = Instant::now();
        let mut buf = vec![0u8; 1024];
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => return Flow::Closed,
                Ok(n) => n,
            };
            if drop_answer.as_ref().is_some_and(|armed| armed.swap(false, Ordering::SeqCst)) {
                return Flow::Cut;
            }
            let mut chunk = buf[..n].to_vec();
            let mut flow = None;
            if let Some(limit) = cut_after {
                let before = carried.fetch_add(n as u64, Ordering::SeqCst);
                if before + n as u64 >= limit {
                    chunk.truncate(limit.saturating_sub(before) as usize);
                    flow = Some(Flow::Cut);
                }
            }
            let now = Instant::now();
            let serialize =
                bps.map_or(Duration::ZERO, |bps| Duration::from_secs_f64(chunk.len() as f64 * 8.0 / bps as f64));
            link_free_at = link_free_at.max(now) + serialize;
            if !chunk.is_empty() && tx.send((link_free_at + latency, chunk)).is_err() {
                return Flow::Closed;
            }
            if let Some(flow) = flow {
                return flow;
            }
        }
    };
    let writer = async {
        while let Some((at, chunk)) = rx.recv().await {
            tokio::time::sleep_until(at).await;
            if to.write_all(&chunk).await.is_err() {
                return;
            }
            let counter = if upward { &stats.bytes_up } else { &stats.bytes_down };
            counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        }
        let _ = to.shutdown().await;
    };
    let (flow, ()) = tokio::join!(reader, writer);
    flow
}
