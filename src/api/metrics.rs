//! Prometheus over HTTP: the middleware counting and timing every request by method, matched
//! route and status, and the separate `/metrics` listener's router. Routes are labelled by the
//! pattern they matched (`/api/v1/users/me/sessions`), never the raw path, and anything that
//! matched no route is `unmatched`, so a scanner cannot grow the series without bound.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;

use crate::core::config::Settings;
use crate::core::metrics::{self as series, DB_POOL_CONNECTIONS, HTTP_DURATION, HTTP_REQUESTS};
use crate::repositories::{Backend, Database};

/// The separate `/metrics` listener, when `server.metrics_addr` is set.
pub struct MetricsListener {
    listener: TcpListener,
    router: Router,
    handle: PrometheusHandle,
}

impl MetricsListener {
    /// Binds `server.metrics_addr` and installs the recorder; `None` when metrics are off.
    pub async fn bind(settings: &Settings, database: &Database) -> anyhow::Result<Option<Self>> {
        let Some(address) = settings.server.metrics_addr else { return Ok(None) };
        let listener = TcpListener::bind(address).await.with_context(|| {
            format!("cannot listen on {address} for metrics (server.metrics_addr)")
        })?;
        let handle = series::install().context("install the metrics recorder")?;
        let router = router(handle.clone(), database.clone());
        Ok(Some(Self { listener, router, handle }))
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Serves scrapes until the returned task is aborted.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        if let Some(address) = self.local_addr() {
            tracing::info!(url = %format!("http://{address}/metrics"), "serving metrics");
        }
        // Histogram samples pile up until upkeep drains them, scraped or not.
        let upkeep = async move {
            let mut every = tokio::time::interval(Duration::from_secs(5));
            loop {
                every.tick().await;
                self.handle.run_upkeep();
            }
        };
        let serve = axum::serve(self.listener, self.router);
        tokio::spawn(async move {
            tokio::select! {
                served = serve => if let Err(error) = served {
                    tracing::error!(%error, "the metrics listener stopped");
                },
                () = upkeep => {},
            }
        })
    }
}

/// Wraps every route (fallback included) in the request counter and latency histogram. Applied
/// outermost, so timeouts and panics are counted with the status the client saw.
pub fn track_requests(routes: Router) -> Router {
    routes.layer(middleware::from_fn(count_and_time))
}

async fn count_and_time(request: Request, next: Next) -> Response {
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_str().to_owned();
    let elapsed = started.elapsed();
    metrics::histogram!(HTTP_DURATION, "method" => method, "route" => route.clone(), "status" => status.clone())
        .record(elapsed);
    metrics::counter!(HTTP_REQUESTS, "method" => method, "route" => route, "status" => status)
        .increment(1);
    response
}

/// Standard methods by name; any other token a client invents is `other`.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    KNOWN.iter().find(|known| *known == method).map_or("other", Method::as_str)
}

#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    database: Database,
}

/// `GET /metrics` for the metrics listener, and nothing else.
fn router(handle: PrometheusHandle, database: Database) -> Router {
    Router::new().route("/metrics", get(scrape)).with_state(Scrape { handle, database })
}

async fn scrape(State(scrape): State<Scrape>) -> impl IntoResponse {
    publish_pool(&scrape.database);
    publish_backlog(&scrape.database).await;
    series::publish_sampled();
    scrape.handle.run_upkeep();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], scrape.handle.render())
}

/// Counted at scrape time, so the figure is the database's, shared by every instance. When the
/// database cannot answer, the gauge keeps its last value and the pool series show why.
#[allow(clippy::cast_precision_loss)] // a backlog far below 2^52 messages
async fn publish_backlog(database: &Database) {
    match database.repositories().email.backlog().await {
        Ok(pending) => metrics::gauge!(series::OUTBOX_BACKLOG).set(pending as f64),
        Err(error) => tracing::debug!(%error, "metrics: cannot count the outbox backlog"),
    }
}

/// Connections in use and idle, over both SQLite pools (reader and writer) or the Postgres one.
#[allow(clippy::cast_precision_loss)] // a pool holds a handful of connections
fn publish_pool(database: &Database) {
    let (size, idle) = match database.backend() {
        Backend::Sqlite(pools) => {
            (pools.read.size() + pools.write.size(), pools.read.num_idle() + pools.write.num_idle())
        }
        Backend::Postgres(pool) => (pool.size(), pool.num_idle()),
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX);
    let in_use = size.saturating_sub(idle);
    metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "in_use").set(f64::from(in_use));
    metrics::gauge!(DB_POOL_CONNECTIONS, "state" => "idle").set(f64::from(idle));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_methods_share_one_label() {
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        let invented = Method::from_bytes(b"FROBNICATE").expect("a valid token");
        assert_eq!(method_label(&invented), "other");
    }
}
