//! Unit tests of access-token issuing, strict verification and the verified-token cache.

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
    tokens
        .issue(UserId::generate(), SessionId::generate(), 3, Amr::Password, now)
        .expect("issue")
        .token
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
    assert_eq!(claims.amr, ["pwd"]);
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
    for claim in ["iss", "aud", "sub", "iat", "nbf", "exp", "jti", "sid", "ver", "amr"] {
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

/// A service signing ES256 that still publishes the Ed25519 key it signed with before, and
/// that older key itself.
struct Rotation {
    _dir: tempfile::TempDir,
    tokens: AccessTokens,
    old: crate::core::security::keys::PrivateKey,
    old_kid: String,
}

fn rotated_to_es256() -> Rotation {
    use crate::core::config::SigningAlgorithm;
    use crate::core::security::keys::tests::{generated_ring_with, private_key};
    let dir = tempfile::tempdir().expect("tempdir");
    let old_path = dir.path().join("old.pem");
    let old_kid = KeyRing::generate_file(&old_path, SigningAlgorithm::EdDSA).expect("old");
    let old = private_key(&old_path);
    let ring = generated_ring_with(dir.path(), SigningAlgorithm::ES256, &[old.public_key()]);
    let tokens = AccessTokens::new(Arc::new(ring), "https://warren.test", "warren", 900);
    Rotation { _dir: dir, tokens, old, old_kid }
}

#[test]
fn es256_tokens_name_their_algorithm_and_verify() {
    let Rotation { tokens, .. } = rotated_to_es256();
    let now = OffsetDateTime::now_utc();
    let token = issue(&tokens, now);
    let header = jsonwebtoken::decode_header(&token).expect("header");
    assert_eq!(header.alg, Algorithm::ES256);
    assert_eq!(header.kid.as_deref(), Some(tokens.keys.signing_kid()));
    assert_eq!(tokens.verify(&token, now).expect("verifies").ver, 3);
}

#[test]
fn tokens_of_the_previous_algorithm_still_verify_during_a_rotation() {
    let Rotation { tokens, old, old_kid, .. } = rotated_to_es256();
    let now = OffsetDateTime::now_utc();
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
    header.kid = Some(old_kid);
    let claims = claims_of(&tokens, now);
    let token =
        jsonwebtoken::encode(&header, &claims, &old.encoding_key().expect("key")).expect("sign");
    assert!(tokens.verify(&token, now).is_ok());
}

#[test]
fn a_token_whose_algorithm_is_not_its_keys_is_refused() {
    let Rotation { tokens, old, old_kid, .. } = rotated_to_es256();
    let now = OffsetDateTime::now_utc();
    let claims = claims_of(&tokens, now);
    // Signed by the Ed25519 key, but naming the P-256 key: each key verifies its own
    // algorithm only, so neither the header's alg nor the signature can make it pass.
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
    header.kid = Some(tokens.keys.signing_kid().to_owned());
    let old_key = old.encoding_key().expect("key");
    let crossed = jsonwebtoken::encode(&header, &claims, &old_key).expect("sign");
    let refused = tokens.verify(&crossed, now);
    assert_eq!(refused, Err(TokenError::Invalid("algorithm does not match the key".to_owned())));
    // Signed by the P-256 key under the Ed25519 key's kid.
    let mut header = Header::new(Algorithm::ES256);
    header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
    header.kid = Some(old_kid);
    let crossed = jsonwebtoken::encode(&header, &claims, tokens.keys.signing_key()).expect("sign");
    assert!(matches!(tokens.verify(&crossed, now), Err(TokenError::Invalid(_))));
}
