//! `server.*`: where Warren listens, how long a request may run, and where metrics are served.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use serde::{Deserialize, Serialize};

use super::Problems;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: IpAddr,
    pub port: u16,
    /// Whole-request deadline; a slower request is answered 408.
    pub request_timeout_secs: u64,
    /// Where Prometheus text is served at `/metrics`, on its own listener; unset: no metrics.
    pub metrics_addr: Option<SocketAddr>,
    /// Lets production serve metrics on an address that is neither loopback nor private.
    pub metrics_public: bool,
    /// A request head (request line and headers) must arrive whole within this, counted from
    /// when the connection is ready for one: slow or idle connections are closed.
    pub header_read_timeout_secs: u64,
    /// Open HTTP connections in all; a connection beyond it is closed at once.
    pub max_connections: u32,
    /// Open HTTP connections from one client address (IPv6: its /64); trusted proxies are
    /// counted only in the total.
    pub max_connections_per_client: u32,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8000,
            request_timeout_secs: 10,
            metrics_addr: None,
            metrics_public: false,
            header_read_timeout_secs: 10,
            max_connections: 4096,
            max_connections_per_client: 1024,
        }
    }
}

impl ServerSettings {
    pub(super) fn validate(&self, production: bool, problems: &mut Problems) {
        problems.within("server.request_timeout_secs", self.request_timeout_secs, 1, 3600);
        problems.within("server.header_read_timeout_secs", self.header_read_timeout_secs, 1, 300);
        problems.within("server.max_connections", u64::from(self.max_connections), 1, 1_000_000);
        let per_client = u64::from(self.max_connections_per_client);
        problems.within("server.max_connections_per_client", per_client, 1, 1_000_000);
        if let Some(address) = self.metrics_addr
            && production
            && !self.metrics_public
            && !is_internal(address.ip())
        {
            problems.refuse(
                "server.metrics_addr",
                &format!(
                    "{address} is reachable from outside (not loopback or a private range); \
                     metrics name routes and load, so production refuses that unless \
                     server.metrics_public = true"
                ),
            );
        }
    }
}

/// Loopback or a private range (RFC 1918, IPv6 unique local): only the host or its own
/// network can scrape. The wildcard address listens on every interface, so it is not.
fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_internal(IpAddr::V4(v4)),
            None => v6.is_loopback() || v6.is_unique_local(),
        },
    }
}
