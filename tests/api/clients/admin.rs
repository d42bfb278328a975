//! The admin API: client tokens only, scopes per method, cursor paging, the CLI's effects,
//! audit rows naming the client; and `warren clients`.

use reqwest::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;
use warren::domain::{AuthEventKind, ClientId, EmailAddress, StoredHash, UserId};
use warren::repositories::{AuditQuery, NewUserRecord};

use super::{client, client_token};
use crate::admin_cli::{stdout, succeeds, warren};
use crate::helpers::{TestApp, assert_problem, both_backends};
use crate::live::{close_code_within, open};

async fn call(app: &TestApp, method: Method, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = app.client.request(method, app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request")
}

async fn user_id(app: &TestApp, email: &str) -> UserId {
    let email = EmailAddress::parse(email).expect("email");
    app.database.repositories().users.find_by_email(&email).await.expect("read").expect("user").id
}

async fn user_tokens_and_missing_scopes_are_403_insufficient_scope_with_a_challenge(app: TestApp) {
    let (user, user_token) = app.signed_in_user().await;
    let id = user_id(&app, &user.email).await;
    let reader = client_token(&app, &client(&app, "admin:read introspect").await).await;
    let path = format!("/api/v1/admin/users/{id}");

    let by_user = call(&app, Method::GET, &path, Some(&user_token)).await;
    assert_eq!(
        by_user.headers()["www-authenticate"],
        "Bearer error=\"insufficient_scope\", scope=\"admin:read\""
    );
    assert_problem(by_user, reqwest::StatusCode::FORBIDDEN, "insufficient_scope").await;
    let write = call(&app, Method::DELETE, &path, Some(&reader)).await;
    assert_eq!(
        write.headers()["www-authenticate"],
        "Bearer error=\"insufficient_scope\", scope=\"admin:write\""
    );
    assert_problem(write, reqwest::StatusCode::FORBIDDEN, "insufficient_scope").await;
    let anonymous = call(&app, Method::GET, &path, None).await;
    assert_problem(anonymous, reqwest::StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let garbage = call(&app, Method::GET, &path, Some("garbage")).await;
    assert_problem(garbage, reqwest::StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert_eq!(app.me(&user_token).await.status(), 200, "nothing was deleted");
    assert_eq!(call(&app, Method::GET, &path, Some(&reader)).await.status(), 200);
}
both_backends!(user_tokens_and_missing_scopes_are_403_insufficient_scope_with_a_challenge);

async fn unknown_accounts_are_404_and_bad_input_422(app: TestApp) {
    let token = client_token(&app, &client(&app, "admin:read admin:write").await).await;
    let unknown = format!("/api/v1/admin/users/{}", uuid::Uuid::now_v7());

    for (method, path) in [
        (Method::GET, unknown.clone()),
        (Method::DELETE, unknown.clone()),
        (Method::POST, format!("{unknown}/sign-out")),
        (Method::GET, "/api/v1/admin/users/not-a-uuid".to_owned()),
    ] {
        assert_problem(
            call(&app, method, &path, Some(&token)).await,
            reqwest::StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    for query in ["limit=0", "limit=101", "limit=x", "cursor=nope"] {
        let response =
            call(&app, Method::GET, &format!("/api/v1/admin/users?{query}"), Some(&token)).await;
        assert_problem(response, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
            .await;
    }
    let response = call(&app, Method::GET, "/api/v1/admin/audit?kind=nonsense", Some(&token)).await;
    assert_problem(response, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let patch = app
        .client
        .patch(app.url(&unknown))
        .bearer_auth(&token)
        .json(&json!({"full_name": ""}))
        .send()
        .await
        .expect("patch");
    assert_problem(patch, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}
both_backends!(unknown_accounts_are_404_and_bad_input_422);

async fn a_cursor_pages_through_every_account_once_in_order(app: TestApp) {
    let users = &app.database.repositories().users;
    let mut inserted = Vec::new();
    for n in 0..250 {
        let record = NewUserRecord {
            id: UserId::generate(),
            email: EmailAddress::parse(&format!("paged{n}@example.com")).expect("email"),
            full_name: None,
            password_hash: StoredHash::new(
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
            ),
            created_at: OffsetDateTime::now_utc(),
            verification: None,
        };
        inserted.push(users.insert(record).await.expect("insert").id.to_string());
    }
    let token = client_token(&app, &client(&app, "admin:read").await).await;

    let (mut seen, mut cursor, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/api/v1/admin/users?query=paged&limit=100&cursor={cursor}"),
            None => "/api/v1/admin/users?query=paged&limit=100".to_owned(),
        };
        let page: Value =
            call(&app, Method::GET, &path, Some(&token)).await.json().await.expect("json");
        pages += 1;
        seen.extend(
            page["users"]
                .as_array()
                .expect("users")
                .iter()
                .map(|u| u["id"].as_str().expect("id").to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }

    assert_eq!(pages, 3);
    assert_eq!(seen, inserted);
}
both_backends!(a_cursor_pages_through_every_account_once_in_order);

async fn deactivating_by_patch_ends_tokens_and_sockets_and_is_audited_with_the_client(
    app: TestApp,
) {
    let registered = client(&app, "admin:read admin:write").await;
    let token = client_token(&app, &registered).await;
    let (user, user_token) = app.signed_in_user().await;
    let id = user_id(&app, &user.email).await;
    let (mut socket, _) = open(&app, &user_token).await;

    let response = app
        .client
        .patch(app.url(&format!("/api/v1/admin/users/{id}")))
        .bearer_auth(&token)
        .json(&json!({"is_active": false, "email_verified": true, "full_name": "Renamed"}))
        .send()
        .await
        .expect("patch");

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        (body["is_active"].clone(), body["email_verified"].clone()),
        (json!(false), json!(true))
    );
    assert_eq!(body["full_name"], "Renamed");
    assert_eq!(app.me(&user_token).await.status(), 401);
    assert_eq!(close_code_within(&mut socket, std::time::Duration::from_secs(2)).await, 4401);
    let query = AuditQuery { user: Some(id), limit: 10, ..AuditQuery::default() };
    let events = app.database.repositories().audit.list(&query).await.expect("audit");
    let client_id = ClientId::from_uuid(registered.id.parse().expect("uuid"));
    let by_client: Vec<_> = events
        .iter()
        .filter(|e| e.event.client_id == Some(client_id))
        .map(|e| e.event.kind)
        .collect();
    assert!(by_client.contains(&AuthEventKind::AdminDeactivated), "{by_client:?}");
    assert!(by_client.contains(&AuthEventKind::AdminUpdated), "{by_client:?}");
    let audit: Value = call(
        &app,
        Method::GET,
        &format!("/api/v1/admin/audit?user_id={id}&kind=admin_deactivated"),
        Some(&token),
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(audit["events"][0]["client_id"], registered.id.as_str());
    assert_eq!(audit["events"].as_array().expect("events").len(), 1);
}
both_backends!(deactivating_by_patch_ends_tokens_and_sockets_and_is_audited_with_the_client);

async fn sign_out_and_delete_answer_204_and_take_effect(app: TestApp) {
    let token = client_token(&app, &client(&app, "admin:write").await).await;
    let (user, user_token) = app.signed_in_user().await;
    let id = user_id(&app, &user.email).await;

    let signed_out =
        call(&app, Method::POST, &format!("/api/v1/admin/users/{id}/sign-out"), Some(&token)).await;
    assert_eq!(signed_out.status(), 204);
    assert_eq!(app.me(&user_token).await.status(), 401);
    assert_eq!(app.signin(&user.email, &user.password).await.status(), 200);
    let deleted =
        call(&app, Method::DELETE, &format!("/api/v1/admin/users/{id}"), Some(&token)).await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(app.signin(&user.email, &user.password).await.status(), 401);
}
both_backends!(sign_out_and_delete_answer_204_and_take_effect);

async fn the_cli_creates_lists_and_deletes_clients(app: TestApp) {
    let created = succeeds(
        &app,
        &["clients", "create", "billing", "--scope", "admin:read", "--scope", "introspect"],
    )
    .await;
    let lines: Vec<&str> = created.lines().collect();
    assert_eq!(lines.len(), 2, "{created}");
    let id = lines[0].strip_prefix("client_id: ").expect("client_id line");
    let secret = lines[1].strip_prefix("client_secret: ").expect("client_secret line");
    let registered = super::TestClient { id: id.to_owned(), secret: secret.to_owned() };
    assert!(!client_token(&app, &registered).await.is_empty());

    let json: Value = serde_json::from_str(
        &succeeds(&app, &["clients", "create", "x", "--scope", "admin:write", "--json"]).await,
    )
    .expect("json");
    assert_eq!(json["scopes"], json!(["admin:write"]));
    assert!(json["client_secret"].is_string() && json["client_id"].is_string());
    let listed: Value =
        serde_json::from_str(&succeeds(&app, &["clients", "list", "--json"]).await).expect("json");
    assert_eq!(listed[0]["client_id"], id);
    assert_eq!(listed[0]["name"], "billing");
    assert!(listed[0].get("client_secret").is_none(), "{listed}");
    assert!(succeeds(&app, &["clients", "list"]).await.contains("billing"));

    succeeds(&app, &["clients", "delete", id]).await;
    assert_eq!(warren(&app, &["clients", "delete", id]).await.status.code(), Some(1));
    let bad_scope = warren(&app, &["clients", "create", "y", "--scope", "root"]).await;
    assert_eq!(bad_scope.status.code(), Some(2), "{}", stdout(&bad_scope));
    assert_eq!(warren(&app, &["clients", "delete", "nope"]).await.status.code(), Some(2));
    let token = super::post_form(
        &app,
        "/oauth/token",
        &[("grant_type", "client_credentials")],
        Some(&registered),
    )
    .await;
    assert_eq!(token.status(), 401);
}
both_backends!(the_cli_creates_lists_and_deletes_clients);
