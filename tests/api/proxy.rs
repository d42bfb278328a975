//! A TCP proxy between Warren and Postgres that a test can cut: `Refuse` closes the port and
//! every open connection (a crashed server), `Blackhole` accepts but never answers (a cut
//! network), `Forward` heals.

use std::net::SocketAddr;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Forward,
    Refuse,
    Blackhole,
}

pub struct Proxy {
    pub port: u16,
    mode: watch::Sender<Mode>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("address").port();
        let (mode, watcher) = watch::channel(Mode::Forward);
        tokio::spawn(serve(listener, upstream, watcher));
        Self { port, mode }
    }

    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }
}

async fn serve(mut listener: TcpListener, upstream: SocketAddr, mut mode: watch::Receiver<Mode>) {
    loop {
        let current = *mode.borrow_and_update();
        if current == Mode::Refuse {
            // Closing the listener makes new connections fail with "connection refused".
            let address = listener.local_addr().expect("address");
            drop(listener);
            if mode.changed().await.is_err() {
                return;
            }
            listener = TcpListener::bind(address).await.expect("rebind proxy");
            continue;
        }
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((client, _)) = accepted else { continue };
                tokio::spawn(pipe(client, upstream, mode.clone()));
            }
            changed = mode.changed() => if changed.is_err() { return },
        }
    }
}

/// Forwards one connection while the mode is `Forward`; on `Refuse` drops it, on `Blackhole`
/// holds it silently until the mode changes again, then drops it.
async fn pipe(mut client: TcpStream, upstream: SocketAddr, mut mode: watch::Receiver<Mode>) {
    if *mode.borrow_and_update() == Mode::Forward {
        let Ok(mut server) = TcpStream::connect(upstream).await else { return };
        tokio::select! {
            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => return,
            _ = mode.changed() => {}
        }
    }
    if *mode.borrow() == Mode::Blackhole {
        let _ = mode.changed().await;
    }
    let _ = client.shutdown().await;
}
