//! `gocua-linksim`: run the link impairment proxy in front of a server.

use std::net::SocketAddr;

use anyhow::{Context, Result, bail};
use clap::Parser;
use gocua_linksim::{Profile, Proxy};

#[derive(Debug, Parser)]
#[command(
    name = "gocua-linksim",
    version,
    about = "Mô phỏng đường truyền yếu / a slow, lossy link in front of a server"
)]
struct Cli {
    /// Address to listen on (port 0 picks one; the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
    /// The server to forward to.
    #[arg(long)]
    upstream: SocketAddr,
    /// 2g | edge | 3g | clean.
    #[arg(long, default_value = "edge")]
    profile: String,
    /// Cut every connection after it has carried this many bytes.
    #[arg(long)]
    cut_after_bytes: Option<u64>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let Some(mut profile) = Profile::named(&cli.profile) else {
        bail!(
            "không có cấu hình đường truyền {:?} / unknown profile {:?}: use 2g, edge, 3g or clean",
            cli.profile,
            cli.profile
        );
    };
    if let Some(bytes) = cli.cut_after_bytes {
        profile = profile.with_cuts(bytes);
    }
    let proxy = Proxy::start(&cli.listen, cli.upstream, profile)
        .await
        .with_context(|| format!("cannot listen on {}", cli.listen))?;
    println!("gocua-linksim listening on {} → {} ({})", proxy.addr(), cli.upstream, cli.profile);
    tokio::signal::ctrl_c().await?;
    Ok(())
}
