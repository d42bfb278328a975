//! Switching algorithms is an ordinary key rotation: the JWKS publishes the new P-256 key and
//! the old Ed25519 one, each with its own `alg`, and each key verifies its own algorithm only.

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::Value;
use warren::core::config::SigningAlgorithm;
use warren::core::security::KeyRing;
use warren_verifier::{Rejection, VerifierConfig, WarrenVerifier};

use crate::helpers::{TestApp, both_backends};

/// ES256 signs with a configured key; the Ed25519 key that signed until now still verifies.
/// The keys live in the test's data directory, which goes with the test.
fn rotating_from_eddsa_to_es256(figment: figment::Figment) -> figment::Figment {
    let data_dir: PathBuf = figment.extract_inner("data_dir").expect("data_dir");
    let (new, old) = (data_dir.join("keys/new-es256.pem"), data_dir.join("keys/old-ed25519.pem"));
    KeyRing::generate_file(&new, SigningAlgorithm::ES256).expect("new key");
    KeyRing::generate_file(&old, SigningAlgorithm::EdDSA).expect("old key");
    figment
        .merge(("auth.signing_algorithm", "ES256"))
        .merge(("auth.signing_key_file", new))
        .merge(("auth.verification_key_files", [old]))
}

/// `token`'s claims re-signed by the PEM key at `key` under a header naming `alg` and `kid`.
fn resign(token: &str, key: &EncodingKey, alg: Algorithm, kid: &str) -> String {
    let payload = token.split('.').nth(1).expect("three parts");
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("json");
    let mut header = Header::new(alg);
    header.typ = Some("at+jwt".to_owned());
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, &claims, key).expect("sign")
}

fn pem_key(path: &PathBuf, algorithm: SigningAlgorithm) -> EncodingKey {
    let pem = std::fs::read(path).expect("key file");
    match algorithm {
        SigningAlgorithm::EdDSA => EncodingKey::from_ed_pem(&pem),
        SigningAlgorithm::ES256 => EncodingKey::from_ec_pem(&pem),
    }
    .expect("a PEM key")
}

async fn both_algorithms_verify_during_a_rotation_each_with_its_own_key_only(app: TestApp) {
    let (_, token) = app.signed_in_user().await;
    let jwks: Value = app.get("/.well-known/jwks.json").await.json().await.expect("jwks");
    let keys = jwks["keys"].as_array().expect("keys");
    let algs: Vec<(&str, &str)> = keys
        .iter()
        .map(|k| (k["alg"].as_str().expect("alg"), k["use"].as_str().expect("use")))
        .collect();
    assert_eq!(algs, [("ES256", "sig"), ("EdDSA", "sig")], "the signing key first");
    let (new_kid, old_kid) =
        (keys[0]["kid"].as_str().expect("kid"), keys[1]["kid"].as_str().expect("kid"));
    let metadata: Value =
        app.get("/.well-known/openid-configuration").await.json().await.expect("json");
    assert_eq!(
        metadata["id_token_signing_alg_values_supported"],
        serde_json::json!(["ES256", "EdDSA"])
    );

    let auth = &app.settings.auth;
    let new_key =
        pem_key(auth.signing_key_file.as_ref().expect("configured"), SigningAlgorithm::ES256);
    let old_key = pem_key(&auth.verification_key_files[0], SigningAlgorithm::EdDSA);
    let verifier =
        WarrenVerifier::new(VerifierConfig::new(&app.address, &auth.issuer, &auth.audience));

    let by_old_key = resign(&token, &old_key, Algorithm::EdDSA, old_kid);
    assert_eq!(app.me(&by_old_key).await.status(), StatusCode::OK, "the old key still verifies");
    assert!(verifier.verify(&by_old_key).await.is_ok());
    assert!(verifier.verify(&token).await.is_ok(), "and so does the new one");

    // A P-256 signature under the Ed25519 key's kid, and an Ed25519 one under the P-256 kid.
    for crossed in [
        resign(&token, &new_key, Algorithm::ES256, old_kid),
        resign(&token, &old_key, Algorithm::EdDSA, new_kid),
    ] {
        assert_eq!(app.me(&crossed).await.status(), StatusCode::UNAUTHORIZED);
        assert!(matches!(verifier.verify(&crossed).await, Err(Rejection::Invalid(_))));
    }
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"none","typ":"at+jwt","kid":"{new_kid}"}}"#)),
        token.split('.').nth(1).expect("payload"),
    );
    assert_eq!(app.me(&unsigned).await.status(), StatusCode::UNAUTHORIZED);
    assert!(verifier.verify(&unsigned).await.is_err());
}
both_backends!(
    both_algorithms_verify_during_a_rotation_each_with_its_own_key_only,
    rotating_from_eddsa_to_es256
);
