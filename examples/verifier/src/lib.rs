//! `warren-verifier`: how a Rust service trusts Warren's access tokens without calling Warren
//! per request.
//!
//! [`WarrenVerifier`] checks a token offline against a cached copy of Warren's JWKS, with the
//! same rules Warren applies minus the database-backed ones (token version, session state):
//! the algorithm is pinned to `EdDSA`, the header `typ` must be `at+jwt`, the `kid` must be a
//! published key, every claim Warren issues is required, `iss` and `aud` must match, `exp` and
//! `nbf` hold with 30 s of leeway, an `iat` in the future is refused and so is a lifetime
//! (`exp - iat`) over the configured maximum.
//!
//! Keys are cached. An unknown `kid` triggers a refetch at most once per
//! [`VerifierConfig::min_refetch_interval`], so forged kids cannot make a service hammer
//! Warren; while Warren is down the cached keys keep working. No lock is held during the HTTP
//! fetch: verifications with known keys never wait for it.
//!
//! ```no_run
//! # async fn demo(token: &str) -> Result<(), warren_verifier::Rejection> {
//! use warren_verifier::{VerifierConfig, WarrenVerifier};
//! let verifier = WarrenVerifier::new(VerifierConfig::new(
//!     "http://127.0.0.1:8000",
//!     "http://localhost:8000",
//!     "warren",
//! ));
//! let claims = verifier.verify(token).await?;
//! println!("user {}", claims.sub);
//! # Ok(()) }
//! ```

mod keys;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use keys::KeyCache;

/// The media type of a Warren access token (RFC 9068), carried in the JWT header.
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// Clock skew tolerated between Warren and this service, as Warren tolerates it.
pub const LEEWAY_SECS: i64 = 30;

/// Every claim of a Warren access token; a token lacking any of them is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarrenClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: Uuid,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: Uuid,
    /// The Warren session the token was issued for.
    pub sid: Uuid,
    /// The user's token version at issue; only Warren can check it against the database.
    pub ver: i64,
    /// How the signin behind the session was authenticated (RFC 8176): `["pwd"]`, or
    /// `["pwd", "otp"]` after a second factor. Check it before actions that need one.
    pub amr: Vec<String>,
}

/// Why a token was refused. Services should answer every variant with the same 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("token is malformed")]
    Malformed,
    #[error("token is not a Warren access token")]
    NotAnAccessToken,
    #[error("token was signed by an unknown key")]
    UnknownKey,
    #[error("token signature or claims are invalid: {0}")]
    Invalid(String),
    #[error("token has expired")]
    Expired,
    #[error("token is not valid yet")]
    NotYetValid,
    #[error("token claims to be issued in the future")]
    IssuedInFuture,
    #[error("token lifetime exceeds the maximum")]
    LifetimeTooLong,
}

/// Where Warren is and what its tokens must say.
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// Warren's JWKS document, usually `<warren>/.well-known/jwks.json`.
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
    validation: Validation,
    max_lifetime_secs: i64,
    keys: KeyCache,
}

impl WarrenVerifier {
    pub fn new(config: VerifierConfig) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        // Times are checked in `check_times` with Warren's exact rules.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        let max_lifetime_secs = i64::try_from(config.max_lifetime.as_secs()).unwrap_or(i64::MAX);
        Self { validation, max_lifetime_secs, keys: KeyCache::new(config) }
    }

    /// Verifies `token` now.
    pub async fn verify(&self, token: &str) -> Result<WarrenClaims, Rejection> {
        self.verify_at(token, unix_now()).await
    }

    /// Verifies `token` as of `now` (Unix seconds).
    pub async fn verify_at(&self, token: &str, now: i64) -> Result<WarrenClaims, Rejection> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| Rejection::Malformed)?;
        if header.alg != Algorithm::EdDSA || header.typ.as_deref() != Some(ACCESS_TOKEN_TYPE) {
            return Err(Rejection::NotAnAccessToken);
        }
        let kid = header.kid.ok_or(Rejection::UnknownKey)?;
        let key = self.keys.key(&kid).await.ok_or(Rejection::UnknownKey)?;
        let claims = jsonwebtoken::decode::<WarrenClaims>(token, &key, &self.validation)
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

/// Warren's time rules: `exp` and `nbf` with leeway, no `iat` from the future, bounded lifetime.
pub fn check_times(claims: &WarrenClaims, now: i64, max_lifetime: i64) -> Result<(), Rejection> {
    if now >= claims.exp.saturating_add(LEEWAY_SECS) {
        return Err(Rejection::Expired);
    }
    if now.saturating_add(LEEWAY_SECS) < claims.nbf {
        return Err(Rejection::NotYetValid);
    }
    if claims.iat > now.saturating_add(LEEWAY_SECS) {
        return Err(Rejection::IssuedInFuture);
    }
    if claims.exp.saturating_sub(claims.iat) > max_lifetime {
        return Err(Rejection::LifetimeTooLong);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(iat: i64, lifetime: i64) -> WarrenClaims {
        WarrenClaims {
            iss: "i".into(),
            aud: "a".into(),
            sub: Uuid::nil(),
            iat,
            nbf: iat,
            exp: iat + lifetime,
            jti: Uuid::nil(),
            sid: Uuid::nil(),
            ver: 1,
            amr: vec!["pwd".to_owned()],
        }
    }

    #[test]
    fn expiry_allows_thirty_seconds_of_leeway_and_no_more() {
        let c = claims(1_000, 900);
        assert_eq!(check_times(&c, 1_900 + 29, 900), Ok(()));
        assert_eq!(check_times(&c, 1_900 + 30, 900), Err(Rejection::Expired));
    }

    #[test]
    fn tokens_not_yet_valid_or_issued_in_the_future_are_refused() {
        let mut c = claims(2_000, 900);
        assert_eq!(check_times(&c, 1_000, 900), Err(Rejection::NotYetValid));
        c.nbf = 1_000;
        assert_eq!(check_times(&c, 1_000, 900), Err(Rejection::IssuedInFuture));
        assert_eq!(check_times(&c, 2_000 - 30, 900), Ok(()), "30 s of skew is tolerated");
    }

    #[test]
    fn lifetimes_over_the_maximum_are_refused() {
        assert_eq!(check_times(&claims(1_000, 901), 1_000, 900), Err(Rejection::LifetimeTooLong));
        assert_eq!(check_times(&claims(1_000, 900), 1_000, 900), Ok(()));
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        let c = claims(i64::MIN, 0);
        assert!(check_times(&c, i64::MAX, i64::MAX).is_err());
    }

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
