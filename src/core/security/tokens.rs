//! Access tokens: EdDSA-signed JWTs (`typ: at+jwt`, RFC 9068) that other services verify
//! offline against the JWKS. Verification here is strict: pinned algorithm, every claim
//! required, bounded leeway, and lifetimes no longer than this service ever issues.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::KeyRing;
use crate::domain::{SessionId, UserId};

/// The media type of an access token (RFC 9068), carried in the JWT header.
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// Clock skew tolerated between this service and its peers.
pub const LEEWAY_SECS: i64 = 30;

/// The claims of every access token Warren issues; all are required when verifying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: Uuid,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: Uuid,
    /// The session the token was issued for.
    pub sid: Uuid,
    /// The user's token version when issued; stale versions are refused here.
    pub ver: i64,
}

impl AccessTokenClaims {
    pub fn user_id(&self) -> UserId {
        UserId::from_uuid(self.sub)
    }

    pub fn session_id(&self) -> SessionId {
        SessionId::from_uuid(self.sid)
    }
}

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

#[derive(Debug)]
pub struct AccessTokens {
    keys: Arc<KeyRing>,
    issuer: String,
    audience: String,
    ttl_secs: i64,
    validation: Validation,
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

fn is_expired(claims: &AccessTokenClaims, now: i64) -> bool {
    now >= claims.exp.saturating_add(LEEWAY_SECS)
}

impl AccessTokens {
    pub fn new(keys: Arc<KeyRing>, issuer: &str, audience: &str, ttl_secs: u64) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        // Time is checked below against the injected clock, with our own leeway.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        Self {
            keys,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl_secs: i64::try_from(ttl_secs).unwrap_or(i64::MAX),
            validation,
            verified: VerifiedTokens::default(),
        }
    }

    pub fn issue(
        &self,
        user: UserId,
        session: SessionId,
        token_version: i64,
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
        };
        let mut header = Header::new(Algorithm::EdDSA);
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
        if let Some(claims) = self.verified.get(token, now) {
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
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.keys.decoding_key(kid))
            .ok_or(TokenError::UnknownKey)?;
        let claims = jsonwebtoken::decode::<AccessTokenClaims>(token, key, &self.validation)
            .map_err(|e| TokenError::Invalid(e.to_string()))?
            .claims;
        check_times(&claims, now, self.ttl_secs)?;
        Ok(claims)
    }
}

