//! `rate_limit.*`: per-IP request limits. The per-account signin backoff is separate and always on.

use serde::{Deserialize, Serialize};

use super::Problems;

/// The largest rate or burst accepted; beyond it a limit is no limit, and periods round to zero.
const MAX_RATE: u64 = 1_000_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Off only for benchmarks and tests that measure throughput.
    pub enabled: bool,
    /// Sustained signup/signin/refresh requests per minute per client.
    pub auth_per_minute: u32,
    pub auth_burst: u32,
    /// Sustained API requests per second per client.
    pub general_per_second: u32,
    pub general_burst: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            auth_per_minute: 10,
            auth_burst: 10,
            general_per_second: 20,
            general_burst: 60,
        }
    }
}

impl RateLimitSettings {
    /// Every rate and burst with its key, so a bad one is reported by name.
    pub fn named(&self) -> [(&'static str, u32); 4] {
        [
            ("rate_limit.auth_per_minute", self.auth_per_minute),
            ("rate_limit.auth_burst", self.auth_burst),
            ("rate_limit.general_per_second", self.general_per_second),
            ("rate_limit.general_burst", self.general_burst),
        ]
    }

    pub(super) fn validate(&self, production: bool, problems: &mut Problems) {
        for (key, value) in self.named() {
            problems.within(key, value.into(), 1, MAX_RATE);
        }
        if production && !self.enabled {
            problems.refuse(
                "rate_limit.enabled",
                "production needs the per-IP rate limits (turn them off only for benchmarks)",
            );
        }
    }
}
