//! Per-IP rate limits (tower-governor): a general limit on the whole API and a stricter one
//! on the credential endpoints. Keys are client IPs as `extractors::client_ip` resolves them
//! (trusted proxies honoured), with IPv6 clients keyed by their /64, since one host usually
//! owns a whole /64 and could otherwise rotate through it. On Postgres the credential limit is
//! shared by every instance (see [`limit_shared`]).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use axum::response::IntoResponse;
use ipnet::IpNet;
use tower_governor::GovernorError;
use tower_governor::GovernorLayer;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::KeyExtractor;

use super::extractors::client_ip;
use super::{AppError, AppState};

mod shared;

pub use shared::limit_shared;

/// How often idle per-IP buckets are dropped, so the key map cannot grow without bound.
const EVICTION_INTERVAL: Duration = Duration::from_secs(60);

/// A token bucket: `burst` requests at once, refilled by one every `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub period: Duration,
    pub burst: u32,
}

/// Largest rate or burst a setting may ask for; beyond it the limit means nothing.
const MAX_SETTING: u32 = 1_000_000;

/// A quota setting that would disable or break its limit. Refused at startup: a limit that is
/// silently not applied is an open door.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{key}: must be between 1 and {MAX_SETTING}, not {value}")]
pub struct InvalidQuota {
    pub key: &'static str,
    pub value: u32,
}

/// A setting's name and value, so errors can name the key.
pub type Setting = (&'static str, u32);

impl Quota {
    /// `rate` requests per `window` sustained, with `burst` at once.
    pub fn new(rate: Setting, window: Duration, burst: Setting) -> Result<Self, InvalidQuota> {
        for (key, value) in [rate, burst] {
            if !(1..=MAX_SETTING).contains(&value) {
                return Err(InvalidQuota { key, value });
            }
        }
        Ok(Self { period: window / rate.1, burst: burst.1 })
    }

    /// The most requests one client gets through in any `window`: the burst, plus one per
    /// period that elapses after it is spent.
    pub fn most_in(self, window: Duration) -> u128 {
        u128::from(self.burst) + window.as_nanos().saturating_sub(1) / self.period.as_nanos()
    }
}

#[derive(Debug, Clone)]
struct ClientIpKey {
    trusted: Arc<[IpNet]>,
}

impl KeyExtractor for ClientIpKey {
    type Key = IpAddr;

    fn extract<T>(&self, request: &Request<T>) -> Result<IpAddr, GovernorError> {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip())
            .ok_or(GovernorError::UnableToExtractKey)?;
        Ok(bucket_key(client_ip(peer, request.headers(), &self.trusted)))
    }
}

/// The address a client is counted under: IPv4 as is, IPv6 by its /64 (IPv4-mapped IPv6
/// addresses as the IPv4 they are).
pub fn bucket_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(v6.to_bits() & !u128::from(u64::MAX))),
        },
    }
}

/// Wraps every route of `router` in a per-IP limit. Over the limit: 429 `rate_limited` with
/// `Retry-After`.
pub fn limit_per_ip(
    router: Router<AppState>,
    quota: Quota,
    trusted: Arc<[IpNet]>,
) -> anyhow::Result<Router<AppState>> {
    let config = GovernorConfigBuilder::default()
        .key_extractor(ClientIpKey { trusted })
        .period(quota.period)
        .burst_size(quota.burst)
        .finish()
        .ok_or_else(|| anyhow::anyhow!("rate limit {quota:?} is not a usable quota"))?;
    let limiter = Arc::downgrade(config.limiter());
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(EVICTION_INTERVAL);
        loop {
            ticks.tick().await;
            // Ends with the router that owns the limiter.
            let Some(limiter) = limiter.upgrade() else { break };
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    });
    Ok(router.route_layer(GovernorLayer::new(config).error_handler(rate_limited)))
}

fn rate_limited(error: GovernorError) -> Response<Body> {
    match error {
        GovernorError::TooManyRequests { wait_time, .. } => {
            AppError::RateLimited { retry_after_secs: wait_time.max(1) }.into_response()
        }
        other => AppError::Internal(anyhow::anyhow!("rate limiter: {other}")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_keyed_by_their_64_bit_prefix() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().expect("ip");
        let other: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(bucket_key(a), bucket_key(b));
        assert_ne!(bucket_key(a), bucket_key(other));
        assert_eq!(bucket_key(a).to_string(), "2001:db8:1:2::");
    }

    #[test]
    fn quotas_out_of_range_name_their_setting() {
        let minute = Duration::from_secs(60);
        let zero_rate = Quota::new(("rate_limit.auth_per_minute", 0), minute, ("b", 10));
        assert_eq!(zero_rate, Err(InvalidQuota { key: "rate_limit.auth_per_minute", value: 0 }));
        let huge_burst = Quota::new(("r", 10), minute, ("rate_limit.auth_burst", 1_000_001));
        let error = huge_burst.expect_err("refused").to_string();
        assert!(error.starts_with("rate_limit.auth_burst: must be between 1 and"), "{error}");
    }

    #[test]
    fn the_default_credential_quota_lets_at_most_20_requests_through_in_any_minute() {
        let minute = Duration::from_secs(60);
        let settings = crate::core::config::Settings::from_figment(
            &crate::core::config::Settings::figment(std::path::Path::new("/nonexistent.toml")),
        )
        .expect("default settings");
        let [auth_rate, auth_burst, ..] = settings.rate_limit.named();
        let quota = Quota::new(auth_rate, minute, auth_burst).expect("default quota");
        assert!(quota.most_in(minute) <= 20, "{quota:?} lets {} through", quota.most_in(minute));
    }

    #[test]
    fn ipv4_and_mapped_ipv4_are_the_same_client() {
        let v4: IpAddr = "203.0.113.7".parse().expect("ip");
        let mapped: IpAddr = "::ffff:203.0.113.7".parse().expect("ip");
        assert_eq!(bucket_key(v4), v4);
        assert_eq!(bucket_key(mapped), v4);
    }
}
