//! Per-IP rate limits (tower-governor): a general limit on the whole API and a stricter one
//! on the credential endpoints. Keys are client IPs as `extractors::client_ip` resolves them
//! (trusted proxies honoured), with IPv6 clients keyed by their /64, since one host usually
//! owns a whole /64 and could otherwise rotate through it.

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

/// How often idle per-IP buckets are dropped, so the key map cannot grow without bound.
const EVICTION_INTERVAL: Duration = Duration::from_secs(60);

/// A token bucket: `burst` requests at once, refilled by one every `period`.
#[derive(Debug, Clone, Copy)]
pub struct Quota {
    pub period: Duration,
    pub burst: u32,
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
) -> Router<AppState> {
    let Some(config) = GovernorConfigBuilder::default()
        .key_extractor(ClientIpKey { trusted })
        .period(quota.period)
        .burst_size(quota.burst)
        .finish()
    else {
        // Settings validation guarantees a non-zero period and burst.
        tracing::error!(?quota, "invalid rate limit quota; limit not applied");
        return router;
    };
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
    router.route_layer(GovernorLayer::new(config).error_handler(rate_limited))
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
    fn ipv4_and_mapped_ipv4_are_the_same_client() {
        let v4: IpAddr = "203.0.113.7".parse().expect("ip");
        let mapped: IpAddr = "::ffff:203.0.113.7".parse().expect("ip");
        assert_eq!(bucket_key(v4), v4);
        assert_eq!(bucket_key(mapped), v4);
    }
}
