//! `POST /oauth/token`: client credentials by HTTP Basic or in the form, and every refusal.

use serde_json::Value;

use super::{TestClient, client, jwt_part, oauth_error, post_form};
use crate::helpers::{TestApp, both_backends};

const GRANT: (&str, &str) = ("grant_type", "client_credentials");
const BASIC: Option<&str> = Some("Basic realm=\"warren\"");

async fn a_client_gets_a_token_by_basic_or_by_form_with_its_scopes(app: TestApp) {
    let client = client(&app, "admin:read introspect").await;

    let by_basic = post_form(&app, "/oauth/token", &[GRANT], Some(&client)).await;
    let form = [
        GRANT,
        ("client_id", &client.id),
        ("client_secret", &client.secret),
        ("scope", "introspect"),
    ];
    let by_post = post_form(&app, "/oauth/token", &form, None).await;

    assert_eq!(by_basic.status(), 200);
    assert_eq!(by_basic.headers()["cache-control"], "no-store");
    let body: Value = by_basic.json().await.expect("json");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "admin:read introspect");
    assert!(body["expires_in"].as_u64().expect("expires_in") > 0);
    let token = body["access_token"].as_str().expect("token");
    assert_eq!(jwt_part(token, 0)["typ"], "at+jwt");
    let claims = jwt_part(token, 1);
    assert_eq!(claims["sub"], client.id.as_str());
    assert_eq!(claims["client_id"], client.id.as_str());
    assert_eq!(claims["scope"], "admin:read introspect");
    for absent in ["sid", "ver", "amr"] {
        assert!(claims.get(absent).is_none(), "{absent} in {claims}");
    }
    for present in ["iss", "aud", "iat", "nbf", "exp", "jti"] {
        assert!(claims.get(present).is_some(), "{present} missing from {claims}");
    }
    assert_eq!(by_post.status(), 200);
    let body: Value = by_post.json().await.expect("json");
    assert_eq!(body["scope"], "introspect");
}
both_backends!(a_client_gets_a_token_by_basic_or_by_form_with_its_scopes);

async fn wrong_or_missing_client_credentials_are_invalid_client_with_a_basic_challenge(
    app: TestApp,
) {
    let client = client(&app, "admin:read").await;
    let wrong = TestClient { id: client.id.clone(), secret: "not the secret".to_owned() };
    let unknown =
        TestClient { id: uuid::Uuid::now_v7().to_string(), secret: client.secret.clone() };
    let not_a_uuid = TestClient { id: "billing".to_owned(), secret: client.secret.clone() };

    for basic in [&wrong, &unknown, &not_a_uuid] {
        let response = post_form(&app, "/oauth/token", &[GRANT], Some(basic)).await;
        assert_eq!(
            oauth_error(response).await,
            (401, "invalid_client".to_owned(), BASIC.map(Into::into))
        );
    }
    let posted = [GRANT, ("client_id", &client.id), ("client_secret", "wrong")];
    let response = post_form(&app, "/oauth/token", &posted, None).await;
    assert_eq!(oauth_error(response).await.1, "invalid_client");
    let nothing = post_form(&app, "/oauth/token", &[GRANT], None).await;
    assert_eq!(oauth_error(nothing).await.0, 401);
}
both_backends!(wrong_or_missing_client_credentials_are_invalid_client_with_a_basic_challenge);

async fn malformed_token_requests_get_the_matching_oauth_error(app: TestApp) {
    let client = client(&app, "admin:read").await;
    let both =
        [GRANT, ("client_id", client.id.as_str()), ("client_secret", client.secret.as_str())];
    let cases: [(&[(&str, &str)], &str); 6] = [
        (&both, "invalid_request"),
        (&[("grant_type", "password")], "unsupported_grant_type"),
        (&[], "invalid_request"),
        (&[GRANT, GRANT], "invalid_request"),
        (&[GRANT, ("scope", "admin:write")], "invalid_scope"),
        (&[GRANT, ("scope", "admin:read root")], "invalid_scope"),
    ];

    for (form, expected) in cases {
        let response = post_form(&app, "/oauth/token", form, Some(&client)).await;
        assert_eq!(oauth_error(response).await, (400, expected.to_owned(), None), "{form:?}");
    }
    let json = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth(&client.id, Some(&client.secret))
        .json(&serde_json::json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .expect("request");
    assert_eq!(oauth_error(json).await.1, "invalid_request");
}
both_backends!(malformed_token_requests_get_the_matching_oauth_error);

async fn a_user_token_is_not_a_client_token_and_a_client_token_is_not_a_user_token(app: TestApp) {
    let client = client(&app, "admin:read").await;
    let token = super::client_token(&app, &client).await;

    assert_eq!(app.me(&token).await.status(), 401);
}
both_backends!(a_user_token_is_not_a_client_token_and_a_client_token_is_not_a_user_token);
