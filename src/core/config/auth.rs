//! `auth.*`: token issuer and audience, token lifetimes and signing keys.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Problems;

/// Longest refresh-session lifetime accepted: ten years. Far below anything that could overflow
/// a timestamp computation, far above any sane policy.
pub const MAX_SESSION_TTL_SECS: u64 = 10 * 365 * 86_400;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub issuer: String,
    pub audience: String,
    pub access_token_ttl_secs: u64,
    /// A refresh token unused for this long expires.
    pub refresh_idle_ttl_secs: u64,
    /// No session outlives this, however often it is refreshed.
    pub refresh_absolute_ttl_secs: u64,
    /// A rotated refresh token presented again within this many seconds gets the same
    /// successor (two tabs racing); later, it revokes the whole session as stolen.
    pub refresh_reuse_grace_secs: u64,
    /// PKCS#8 PEM Ed25519 private key. Unset in development: generated under `data_dir/keys/`.
    pub signing_key_file: Option<PathBuf>,
    /// Older keys (public or private PEM) still accepted and published in the JWKS.
    pub verification_key_files: Vec<PathBuf>,
    /// Signin with the right password but an unverified address answers 403.
    pub require_verified_email: bool,
    /// Browsers on an allowlisted origin get the refresh token as an `HttpOnly` cookie instead
    /// of in the body, out of reach of the page's scripts.
    pub refresh_cookie: bool,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            issuer: "http://localhost:8000".to_owned(),
            audience: "warren".to_owned(),
            access_token_ttl_secs: 900,
            refresh_idle_ttl_secs: 1_209_600,
            refresh_absolute_ttl_secs: 2_592_000,
            refresh_reuse_grace_secs: 10,
            signing_key_file: None,
            verification_key_files: Vec::new(),
            require_verified_email: false,
            refresh_cookie: false,
        }
    }
}

impl AuthSettings {
    /// Longest access-token lifetime accepted at all; tokens claiming more are forged or stale.
    pub const MAX_ACCESS_TOKEN_TTL_SECS: u64 = 86_400;

    pub(super) fn validate(&self, production: bool, problems: &mut Problems) {
        if self.issuer.trim().is_empty() {
            problems.refuse("auth.issuer", "must not be empty");
        }
        if self.audience.trim().is_empty() {
            problems.refuse("auth.audience", "must not be empty");
        }
        let max_access = Self::MAX_ACCESS_TOKEN_TTL_SECS;
        problems.within("auth.access_token_ttl_secs", self.access_token_ttl_secs, 60, max_access);
        let absolute = self.refresh_absolute_ttl_secs;
        problems.within("auth.refresh_absolute_ttl_secs", absolute, 60, MAX_SESSION_TTL_SECS);
        if !(60..=absolute.max(60)).contains(&self.refresh_idle_ttl_secs) {
            problems.refuse(
                "auth.refresh_idle_ttl_secs",
                "must be at least 60 and at most auth.refresh_absolute_ttl_secs",
            );
        }
        problems.within("auth.refresh_reuse_grace_secs", self.refresh_reuse_grace_secs, 0, 60);
        if production {
            self.production_problems(problems);
        }
    }

    /// Development conveniences that would be unsafe on the internet.
    fn production_problems(&self, problems: &mut Problems) {
        if self.signing_key_file.is_none() {
            problems.refuse(
                "auth.signing_key_file",
                "production needs a configured key (generated keys are for development)",
            );
        }
        if self.issuer.starts_with("http://") {
            problems.refuse("auth.issuer", "production needs an https:// issuer, not http://");
        }
        if is_loopback_url(&self.issuer) {
            problems.refuse(
                "auth.issuer",
                "production needs the public URL of this service, not localhost",
            );
        }
    }
}

/// Whether a URL's host is `localhost`, `127.0.0.1` or `::1` (any port, path or case).
pub(super) fn is_loopback_url(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = if let Some(bracketed) = host_port.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    let host = host.to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost") || host == "127.0.0.1" || host == "::1"
}
