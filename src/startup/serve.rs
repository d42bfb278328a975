//! Accepting connections: HTTP/1.1 through hyper, with the two defences `axum::serve` leaves
//! out. Every request head must arrive whole within `server.header_read_timeout_secs`
//! (counted from when the connection is ready for one, so an idle or trickling connection is
//! closed too); and open connections are capped, in all and per client address, so one
//! client cannot take every slot. An upgraded WebSocket leaves hyper, and its slot, at the
//! upgrade; the event sockets have their own per-account cap.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use ipnet::IpNet;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt;

use crate::api::rate_limit::bucket_key;
use crate::core::config::Settings;

/// Pause after a failed accept (out of file descriptors, say) before the next.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// Open connections per client key.
type Counts = Arc<Mutex<HashMap<IpAddr, u32>>>;

/// The caps on open connections.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    total: Arc<Semaphore>,
    per_client: Counts,
    max_per_client: u32,
    /// Trusted proxies carry many clients' connections: only the total applies to them.
    proxies: Arc<[IpNet]>,
    header_read_timeout: Duration,
}

/// One admitted connection's place; dropping it frees the place.
#[derive(Debug)]
struct Admission {
    _total: OwnedSemaphorePermit,
    client: Option<(IpAddr, Counts)>,
}

impl Drop for Admission {
    fn drop(&mut self) {
        if let Some((key, counts)) = self.client.take() {
            let mut counts = counts.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(count) = counts.get_mut(&key) {
                *count -= 1;
                if *count == 0 {
                    counts.remove(&key);
                }
            }
        }
    }
}

impl ConnectionLimits {
    pub fn new(settings: &Settings) -> Self {
        let server = &settings.server;
        let total = usize::try_from(server.max_connections).unwrap_or(usize::MAX);
        Self {
            total: Arc::new(Semaphore::new(total.min(Semaphore::MAX_PERMITS))),
            per_client: Arc::default(),
            max_per_client: server.max_connections_per_client,
            proxies: settings.trusted_proxies.clone().into(),
            header_read_timeout: Duration::from_secs(server.header_read_timeout_secs),
        }
    }

    /// A place for a connection from `peer`, or `None` when its client or the server is full.
    fn admit(&self, peer: IpAddr) -> Option<Admission> {
        let total = Arc::clone(&self.total).try_acquire_owned().ok()?;
        let peer = peer.to_canonical();
        if self.proxies.iter().any(|proxy| proxy.contains(&peer)) {
            return Some(Admission { _total: total, client: None });
        }
        let key = bucket_key(peer);
        let mut counts = self.per_client.lock().unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(key).or_insert(0);
        if *count >= self.max_per_client {
            return None;
        }
        *count += 1;
        Some(Admission { _total: total, client: Some((key, Arc::clone(&self.per_client))) })
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    // Each connection holds a receiver; `closed()` tells when the last one has finished.
    let (stop, stopping) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(ACCEPT_RETRY).await;
                    continue;
                }
            },
        };
        let Some(admission) = limits.admit(peer.ip()) else {
            tracing::debug!(%peer, "connection refused: too many open connections");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let timeout = limits.header_read_timeout;
        tokio::spawn(connection(stream, peer, router, timeout, admission, stopping.clone()));
    }
    let _ = stop.send(true);
    drop(stopping);
    stop.closed().await;
}

async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    router: Router,
    header_read_timeout: Duration,
    admission: Admission,
    mut stopping: watch::Receiver<bool>,
) {
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let response = router.clone().oneshot(request.map(Body::new));
        async move { Ok::<_, Infallible>(response.await.unwrap_or_else(|never| match never {})) }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(header_read_timeout);
    let connection = builder.serve_connection(TokioIo::new(stream), service).with_upgrades();
    let mut connection = std::pin::pin!(connection);
    let mut draining = false;
    let result = loop {
        tokio::select! {
            result = connection.as_mut() => break result,
            _ = stopping.changed(), if !draining => {
                // Finish the request in hand, then close.
                connection.as_mut().graceful_shutdown();
                draining = true;
            }
        }
    };
    if let Err(error) = result {
        tracing::debug!(%error, %peer, "connection ended with an error");
    }
    drop(admission);
}
