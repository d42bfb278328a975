//! Prometheus metrics: the series Warren exports, the process-wide recorder, and the few
//! counters hot paths feed through atomics (cheaper than a recorder lookup, and readable at
//! scrape time to derive a ratio). Without `server.metrics_addr` no recorder is installed and
//! every `metrics::…!` call is a no-op.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};

pub const HTTP_REQUESTS: &str = "warren_http_requests_total";
pub const HTTP_DURATION: &str = "warren_http_request_duration_seconds";
pub const AUTH_EVENTS: &str = "warren_auth_events_total";
pub const HASH_QUEUE_DEPTH: &str = "warren_password_hash_queue_depth";
pub const HASH_DURATION: &str = "warren_password_hash_duration_seconds";
pub const DB_POOL_CONNECTIONS: &str = "warren_db_pool_connections";
pub const OUTBOX_BACKLOG: &str = "warren_outbox_backlog";
pub const OUTBOX_FAILURES: &str = "warren_outbox_failures_total";
pub const RESET_REQUESTS_DROPPED: &str = "warren_password_reset_requests_dropped_total";
pub const OPEN_SOCKETS: &str = "warren_open_sockets";
pub const TOKEN_CACHE_LOOKUPS: &str = "warren_token_cache_lookups_total";
pub const TOKEN_CACHE_HIT_RATIO: &str = "warren_token_cache_hit_ratio";
pub const RETENTION_DELETED_ROWS: &str = "warren_retention_deleted_rows_total";
pub const RETENTION_ERASED_ROWS: &str = "warren_retention_erased_rows_total";

/// Request latency buckets, in seconds: most requests take milliseconds, a signin ~50 ms.
const LATENCY_BUCKETS: [f64; 12] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

static HANDLE: Mutex<Option<PrometheusHandle>> = Mutex::new(None);
static HASH_QUEUE: AtomicI64 = AtomicI64::new(0);
static TOKEN_CACHE_HITS: AtomicU64 = AtomicU64::new(0);
static TOKEN_CACHE_MISSES: AtomicU64 = AtomicU64::new(0);

/// Installs the global recorder once per process (tests start many applications in one)
/// and returns the handle that renders the scrape.
pub fn install() -> Result<PrometheusHandle, BuildError> {
    let mut installed = HANDLE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(handle) = installed.as_ref() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_duration_seconds".to_owned()), &LATENCY_BUCKETS)?
        .install_recorder()?;
    describe();
    *installed = Some(handle.clone());
    Ok(handle)
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(HTTP_REQUESTS, "HTTP requests by method, matched route and status");
    describe_histogram!(HTTP_DURATION, metrics::Unit::Seconds, "HTTP request latency");
    describe_counter!(AUTH_EVENTS, "Audit events by kind");
    describe_gauge!(HASH_QUEUE_DEPTH, "Password hashes waiting for or on a hashing thread");
    describe_histogram!(HASH_DURATION, metrics::Unit::Seconds, "Time to hash or verify");
    describe_gauge!(DB_POOL_CONNECTIONS, "Database connections by state (in_use, idle)");
    describe_gauge!(OUTBOX_BACKLOG, "Emails waiting in the outbox");
    describe_counter!(OUTBOX_FAILURES, "Outbox delivery attempts that failed");
    describe_counter!(RESET_REQUESTS_DROPPED, "Forgot-password requests dropped: too many waiting");
    describe_gauge!(OPEN_SOCKETS, "Open account-event WebSockets");
    describe_counter!(TOKEN_CACHE_LOOKUPS, "Verified-token cache lookups by result (hit, miss)");
    describe_gauge!(TOKEN_CACHE_HIT_RATIO, "Verified-token cache hits / lookups since start");
    describe_counter!(RETENTION_DELETED_ROWS, "Rows the retention pruner deleted, by table");
    describe_counter!(RETENTION_ERASED_ROWS, "Values the retention pruner erased, by column");
    // Series other features feed; registered now so dashboards and alerts can exist first.
    // The dispatcher counts OUTBOX_FAILURES; each scrape counts OUTBOX_BACKLOG in the database.
    metrics::gauge!(OUTBOX_BACKLOG).set(0.0);
    metrics::counter!(OUTBOX_FAILURES).absolute(0);
    metrics::counter!(RESET_REQUESTS_DROPPED).absolute(0);
    // The account-event registry calls `socket_opened` / `socket_closed`.
    metrics::gauge!(OPEN_SOCKETS).set(0.0);
}

/// A password hash or verification was queued (`+1`) or left the queue (`-1`).
pub fn hash_queue(change: i64) {
    HASH_QUEUE.fetch_add(change, Ordering::Relaxed);
}

/// One lookup in the verified-token cache.
pub fn token_cache_lookup(hit: bool) {
    let counter = if hit { &TOKEN_CACHE_HITS } else { &TOKEN_CACHE_MISSES };
    counter.fetch_add(1, Ordering::Relaxed);
}

pub fn socket_opened() {
    metrics::gauge!(OPEN_SOCKETS).increment(1.0);
}

pub fn socket_closed() {
    metrics::gauge!(OPEN_SOCKETS).decrement(1.0);
}

/// Copies the atomics into their series; called just before each scrape is rendered.
#[allow(clippy::cast_precision_loss)] // counts far below 2^52
pub fn publish_sampled() {
    metrics::gauge!(HASH_QUEUE_DEPTH).set(HASH_QUEUE.load(Ordering::Relaxed) as f64);
    let hits = TOKEN_CACHE_HITS.load(Ordering::Relaxed);
    let misses = TOKEN_CACHE_MISSES.load(Ordering::Relaxed);
    metrics::counter!(TOKEN_CACHE_LOOKUPS, "result" => "hit").absolute(hits);
    metrics::counter!(TOKEN_CACHE_LOOKUPS, "result" => "miss").absolute(misses);
    let lookups = hits + misses;
    let ratio = if lookups == 0 { 0.0 } else { hits as f64 / lookups as f64 };
    metrics::gauge!(TOKEN_CACHE_HIT_RATIO).set(ratio);
}
