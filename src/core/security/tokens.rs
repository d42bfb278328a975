//! Access tokens: JWTs signed with EdDSA or ES256 (`typ: at+jwt`, RFC 9068) that other
//! services verify offline against the JWKS. Verification here is strict: the algorithm pinned
//! by the key, every claim required, bounded leeway, and lifetimes no longer than this service
//! ever issues. The claims and their rules are `warren-verifier`'s, the crate other Rust
//! services verify with, so both sides always agree on what a token says.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use jsonwebtoken::{Algorithm, Header, Validation};
use time::OffsetDateTime;
use uuid::Uuid;
pub use warren_verifier::{ACCESS_TOKEN_TYPE, LEEWAY_SECS};
use warren_verifier::{Rejection, SIGNING_ALGORITHMS, is_expired};

use super::KeyRing;
use crate::domain::{Amr, SessionId, UserId};

/// The claims of every access token Warren issues; all are required when verifying.
pub type AccessTokenClaims = warren_verifier::WarrenClaims;

#[derive(Debug, Clone)]
pub struct IssuedAccessToken {
    pub token: String,
    /// Seconds until expiry, as OAuth's `expires_in`.
    pub expires_in: u64,
}

/// Why a token was refused. Never shown to clients beyond "unauthenticated"; logged at debug.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token is malformed")]
    Malformed,
    #[error("token is not an access token")]
    WrongType,
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
    #[error("token could not be signed: {0}")]
    Signing(String),
}

impl From<Rejection> for TokenError {
    fn from(rejection: Rejection) -> Self {
        match rejection {
            Rejection::Malformed => Self::Malformed,
            Rejection::NotAnAccessToken => Self::WrongType,
            Rejection::UnknownKey => Self::UnknownKey,
            Rejection::Invalid(reason) => Self::Invalid(reason),
            Rejection::Expired => Self::Expired,
            Rejection::NotYetValid => Self::NotYetValid,
            Rejection::IssuedInFuture => Self::IssuedInFuture,
            Rejection::LifetimeTooLong => Self::LifetimeTooLong,
        }
    }
}

#[derive(Debug)]
pub struct AccessTokens {
    keys: Arc<KeyRing>,
    issuer: String,
    audience: String,
    ttl_secs: i64,
    /// One validation per algorithm; the key a token names picks it, never the token.
    validations: Vec<(Algorithm, Validation)>,
    verified: VerifiedTokens,
}

/// Tokens whose signature and claims already passed verification, so a client presenting the
/// same token again skips the Ed25519 check (a fifth of the CPU of an authenticated request).
/// Keyed by the whole token string: equality, not a hash, decides a hit, so no crafted token
/// can collide with a verified one. Time claims are re-checked on every hit.
///
/// `quick_cache` bounds it and evicts the coldest entries when full (rather than dropping
/// everything). An entry never outlives its token: a hit past `exp` removes it, and expired
/// entries are swept out at most every [`LEEWAY_SECS`] on insert.
struct VerifiedTokens {
    cache: quick_cache::sync::Cache<Box<str>, AccessTokenClaims>,
    /// Unix time of the next sweep for expired entries.
    next_sweep: AtomicI64,
}

impl std::fmt::Debug for VerifiedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedTokens").field("len", &self.cache.len()).finish_non_exhaustive()
    }
}

impl Default for VerifiedTokens {
    fn default() -> Self {
        Self { cache: quick_cache::sync::Cache::new(Self::CAPACITY), next_sweep: AtomicI64::new(0) }
    }
}

impl VerifiedTokens {
    /// Bounds memory to roughly this many tokens (~0.5 KiB each).
    const CAPACITY: usize = 4096;

    fn get(&self, token: &str, now: i64) -> Option<AccessTokenClaims> {
        let claims = self.cache.get(token)?;
        if is_expired(&claims, now) {
            self.cache.remove(token);
        }
        Some(claims)
    }

    fn insert(&self, token: &str, claims: &AccessTokenClaims, now: i64) {
        let next_sweep = self.next_sweep.load(Ordering::Relaxed);
        if now >= next_sweep
            && self
                .next_sweep
                .compare_exchange(
                    next_sweep,
                    now + LEEWAY_SECS,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            self.cache.retain(|_, cached| !is_expired(cached, now));
        }
        self.cache.insert(token.into(), claims.clone());
    }
}

impl AccessTokens {
    pub fn new(keys: Arc<KeyRing>, issuer: &str, audience: &str, ttl_secs: u64) -> Self {
        // Times are checked below against the injected clock, with the shared leeway rules.
        let validations = SIGNING_ALGORITHMS
            .iter()
            .map(|&alg| (alg, warren_verifier::validation(alg, issuer, audience)))
            .collect();
        Self {
            keys,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl_secs: i64::try_from(ttl_secs).unwrap_or(i64::MAX),
            validations,
            verified: VerifiedTokens::default(),
        }
    }

    pub fn issue(
        &self,
        user: UserId,
        session: SessionId,
        token_version: i64,
        amr: Amr,
        now: OffsetDateTime,
    ) -> Result<IssuedAccessToken, TokenError> {
        let iat = now.unix_timestamp();
        let claims = AccessTokenClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user.as_uuid(),
            iat,
            nbf: iat,
            exp: iat + self.ttl_secs,
            jti: Uuid::now_v7(),
            sid: session.as_uuid(),
            ver: token_version,
            amr: amr.methods().iter().map(|&method| method.to_owned()).collect(),
        };
        let mut header = Header::new(self.keys.signing_algorithm().jws());
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        header.kid = Some(self.keys.signing_kid().to_owned());
        let token = jsonwebtoken::encode(&header, &claims, self.keys.signing_key())
            .map_err(|e| TokenError::Signing(e.to_string()))?;
        Ok(IssuedAccessToken { token, expires_in: self.ttl_secs.unsigned_abs() })
    }

    pub fn verify(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<AccessTokenClaims, TokenError> {
        let now = now.unix_timestamp();
        let cached = self.verified.get(token, now);
        crate::core::metrics::token_cache_lookup(cached.is_some());
        if let Some(claims) = cached {
            check_times(&claims, now, self.ttl_secs)?;
            return Ok(claims);
        }
        let claims = self.verify_uncached(token, now)?;
        self.verified.insert(token, &claims, now);
        Ok(claims)
    }

    fn verify_uncached(&self, token: &str, now: i64) -> Result<AccessTokenClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.typ.as_deref() != Some(ACCESS_TOKEN_TYPE) {
            return Err(TokenError::WrongType);
        }
        let (key, algorithm) = header
            .kid
            .as_deref()
            .and_then(|kid| self.keys.decoding_key(kid))
            .ok_or(TokenError::UnknownKey)?;
        // A token naming another algorithm than its key's is refused before any crypto.
        let validation = self
            .validations
            .iter()
            .find(|(alg, _)| *alg == algorithm && *alg == header.alg)
            .map(|(_, validation)| validation)
            .ok_or_else(|| TokenError::Invalid("algorithm does not match the key".to_owned()))?;
        let claims = jsonwebtoken::decode::<AccessTokenClaims>(token, key, validation)
            .map_err(|e| TokenError::Invalid(e.to_string()))?
            .claims;
        check_times(&claims, now, self.ttl_secs)?;
        Ok(claims)
    }
}

fn check_times(claims: &AccessTokenClaims, now: i64, max_lifetime: i64) -> Result<(), TokenError> {
    Ok(warren_verifier::check_times(claims, now, max_lifetime)?)
}

#[cfg(test)]
mod tests;
