//! [`WarrenVerifier`]: Warren's rules applied offline, with keys from a cached JWKS.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, Validation};

use crate::keys::KeyCache;
use crate::{ACCESS_TOKEN_TYPE, Rejection, SIGNING_ALGORITHMS, WarrenClaims, check_times};

/// Where Warren is and what its tokens must say.
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// Warren's JWKS document, usually `<warren>/.well-known/jwks.json` (the `jwks_uri` of
    /// `<issuer>/.well-known/openid-configuration`).
    pub jwks_url: String,
    pub issuer: String,
    pub audience: String,
    /// The fewest seconds between two JWKS fetches triggered by unknown key ids.
    pub min_refetch_interval: Duration,
    /// The longest `exp - iat` accepted; Warren's default access-token lifetime is 15 min.
    pub max_lifetime: Duration,
    /// How long one JWKS fetch may take.
    pub fetch_timeout: Duration,
}

impl VerifierConfig {
    /// Defaults for a Warren at `warren_url`: refetch at most every 5 s, 15 min lifetimes.
    pub fn new(warren_url: &str, issuer: &str, audience: &str) -> Self {
        Self {
            jwks_url: format!("{}/.well-known/jwks.json", warren_url.trim_end_matches('/')),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            min_refetch_interval: Duration::from_secs(5),
            max_lifetime: Duration::from_secs(900),
            fetch_timeout: Duration::from_secs(3),
        }
    }
}

/// Verifies Warren access tokens against a cached copy of Warren's JWKS.
pub struct WarrenVerifier {
    /// One validation per algorithm Warren signs with, chosen by the key, never by the token.
    validations: Vec<(Algorithm, Validation)>,
    max_lifetime_secs: i64,
    keys: KeyCache,
}

impl WarrenVerifier {
    pub fn new(config: VerifierConfig) -> Self {
        let validations = SIGNING_ALGORITHMS
            .iter()
            .map(|&alg| (alg, crate::validation(alg, &config.issuer, &config.audience)))
            .collect();
        let max_lifetime_secs = i64::try_from(config.max_lifetime.as_secs()).unwrap_or(i64::MAX);
        Self { validations, max_lifetime_secs, keys: KeyCache::new(config) }
    }

    /// Verifies `token` now.
    pub async fn verify(&self, token: &str) -> Result<WarrenClaims, Rejection> {
        self.verify_at(token, unix_now()).await
    }

    /// Verifies `token` as of `now` (Unix seconds).
    pub async fn verify_at(&self, token: &str, now: i64) -> Result<WarrenClaims, Rejection> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| Rejection::Malformed)?;
        if !SIGNING_ALGORITHMS.contains(&header.alg)
            || header.typ.as_deref() != Some(ACCESS_TOKEN_TYPE)
        {
            return Err(Rejection::NotAnAccessToken);
        }
        let kid = header.kid.ok_or(Rejection::UnknownKey)?;
        let (key, algorithm) = self.keys.key(&kid).await.ok_or(Rejection::UnknownKey)?;
        // The key decides the algorithm: a token naming another one is refused outright.
        let validation = self
            .validations
            .iter()
            .find(|(alg, _)| *alg == algorithm && *alg == header.alg)
            .map(|(_, validation)| validation)
            .ok_or_else(|| Rejection::Invalid("algorithm does not match the key".to_owned()))?;
        let claims = jsonwebtoken::decode::<WarrenClaims>(token, &key, validation)
            .map_err(|e| Rejection::Invalid(e.to_string()))?
            .claims;
        check_times(&claims, now, self.max_lifetime_secs)?;
        Ok(claims)
    }

    /// Fetches the JWKS now (e.g. at startup), unless fetched within the minimum interval.
    pub async fn prefetch(&self) {
        self.keys.refetch().await;
    }

    /// How many times the JWKS was fetched (for tests and metrics).
    pub fn fetch_count(&self) -> usize {
        self.keys.fetch_count()
    }
}

fn unix_now() -> i64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn garbage_and_foreign_headers_are_refused_without_fetching() {
        let verifier = WarrenVerifier::new(VerifierConfig::new("http://127.0.0.1:9", "i", "a"));
        assert_eq!(verifier.verify("not a token").await, Err(Rejection::Malformed));
        // {"alg":"HS256","typ":"at+jwt","kid":"k"} . {} . sig
        let hs = "eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6ImsifQ.e30.c2ln";
        assert_eq!(verifier.verify(hs).await, Err(Rejection::NotAnAccessToken));
        assert_eq!(verifier.fetch_count(), 0);
    }
}
