//! The published keys verify the tokens Warren issues, as another service would check them.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, database_free};

async fn jwks_verifies_issued_tokens_offline(app: TestApp) {
    let (_, token) = app.signed_in_user().await;
    let response = app.client.get(app.url("/.well-known/jwks.json")).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let cache = response.headers()["cache-control"].to_str().expect("ascii").to_owned();
    assert!(cache.starts_with("public, max-age="), "{cache}");
    let jwks: JwkSet = response.json().await.expect("jwks");

    let header = jsonwebtoken::decode_header(&token).expect("header");
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let kid = header.kid.expect("kid");
    let jwk = jwks.find(&kid).expect("the signing key is published");
    let key = DecodingKey::from_jwk(jwk).expect("usable key");
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[app.settings.auth.issuer.as_str()]);
    validation.set_audience(&[app.settings.auth.audience.as_str()]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    let claims = jsonwebtoken::decode::<Value>(&token, &key, &validation).expect("verifies").claims;
    for claim in ["iss", "aud", "sub", "iat", "nbf", "exp", "jti", "sid", "ver", "amr"] {
        assert!(claims.get(claim).is_some(), "claim {claim} missing");
    }
    assert_eq!(claims["amr"], serde_json::json!(["pwd"]), "a password signin");
}
database_free!(jwks_verifies_issued_tokens_offline);

async fn the_development_key_is_generated_once_and_reused(app: TestApp) {
    let path = app.settings.data_dir.join("keys/signing.pem");
    let pem = std::fs::read_to_string(&path).expect("key generated into data_dir/keys");
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let openssl = std::process::Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&path)
        .output()
        .expect("openssl is installed");
    assert!(
        openssl.status.success(),
        "PKCS#8 v1 that OpenSSL 3 reads: {}",
        String::from_utf8_lossy(&openssl.stderr)
    );
    let first: Value = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let again = warren::core::security::KeyRing::load(&app.settings).expect("reload");
    assert_eq!(std::fs::read_to_string(&path).expect("key"), pem, "never regenerated");
    assert_eq!(first["keys"][0]["kid"], again.signing_kid());
}
database_free!(the_development_key_is_generated_once_and_reused);
