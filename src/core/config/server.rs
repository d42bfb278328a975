//! `server.*`: where Warren listens and how long a request may run.

use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};

use super::Problems;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: IpAddr,
    pub port: u16,
    /// Whole-request deadline; a slower request is answered 408.
    pub request_timeout_secs: u64,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self { host: IpAddr::V4(Ipv4Addr::LOCALHOST), port: 8000, request_timeout_secs: 10 }
    }
}

impl ServerSettings {
    pub(super) fn validate(&self, problems: &mut Problems) {
        problems.within("server.request_timeout_secs", self.request_timeout_secs, 1, 3600);
    }
}
