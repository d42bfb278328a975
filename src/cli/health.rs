//! `warren health`: asks the configured address's `/api/health/ready` and exits 0 only on a
//! 200, so a container `HEALTHCHECK` needs no curl in the image. Plain HTTP/1.1 over a TCP
//! socket: one request, one status line, no client library.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::core::config::Settings;

/// Longer than a readiness check takes (a database round trip within its budget), shorter
/// than a container runtime's default HEALTHCHECK timeout (30 s).
const DEADLINE: Duration = Duration::from_secs(5);

pub async fn run(settings: &Settings) -> anyhow::Result<()> {
    let address = SocketAddr::new(reachable(settings.server.host), settings.server.port);
    let status = tokio::time::timeout(DEADLINE, ready_status(address))
        .await
        .with_context(|| format!("http://{address}/api/health/ready did not answer in time"))?
        .with_context(|| format!("cannot reach http://{address}/api/health/ready"))?;
    if status != 200 {
        bail!("http://{address}/api/health/ready answered {status}: not ready");
    }
    println!("ready (http://{address}/api/health/ready answered 200)");
    Ok(())
}

/// A wildcard listen address is reached through loopback.
fn reachable(host: IpAddr) -> IpAddr {
    match host {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        other => other,
    }
}

async fn ready_status(address: SocketAddr) -> anyhow::Result<u16> {
    let mut stream = TcpStream::connect(address).await?;
    let request =
        format!("GET /api/health/ready HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    // The status line fits in the first bytes; the rest of the answer does not matter.
    let mut head = [0_u8; 64];
    let mut read = 0;
    while read < 12 {
        let n = stream.read(&mut head[read..]).await?;
        if n == 0 {
            break;
        }
        read += n;
    }
    let line = String::from_utf8_lossy(&head[..read]);
    line.strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("not an HTTP answer: {line:?}"))
}
