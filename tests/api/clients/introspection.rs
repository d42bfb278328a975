//! `POST /oauth/introspect`: live tokens say what they are; anything not live is inactive.

use serde_json::{Value, json};

use super::{TestClient, client, client_token, oauth_error, post_form};
use crate::helpers::{TestApp, both_backends};

async fn introspect(app: &TestApp, caller: &TestClient, token: &str) -> Value {
    let response = post_form(app, "/oauth/introspect", &[("token", token)], Some(caller)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    response.json().await.expect("json")
}

async fn a_user_token_is_active_until_its_session_ends(app: TestApp) {
    let caller = client(&app, "introspect").await;
    let (_, token) = app.signed_in_user().await;

    let live = introspect(&app, &caller, &token).await;
    let response = app
        .client
        .delete(app.url("/api/v1/users/me/sessions"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("sign out everywhere");
    assert_eq!(response.status(), 204);
    let signed_out = introspect(&app, &caller, &token).await;

    assert_eq!(live["active"], true);
    assert_eq!(live["token_type"], "access_token");
    assert!(live["sid"].is_string() && live["sub"].is_string(), "{live}");
    assert!(live.get("client_id").is_none(), "{live}");
    assert_eq!(signed_out, json!({"active": false}));
}
both_backends!(a_user_token_is_active_until_its_session_ends);

async fn expired_and_foreign_tokens_are_inactive(app: TestApp) {
    let caller = client(&app, "introspect").await;
    let (_, token) = app.signed_in_user().await;
    let mut forged = token.clone();
    forged.truncate(token.len() - 4);
    forged.push_str("AAAA");

    for foreign in ["not a token", "a.b.c", forged.as_str()] {
        assert_eq!(introspect(&app, &caller, foreign).await, json!({"active": false}), "{foreign}");
    }
    app.clock.advance(time::Duration::hours(1));
    assert_eq!(introspect(&app, &caller, &token).await, json!({"active": false}));
}
both_backends!(expired_and_foreign_tokens_are_inactive);

async fn a_client_token_is_active_while_its_client_exists(app: TestApp) {
    let caller = client(&app, "introspect").await;
    let other = client(&app, "admin:read").await;
    let token = client_token(&app, &other).await;

    let live = introspect(&app, &caller, &token).await;
    let response = crate::admin_cli::warren(&app, &["clients", "delete", &other.id]).await;
    assert_eq!(response.status.code(), Some(0));
    let deleted = introspect(&app, &caller, &token).await;

    assert_eq!(live["active"], true);
    assert_eq!(live["client_id"], other.id.as_str());
    assert_eq!(live["sub"], other.id.as_str());
    assert_eq!(live["scope"], "admin:read");
    assert_eq!(deleted, json!({"active": false}));
}
both_backends!(a_client_token_is_active_while_its_client_exists);

async fn introspection_needs_an_authenticated_client_with_scope_introspect(app: TestApp) {
    let without_scope = client(&app, "admin:read").await;
    let wrong = TestClient { id: without_scope.id.clone(), secret: "wrong".to_owned() };

    let forbidden =
        post_form(&app, "/oauth/introspect", &[("token", "x")], Some(&without_scope)).await;
    let unauthenticated =
        post_form(&app, "/oauth/introspect", &[("token", "x")], Some(&wrong)).await;
    let no_token = post_form(&app, "/oauth/introspect", &[], Some(&without_scope)).await;

    assert_eq!(oauth_error(forbidden).await, (403, "insufficient_scope".to_owned(), None));
    assert_eq!(oauth_error(unauthenticated).await.0, 401);
    assert_eq!(oauth_error(no_token).await.1, "invalid_request");
}
both_backends!(introspection_needs_an_authenticated_client_with_scope_introspect);
