//! `auth.*`: token issuer and audience, token lifetimes, signing algorithm and keys.

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
    /// What access tokens are signed with: `EdDSA` (Ed25519) or `ES256` (P-256).
    pub signing_algorithm: SigningAlgorithm,
    /// PKCS#8 PEM private key of the signing algorithm's kind. Unset in development:
    /// generated under `data_dir/keys/`.
    pub signing_key_file: Option<PathBuf>,
    /// Older keys (public or private PEM, Ed25519 or P-256) still accepted and published in
    /// the JWKS, each with its own algorithm.
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
            signing_algorithm: SigningAlgorithm::default(),
            signing_key_file: None,
            verification_key_files: Vec::new(),
            require_verified_email: false,
            refresh_cookie: false,
        }
    }
}

/// The JWS algorithm access tokens are signed with. Switching is a key rotation: the old key
/// stays in `auth.verification_key_files` until its tokens have expired.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SigningAlgorithm {
    /// Ed25519 (RFC 8037).
    #[default]
    EdDSA,
    /// ECDSA on P-256 with SHA-256 (RFC 7518), for ecosystems whose JWT libraries lack EdDSA.
    ES256,
}

impl SigningAlgorithm {
    /// The name used in configuration, JWS headers and JWKs.
    pub fn name(self) -> &'static str {
        match self {
            Self::EdDSA => "EdDSA",
            Self::ES256 => "ES256",
        }
    }
}

impl std::fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for SigningAlgorithm {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "EdDSA" => Ok(Self::EdDSA),
            "ES256" => Ok(Self::ES256),
            other => Err(format!("unknown signing algorithm {other:?}; use EdDSA or ES256")),
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

#[cfg(test)]
// figment::Jail's closures return its own large error.
#[allow(clippy::result_large_err)]
mod tests {
    use figment::Jail;

    use super::SigningAlgorithm;
    use crate::core::config::Settings;

    fn load(jail: &Jail) -> Result<Settings, crate::core::config::ConfigError> {
        Settings::from_figment(&Settings::figment(&jail.directory().join("warren.toml")))
    }

    #[test]
    fn the_signing_algorithm_is_eddsa_unless_es256_is_chosen() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            assert_eq!(
                load(jail).expect("defaults").auth.signing_algorithm,
                SigningAlgorithm::EdDSA
            );
            jail.set_env("WARREN_AUTH__SIGNING_ALGORITHM", "ES256");
            assert_eq!(load(jail).expect("ES256").auth.signing_algorithm, SigningAlgorithm::ES256);
            jail.set_env("WARREN_AUTH__SIGNING_ALGORITHM", "RS256");
            let message = load(jail).expect_err("RS256 is not offered").to_string();
            assert!(message.contains("WARREN_AUTH__SIGNING_ALGORITHM"), "{message}");
            Ok(())
        });
    }

    #[test]
    fn production_refuses_a_generated_es256_key_as_it_does_an_ed25519_one() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("WARREN_ENV", "production");
            jail.set_env("WARREN_AUTH__SIGNING_ALGORITHM", "ES256");
            let message = load(jail).expect_err("no key configured").to_string();
            assert!(message.contains("auth.signing_key_file"), "{message}");
            Ok(())
        });
    }
}
