//! Discovery: both metadata documents, exact and public, leading a verifier configured with
//! nothing but the issuer to keys that verify Warren's tokens.

use reqwest::StatusCode;
use reqwest::header::{ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_ORIGIN};
use serde_json::{Value, json};
use warren_verifier::{VerifierConfig, WarrenVerifier};

use crate::helpers::{TestApp, both_backends, database_free};

const PUBLIC_URL: &str = "https://auth.example.test/warren";

fn published_at_a_public_url(figment: figment::Figment) -> figment::Figment {
    figment
        .merge(("server.public_url", format!("{PUBLIC_URL}/")))
        .merge(("auth.issuer", PUBLIC_URL))
        .merge(("cors.allowed_origins", ["https://app.example.test"]))
}

async fn both_discovery_documents_are_the_same_exact_metadata(app: TestApp) {
    let mut documents = Vec::new();
    for path in ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"] {
        let response = app.client.get(app.url(path)).header("host", "evil.test").send().await;
        let response = response.expect("request");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["content-type"], "application/json");
        documents.push(response.json::<Value>().await.expect("json"));
    }
    let expected = json!({
        "issuer": PUBLIC_URL,
        "jwks_uri": format!("{PUBLIC_URL}/.well-known/jwks.json"),
        "token_endpoint": format!("{PUBLIC_URL}/oauth/token"),
        "introspection_endpoint": format!("{PUBLIC_URL}/oauth/introspect"),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["admin:read", "admin:write", "introspect"],
        "response_types_supported": [],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["EdDSA"],
    });
    assert_eq!(documents[0], expected, "built from configuration, never from the Host header");
    assert_eq!(documents[1], expected);
}
database_free!(both_discovery_documents_are_the_same_exact_metadata, published_at_a_public_url);

async fn discovery_is_cacheable_and_readable_from_any_origin_without_credentials(app: TestApp) {
    for origin in ["https://elsewhere.example", "https://app.example.test"] {
        let response = app
            .client
            .get(app.url("/.well-known/openid-configuration"))
            .header("origin", origin)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["cache-control"], "public, max-age=300");
        let allowed = response.headers()[ACCESS_CONTROL_ALLOW_ORIGIN].to_str().expect("ascii");
        assert!(allowed == "*" || allowed == origin, "{origin}: {allowed}");
        assert!(response.headers().get(ACCESS_CONTROL_ALLOW_CREDENTIALS).is_none(), "{origin}");
    }
    let other = app.client.get(app.url("/api/health")).send().await.expect("request");
    assert_eq!(other.headers()["cache-control"], "no-store", "only discovery is cacheable");
}
database_free!(
    discovery_is_cacheable_and_readable_from_any_origin_without_credentials,
    published_at_a_public_url
);

fn signing_with_es256(figment: figment::Figment) -> figment::Figment {
    figment.merge(("auth.signing_algorithm", "ES256"))
}

/// A verifier told only Warren's address and issuer finds the keys through discovery.
async fn discovered_verifier(app: &TestApp) -> (Value, WarrenVerifier) {
    let metadata: Value =
        app.get("/.well-known/openid-configuration").await.json().await.expect("json");
    assert_eq!(metadata["issuer"], app.settings.auth.issuer.as_str());
    let jwks_path = metadata["jwks_uri"]
        .as_str()
        .expect("jwks_uri")
        .replace(&app.settings.server.public_url, "");
    let config = VerifierConfig {
        jwks_url: app.url(&jwks_path),
        ..VerifierConfig::new(&app.address, &app.settings.auth.issuer, &app.settings.auth.audience)
    };
    (metadata, WarrenVerifier::new(config))
}

async fn es256_tokens_are_accepted_here_and_by_the_verifier_crate(app: TestApp) {
    let (_, token) = app.signed_in_user().await;
    let header = jsonwebtoken::decode_header(&token).expect("header");
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    assert_eq!(app.me(&token).await.status(), StatusCode::OK);
    let (metadata, verifier) = discovered_verifier(&app).await;
    assert_eq!(metadata["id_token_signing_alg_values_supported"], json!(["ES256"]));
    let claims = verifier.verify(&token).await.expect("the verifier crate accepts ES256");
    assert_eq!(claims.iss, metadata["issuer"].as_str().expect("issuer"), "issuer == iss");
    let jwks: Value = app.get("/.well-known/jwks.json").await.json().await.expect("jwks");
    assert_eq!(jwks["keys"][0]["kid"], header.kid.expect("kid").as_str());
    assert_eq!(jwks["keys"][0]["alg"], "ES256");
    assert_eq!(jwks["keys"][0]["crv"], "P-256");
}
both_backends!(es256_tokens_are_accepted_here_and_by_the_verifier_crate, signing_with_es256);

async fn eddsa_tokens_carry_the_discovered_issuer(app: TestApp) {
    let (_, token) = app.signed_in_user().await;
    let (metadata, verifier) = discovered_verifier(&app).await;
    assert_eq!(metadata["id_token_signing_alg_values_supported"], json!(["EdDSA"]));
    let claims = verifier.verify(&token).await.expect("verifies");
    assert_eq!(claims.iss, metadata["issuer"].as_str().expect("issuer"), "issuer == iss");
}
both_backends!(eddsa_tokens_carry_the_discovered_issuer);
