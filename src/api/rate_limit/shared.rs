//! The per-IP limits every instance shares (Postgres): an axum middleware that asks the
//! database before the handler runs. A tower-governor limit with a looser quota stays in front
//! of it on each instance, so a flood is shed there and never reaches the database.

use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;

use super::{Quota, bucket_key, limit_per_ip};
use crate::api::extractors::client_ip;
use crate::api::{AppError, AppState};
use crate::repositories::{RateLimitRepository, SharedQuota, Verdict};

/// How much looser each instance's own limit is than the shared one: enough that the shared
/// limit decides for every client that is not flooding, even when all its requests land on
/// one instance.
const FLOOD_FACTOR: u32 = 3;

/// How often each instance deletes the rows of clients whose bucket is full again.
const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// One shared limit: its name (the rows it owns), its quota, and where it is kept.
#[derive(Debug, Clone)]
struct SharedLimit {
    name: &'static str,
    quota: SharedQuota,
    store: Arc<dyn RateLimitRepository>,
    trusted: Arc<[IpNet]>,
}

/// Wraps every route of `router` in the limit called `name`: shared through `store` when
/// there is one (behind a per-instance flood shedder), in process otherwise.
pub fn limit_shared(
    router: Router<AppState>,
    name: &'static str,
    quota: Quota,
    trusted: Arc<[IpNet]>,
    store: Option<Arc<dyn RateLimitRepository>>,
) -> anyhow::Result<Router<AppState>> {
    let Some(store) = store else {
        return limit_per_ip(router, quota, trusted);
    };
    spawn_sweeper(Arc::downgrade(&store));
    let shared = SharedQuota { period: quota.period, burst: quota.burst };
    let limit = SharedLimit { name, quota: shared, store, trusted: Arc::clone(&trusted) };
    let router = router.route_layer(middleware::from_fn_with_state(limit, enforce));
    // Added last, so it runs first.
    limit_per_ip(router, flood_quota(quota), trusted)
}

/// The per-instance shedder's quota: a burst and a rate `FLOOD_FACTOR` times the shared ones.
fn flood_quota(quota: Quota) -> Quota {
    Quota {
        period: (quota.period / FLOOD_FACTOR).max(Duration::from_nanos(1)),
        burst: quota.burst.saturating_mul(FLOOD_FACTOR),
    }
}

async fn enforce(State(limit): State<SharedLimit>, request: Request, next: Next) -> Response {
    let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() else {
        return AppError::Internal(anyhow::anyhow!("no peer address for the rate limit"))
            .into_response();
    };
    let client = bucket_key(client_ip(peer.ip(), request.headers(), &limit.trusted)).to_string();
    match limit.store.acquire(limit.name, &client, limit.quota).await {
        Ok(Verdict::Allowed) => next.run(request).await,
        Ok(Verdict::Limited { retry_after }) => {
            // Whole seconds, rounded up: a client that waits as told is let through.
            let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            AppError::RateLimited { retry_after_secs: secs.max(1) }.into_response()
        }
        Err(error) => {
            // Never a pass: a limit that cannot be checked refuses, for a few seconds.
            tracing::warn!(%error, limit = limit.name, "the shared rate limit is unavailable");
            AppError::Unavailable.into_response()
        }
    }
}

/// Sweeps once a minute until the router that owns `store` is gone.
fn spawn_sweeper(store: Weak<dyn RateLimitRepository>) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(SWEEP_INTERVAL);
        ticks.tick().await; // the first tick is immediate; nothing is stale yet
        loop {
            ticks.tick().await;
            let Some(store) = store.upgrade() else { break };
            match store.sweep().await {
                Ok(swept) => tracing::debug!(swept, "swept idle shared rate-limit rows"),
                Err(error) => tracing::debug!(%error, "could not sweep the shared rate limits"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flood_shedder_is_three_times_looser_than_the_shared_limit() {
        let minute = Duration::from_secs(60);
        let quota = Quota::new(("rate", 10), minute, ("burst", 10)).expect("quota");
        let flood = flood_quota(quota);
        assert_eq!(flood.burst, 3 * quota.burst);
        assert_eq!(flood.period * 3, quota.period);
    }
}
