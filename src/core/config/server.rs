//! `server.*`: where Warren listens, how long a request may run, and where metrics are served.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use serde::{Deserialize, Serialize};

use super::Problems;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: IpAddr,
    pub port: u16,
    /// The absolute base URL browsers and services reach this service at. Absolute URLs
    /// Warren publishes (discovery's `jwks_uri` and endpoints) are built from it, never from
    /// a request's `Host` header, which a client chooses.
    pub public_url: String,
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
            public_url: "http://localhost:8000".to_owned(),
            request_timeout_secs: 10,
            metrics_addr: None,
            metrics_public: false,
            header_read_timeout_secs: 10,
            max_connections: 4096,
            max_connections_per_client: 256,
        }
    }
}

impl ServerSettings {
    pub(super) fn validate(&self, production: bool, problems: &mut Problems) {
        if let Err(problem) = check_public_url(&self.public_url, production) {
            problems.refuse("server.public_url", &problem);
        }
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

/// An absolute `http(s)://host[:port][/path]` URL with no query, fragment or credentials, and
/// `https` in production. A trailing `/` is tolerated (it is trimmed where URLs are built).
fn check_public_url(url: &str, production: bool) -> Result<(), String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err("must be an absolute URL such as https://auth.example.com".to_owned());
    };
    if scheme != "https" && scheme != "http" {
        return Err(format!("must be an http:// or https:// URL, not {scheme}://"));
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return Err("must name a host (and no user or password)".to_owned());
    }
    if url.contains(['?', '#']) || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain a query, a fragment or whitespace".to_owned());
    }
    if production && scheme != "https" {
        return Err("production needs an https:// URL".to_owned());
    }
    Ok(())
}

impl ServerSettings {
    /// `public_url` without a trailing `/`, to append absolute paths to.
    pub fn public_base(&self) -> &str {
        self.public_url.trim_end_matches('/')
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

#[cfg(test)]
mod tests {
    use super::check_public_url;

    #[test]
    fn the_public_url_must_be_an_absolute_http_url_without_query_or_fragment() {
        for good in ["http://localhost:8000", "https://auth.example.com/", "https://h.test/warren"]
        {
            assert_eq!(check_public_url(good, false), Ok(()), "{good}");
        }
        for bad in [
            "auth.example.com",
            "/warren",
            "ftp://auth.example.com",
            "https://",
            "https://user:pw@auth.example.com",
            "https://auth.example.com/?x=1",
            "https://auth.example.com/#top",
            "https://auth example.com",
        ] {
            assert!(check_public_url(bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn production_needs_an_https_public_url() {
        assert!(check_public_url("http://auth.example.com", true).is_err());
        assert_eq!(check_public_url("https://auth.example.com", true), Ok(()));
    }
}
