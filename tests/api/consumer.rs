//! A real consumer: `examples/recommendation_service.rs` verifying Warren's tokens offline.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use warren::core::config::SigningAlgorithm;
use warren::core::security::KeyRing;

use crate::helpers::{Backend, TestApp, TestUser, both_backends};
use crate::recommendation_service::{VerifierConfig, WarrenVerifier, app};

/// The example service, trusting `warren`, on its own port.
struct Consumer {
    address: String,
    verifier: Arc<WarrenVerifier>,
    client: reqwest::Client,
}

impl Consumer {
    async fn start(warren: &TestApp, min_refetch_interval: Duration) -> Self {
        let verifier = Arc::new(WarrenVerifier::new(VerifierConfig {
            min_refetch_interval,
            ..VerifierConfig::new(
                &warren.address,
                &warren.settings.auth.issuer,
                &warren.settings.auth.audience,
            )
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = format!("http://{}", listener.local_addr().expect("address"));
        let router = app(Arc::clone(&verifier));
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { address, verifier, client: reqwest::Client::new() }
    }

    async fn recommendations(&self, token: &str) -> reqwest::Response {
        self.client
            .get(format!("{}/recommendations", self.address))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    async fn accepts(&self, token: &str) -> bool {
        let response = self.recommendations(token).await;
        match response.status() {
            StatusCode::OK => true,
            StatusCode::UNAUTHORIZED => false,
            other => panic!("unexpected status {other}"),
        }
    }
}

async fn token(app: &TestApp) -> String {
    app.signed_in_user().await.1
}

async fn a_fresh_token_is_accepted_for_its_user(app: TestApp) {
    let consumer = Consumer::start(&app, Duration::from_secs(5)).await;
    let user = TestUser::generate();
    app.signup(&user).await;
    let signed_in: Value =
        app.signin(&user.email, &user.password).await.json().await.expect("json");
    let response =
        consumer.recommendations(signed_in["access_token"].as_str().expect("token")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["user_id"], signed_in["user"]["id"]);
    assert_eq!(body["recommendations"].as_array().expect("list").len(), 3);
}
both_backends!(a_fresh_token_is_accepted_for_its_user);

async fn an_expired_token_is_refused(app: TestApp) {
    let consumer = Consumer::start(&app, Duration::from_secs(5)).await;
    // Issued 20 minutes ago by Warren's clock: expired 5 minutes ago for the consumer.
    app.clock.advance(time::Duration::minutes(-20));
    let expired = token(&app).await;
    assert!(!consumer.accepts(&expired).await);
}
both_backends!(an_expired_token_is_refused);

async fn a_token_signed_by_a_foreign_key_is_refused(app: TestApp) {
    let consumer = Consumer::start(&app, Duration::from_secs(5)).await;
    // Another Warren: same issuer and audience, its own generated key.
    let impostor = TestApp::spawn(Backend::Sqlite).await;
    assert!(!consumer.accepts(&token(&impostor).await).await);
    assert!(consumer.accepts(&token(&app).await).await);
}
both_backends!(a_token_signed_by_a_foreign_key_is_refused);

async fn a_token_for_another_audience_is_refused(app: TestApp) {
    let consumer = Consumer::start(&app, Duration::from_secs(5)).await;
    let key = KeyRing::development_key_path(&app.settings.data_dir, SigningAlgorithm::EdDSA);
    // Same signing key, so only the audience differs.
    let billing = TestApp::spawn_with(Backend::Sqlite, |f| {
        f.merge(("auth.audience", "billing")).merge(("auth.signing_key_file", key))
    })
    .await;
    assert!(!consumer.accepts(&token(&billing).await).await);
}
both_backends!(a_token_for_another_audience_is_refused);

async fn after_a_key_rotation_old_and_new_tokens_are_both_accepted(app: TestApp) {
    let mut app = app;
    let consumer = Consumer::start(&app, Duration::ZERO).await;
    let old_token = token(&app).await;
    assert!(consumer.accepts(&old_token).await);

    // Rotation: a new key signs, the old one stays published for verification.
    let old_key = KeyRing::development_key_path(&app.settings.data_dir, SigningAlgorithm::EdDSA);
    let new_key = app.settings.data_dir.join("keys/next.pem");
    KeyRing::generate_file(&new_key, SigningAlgorithm::EdDSA).expect("new key");
    app.restart_with(|f| {
        f.merge(("auth.signing_key_file", new_key))
            .merge(("auth.verification_key_files", [old_key]))
    })
    .await;
    let new_token = token(&app).await;
    assert_ne!(
        jsonwebtoken::decode_header(&new_token).expect("header").kid,
        jsonwebtoken::decode_header(&old_token).expect("header").kid
    );
    assert!(consumer.accepts(&new_token).await, "unknown kid triggers a refetch");
    assert!(consumer.accepts(&old_token).await);
    assert_eq!(app.me(&old_token).await.status(), StatusCode::OK, "Warren accepts it too");

    // Warren briefly down: the consumer keeps serving from its cached keys.
    app.stop().await;
    assert!(consumer.accepts(&new_token).await);
    assert!(consumer.accepts(&old_token).await);
}
both_backends!(after_a_key_rotation_old_and_new_tokens_are_both_accepted);

async fn unknown_key_ids_refetch_the_jwks_at_most_once_per_interval(app: TestApp) {
    let consumer = Consumer::start(&app, Duration::from_secs(3600)).await;
    assert!(consumer.accepts(&token(&app).await).await);
    assert_eq!(consumer.verifier.fetch_count(), 1);
    let impostor = TestApp::spawn(Backend::Sqlite).await;
    for _ in 0..5 {
        assert!(!consumer.accepts(&token(&impostor).await).await);
    }
    assert_eq!(consumer.verifier.fetch_count(), 1, "forged kids must not hammer Warren");
}
both_backends!(unknown_key_ids_refetch_the_jwks_at_most_once_per_interval);

/// Signs `claims` with `app`'s own key: a token Warren would never issue, but correctly signed.
fn forge(app: &TestApp, claims: &Value) -> String {
    let keys = KeyRing::load(&app.settings).expect("Warren's key loads");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.typ = Some("at+jwt".to_owned());
    header.kid = Some(keys.signing_kid().to_owned());
    jsonwebtoken::encode(&header, claims, keys.signing_key()).expect("sign")
}

/// The claims of a fresh genuine token, to alter one at a time.
async fn genuine_claims(app: &TestApp, consumer: &Consumer) -> Value {
    let token = token(app).await;
    let claims = consumer.verifier.verify(&token).await.expect("a genuine token verifies");
    serde_json::to_value(claims).expect("json")
}

#[tokio::test]
async fn a_token_issued_in_the_future_is_refused() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let consumer = Consumer::start(&app, Duration::from_secs(5)).await;
    let mut claims = genuine_claims(&app, &consumer).await;
    assert!(consumer.accepts(&forge(&app, &claims)).await, "the re-signed original passes");
    claims["iat"] = (claims["iat"].as_i64().expect("iat") + 120).into();
    assert!(!consumer.accepts(&forge(&app, &claims)).await);
}

#[tokio::test]
async fn a_token_living_longer_than_the_maximum_is_refused() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let consumer = Consumer::start(&app, Duration::from_secs(5)).await;
    let mut claims = genuine_claims(&app, &consumer).await;
    claims["exp"] = (claims["iat"].as_i64().expect("iat") + 86_400).into();
    assert!(!consumer.accepts(&forge(&app, &claims)).await);
}

#[tokio::test]
async fn a_token_missing_any_claim_is_refused() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let consumer = Consumer::start(&app, Duration::from_secs(5)).await;
    let claims = genuine_claims(&app, &consumer).await;
    for claim in ["iss", "aud", "sub", "iat", "nbf", "exp", "jti", "sid", "ver", "amr"] {
        let mut partial = claims.clone();
        partial.as_object_mut().expect("object").remove(claim);
        assert!(!consumer.accepts(&forge(&app, &partial)).await, "missing {claim}");
    }
}