fn check_times(claims: &AccessTokenClaims, now: i64, max_lifetime: i64) -> Result<(), TokenError> {
    if is_expired(claims, now) {
        return Err(TokenError::Expired);
    }
    if now.saturating_add(LEEWAY_SECS) < claims.nbf {
        return Err(TokenError::NotYetValid);
    }
    if claims.iat > now.saturating_add(LEEWAY_SECS) {
        return Err(TokenError::IssuedInFuture);
    }
    if claims.exp.saturating_sub(claims.iat) > max_lifetime {
        return Err(TokenError::LifetimeTooLong);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::security::keys::tests::generated_ring;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use time::Duration;

    struct Fixture {
        _dir: tempfile::TempDir,
        tokens: AccessTokens,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let ring = Arc::new(generated_ring(dir.path()));
        let tokens = AccessTokens::new(ring, "https://warren.test", "warren", 900);
        Fixture { _dir: dir, tokens }
    }

    fn issue(tokens: &AccessTokens, now: OffsetDateTime) -> String {
        tokens.issue(UserId::generate(), SessionId::generate(), 3, now).expect("issue").token
    }

    /// Re-signs `claims` with the fixture's key, for tokens Warren itself would never issue.
    fn sign(tokens: &AccessTokens, header: &Header, claims: &serde_json::Value) -> String {
        jsonwebtoken::encode(header, claims, tokens.keys.signing_key()).expect("sign")
    }

    fn valid_header(tokens: &AccessTokens) -> Header {
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        header.kid = Some(tokens.keys.signing_kid().to_owned());
        header
    }

    fn claims_of(tokens: &AccessTokens, now: OffsetDateTime) -> serde_json::Value {
        let claims = tokens.verify(&issue(tokens, now), now).expect("fresh token verifies");
        serde_json::to_value(claims).expect("json")
    }

    #[test]
    fn a_fresh_token_carries_every_claim_and_verifies() {
        let Fixture { tokens, .. } = fixture();
        let now = OffsetDateTime::now_utc();
        let token = issue(&tokens, now);
        let header = jsonwebtoken::decode_header(&token).expect("header");
        assert_eq!(header.alg, Algorithm::EdDSA);
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        let claims = tokens.verify(&token, now).expect("verify");
        assert_eq!(claims.iss, "https://warren.test");
        assert_eq!(claims.aud, "warren");
        assert_eq!(claims.exp - claims.iat, 900);
        assert_eq!(claims.nbf, claims.iat);
        assert_eq!(claims.ver, 3);
    }

    #[test]
    fn expiry_allows_thirty_seconds_of_leeway_and_no_more() {
        let Fixture { tokens, .. } = fixture();
        let issued = OffsetDateTime::now_utc();
        let token = issue(&tokens, issued);
        assert!(tokens.verify(&token, issued + Duration::seconds(900 + 29)).is_ok());
        let late = tokens.verify(&token, issued + Duration::seconds(900 + 30));
        assert_eq!(late, Err(TokenError::Expired));
    }

    #[test]
    fn tokens_from_the_future_are_refused() {
        let Fixture { tokens, .. } = fixture();
        let now = OffsetDateTime::now_utc();
        let token = issue(&tokens, now + Duration::minutes(5));
        assert_eq!(tokens.verify(&token, now), Err(TokenError::NotYetValid));
        let mut claims = claims_of(&tokens, now);
        claims["iat"] = (now.unix_timestamp() + 120).into();
        let forged = sign(&tokens, &valid_header(&tokens), &claims);
        assert_eq!(tokens.verify(&forged, now), Err(TokenError::IssuedInFuture));
    }

    #[test]
    fn lifetimes_longer_than_configured_are_refused() {
        let Fixture { tokens, .. } = fixture();
        let now = OffsetDateTime::now_utc();
        let mut claims = claims_of(&tokens, now);
        claims["exp"] = (now.unix_timestamp() + 86_400).into();
        let long = sign(&tokens, &valid_header(&tokens), &claims);
        assert_eq!(tokens.verify(&long, now), Err(TokenError::LifetimeTooLong));
    }

    #[test]
    fn every_claim_is_required() {
        let Fixture { tokens, .. } = fixture();
        let now = OffsetDateTime::now_utc();
        for claim in ["iss", "aud", "sub", "iat", "nbf", "exp", "jti", "sid", "ver"] {
            let mut claims = claims_of(&tokens, now);
            claims.as_object_mut().expect("object").remove(claim);
            let token = sign(&tokens, &valid_header(&tokens), &claims);
            assert!(
                matches!(tokens.verify(&token, now), Err(TokenError::Invalid(_))),
                "missing {claim} must be refused"
            );
        }
    }

    #[test]
    fn wrong_issuer_or_audience_is_refused() {
        let Fixture { tokens, .. } = fixture();
        let now = OffsetDateTime::now_utc();
        for (claim, value) in [("iss", "https://evil.test"), ("aud", "other-service")] {
            let mut claims = claims_of(&tokens, now);
            claims[claim] = value.into();
            let token = sign(&tokens, &valid_header(&tokens), &claims);
            assert!(matches!(tokens.verify(&token, now), Err(TokenError::Invalid(_))), "{claim}");
        }
    }

    #[test]
    fn header_type_and_key_id_are_checked() {
        let Fixture { tokens, .. } = fixture();
        let now = OffsetDateTime::now_utc();
        let claims = claims_of(&tokens, now);
        let mut plain_jwt = valid_header(&tokens);
        plain_jwt.typ = Some("JWT".to_owned());
        let token = sign(&tokens, &plain_jwt, &claims);
        assert_eq!(tokens.verify(&token, now), Err(TokenError::WrongType));
        let mut unknown = valid_header(&tokens);
        unknown.kid = Some("not-a-key".to_owned());
        let token = sign(&tokens, &unknown, &claims);
        assert_eq!(tokens.verify(&token, now), Err(TokenError::UnknownKey));
    }

    #[test]
    fn tokens_signed_by_another_key_or_algorithm_are_refused() {
        let now = OffsetDateTime::now_utc();
        let ours = fixture();
        let theirs = fixture();
        let mut header = valid_header(&theirs.tokens);
        header.kid = Some(ours.tokens.keys.signing_kid().to_owned());
        let foreign = sign(&theirs.tokens, &header, &claims_of(&ours.tokens, now));
        assert!(matches!(ours.tokens.verify(&foreign, now), Err(TokenError::Invalid(_))));

        let mut hs_header = valid_header(&ours.tokens);
        hs_header.alg = Algorithm::HS256;
        let secret = jsonwebtoken::EncodingKey::from_secret(b"guessable");
        let hs =
            jsonwebtoken::encode(&hs_header, &claims_of(&ours.tokens, now), &secret).expect("sign");
        assert!(matches!(ours.tokens.verify(&hs, now), Err(TokenError::Invalid(_))));
    }

    #[test]
    fn a_cached_token_is_still_refused_once_it_expires() {
        let Fixture { tokens, .. } = fixture();
        let issued = OffsetDateTime::now_utc();
        let token = issue(&tokens, issued);
        assert!(tokens.verify(&token, issued).is_ok(), "verified and cached");
        let later = tokens.verify(&token, issued + Duration::seconds(900 + 30));
        assert_eq!(later, Err(TokenError::Expired));
    }

    #[test]
    fn the_cache_never_accepts_a_token_it_did_not_verify() {
        let Fixture { tokens, .. } = fixture();
        let now = OffsetDateTime::now_utc();
        let token = issue(&tokens, now);
        tokens.verify(&token, now).expect("cached");
        let (body, signature) = token.rsplit_once('.').expect("three parts");
        let forged = format!("{body}.{}", signature.chars().rev().collect::<String>());
        assert!(tokens.verify(&forged, now).is_err());
    }

    #[test]
    fn the_cache_stays_bounded() {
        let Fixture { tokens, .. } = fixture();
        let now = OffsetDateTime::now_utc();
        for _ in 0..VerifiedTokens::CAPACITY + 10 {
            tokens.verify(&issue(&tokens, now), now).expect("valid");
        }
        let cached = tokens.verified.cache.len();
        assert!(cached <= VerifiedTokens::CAPACITY, "{cached}");
        assert!(cached > VerifiedTokens::CAPACITY / 2, "evicts some, not all: {cached}");
    }

    #[test]
    fn cached_entries_never_outlive_their_token() {
        let Fixture { tokens, .. } = fixture();
        let issued = OffsetDateTime::now_utc();
        let (first, second) = (issue(&tokens, issued), issue(&tokens, issued));
        tokens.verify(&first, issued).expect("cached");
        tokens.verify(&second, issued).expect("cached");
        assert_eq!(tokens.verified.cache.len(), 2);
        let past_expiry = issued + Duration::seconds(900 + 30);
        assert_eq!(tokens.verify(&first, past_expiry), Err(TokenError::Expired));
        assert_eq!(tokens.verified.cache.len(), 1, "a hit past exp removes the entry");
        // The next insert sweeps every expired entry, including ones nobody asks for again.
        tokens.verify(&issue(&tokens, past_expiry), past_expiry).expect("fresh token");
        assert_eq!(tokens.verified.cache.len(), 1, "only the fresh token is left");
    }

    #[test]
    fn garbage_never_verifies() {
        let Fixture { tokens, .. } = fixture();
        let now = OffsetDateTime::now_utc();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
        for garbage in ["", "a.b.c", "not a token", &format!("{header}.e30."), "....."] {
            assert!(tokens.verify(garbage, now).is_err(), "{garbage:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn verification_of_arbitrary_input_never_panics_and_never_accepts(
            raw in "[A-Za-z0-9_.=-]{0,300}", bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
        ) {
            let Fixture { tokens, .. } = fixture();
            let now = OffsetDateTime::now_utc();
            proptest::prop_assert!(tokens.verify(&raw, now).is_err());
            proptest::prop_assert!(tokens.verify(&String::from_utf8_lossy(&bytes), now).is_err());
        }

        #[test]
        fn any_change_to_a_valid_token_is_refused(position in 0usize..400, replacement in "[A-Za-z0-9_-]") {
            let Fixture { tokens, .. } = fixture();
            let now = OffsetDateTime::now_utc();
            let token = issue(&tokens, now);
            let index = position % token.len();
            let mut tampered: Vec<char> = token.chars().collect();
            let new = replacement.chars().next().expect("one char");
            proptest::prop_assume!(tampered[index] != new && tampered[index] != '.');
            tampered[index] = new;
            let tampered: String = tampered.into_iter().collect();
            proptest::prop_assert!(tokens.verify(&tampered, now).is_err());
        }
    }
}
