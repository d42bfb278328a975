//! The refresh-token cookie for browser SPAs on an allowlisted origin, CORS with
//! credentials, and the body transport every other client keeps.

use figment::Figment;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use time::Duration;

use crate::helpers::{TestApp, TestUser, assert_problem, both_backends};

const SPA: &str = "http://localhost:5173";
const FOREIGN: &str = "http://localhost:6001";
const ATTRIBUTES: &str = "Path=/; Secure; HttpOnly; SameSite=Strict";
const CLEARED: &str =
    "__Host-warren_refresh=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Strict";

fn cookie_mode(figment: Figment) -> Figment {
    figment.merge(("auth.refresh_cookie", true)).merge(("cors.allowed_origins", vec![SPA]))
}

fn set_cookies(response: &Response) -> Vec<String> {
    let values = response.headers().get_all("set-cookie").iter();
    values.map(|value| value.to_str().expect("ascii").to_owned()).collect()
}

/// The `name=value` pair a browser would send back, from the one `Set-Cookie` of a response.
fn cookie_pair(response: &Response) -> String {
    let cookies = set_cookies(response);
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let pair = cookies[0].split(';').next().expect("name=value").to_owned();
    assert!(pair.starts_with("__Host-warren_refresh=wrt_"), "{pair}");
    pair
}

fn max_age(set_cookie: &str) -> i64 {
    let attribute = set_cookie.split("; ").find_map(|a| a.strip_prefix("Max-Age="));
    attribute.expect("Max-Age").parse().expect("a number")
}

async fn signed_up(app: &TestApp) -> TestUser {
    let user = TestUser::generate();
    assert_eq!(app.signup(&user).await.status(), StatusCode::CREATED);
    user
}

async fn signin_from(app: &TestApp, user: &TestUser, origin: Option<&str>) -> Response {
    let mut request = app.client.post(app.url("/api/v1/auth/signin"));
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    let body = json!({"email": user.email, "password": user.password});
    let response = request.json(&body).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    response
}

/// Signs in from the SPA; returns the cookie pair and the access token.
async fn browser_session(app: &TestApp, user: &TestUser) -> (String, String) {
    let response = signin_from(app, user, Some(SPA)).await;
    let cookie = cookie_pair(&response);
    let body: Value = response.json().await.expect("json");
    (cookie, body["access_token"].as_str().expect("access_token").to_owned())
}

/// POSTs `{}` with a cookie, as the SPA's fetch with `credentials: "include"` does.
async fn post_with_cookie(
    app: &TestApp,
    path: &str,
    origin: Option<&str>,
    cookie: &str,
) -> Response {
    let mut request = app.client.post(app.url(path)).header("cookie", cookie).json(&json!({}));
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.send().await.expect("request")
}

async fn refresh_by_cookie(app: &TestApp, cookie: &str) -> Response {
    post_with_cookie(app, "/api/v1/auth/refresh", Some(SPA), cookie).await
}

async fn signin_from_an_allowlisted_origin_sets_the_cookie_and_leaves_the_token_out_of_the_body(
    app: TestApp,
) {
    let user = signed_up(&app).await;
    let response = signin_from(&app, &user, Some(SPA)).await;
    assert_eq!(response.headers()["access-control-allow-origin"], SPA);
    assert_eq!(response.headers()["access-control-allow-credentials"], "true");
    let cookies = set_cookies(&response);
    let pair = cookie_pair(&response);
    assert_eq!(cookies[0], format!("{pair}; Max-Age=2592000; {ATTRIBUTES}"));
    let body: Value = response.json().await.expect("json");
    assert!(body.get("refresh_token").is_none(), "{body}");
    let access = body["access_token"].as_str().expect("access_token");
    assert_eq!(app.me(access).await.status(), StatusCode::OK);
}
both_backends!(
    signin_from_an_allowlisted_origin_sets_the_cookie_and_leaves_the_token_out_of_the_body,
    cookie_mode
);

async fn refresh_by_cookie_rotates_the_cookie_and_the_old_one_dies_after_the_grace(app: TestApp) {
    let user = signed_up(&app).await;
    let (first, _) = browser_session(&app, &user).await;
    app.clock.advance(Duration::hours(1));
    let response = refresh_by_cookie(&app, &first).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["access-control-allow-credentials"], "true");
    let second = cookie_pair(&response);
    assert_ne!(second, first);
    // Max-Age is what is left of the session's 30 days, not another 30 days.
    let left = max_age(&set_cookies(&response)[0]);
    assert!((2_588_390..=2_588_400).contains(&left), "Max-Age={left}");
    let body: Value = response.json().await.expect("json");
    assert!(body.get("refresh_token").is_none(), "{body}");
    let access = body["access_token"].as_str().expect("access_token");
    assert_eq!(app.me(access).await.status(), StatusCode::OK);

    app.clock.advance(Duration::seconds(11));
    let replay = refresh_by_cookie(&app, &first).await;
    assert_eq!(set_cookies(&replay), [CLEARED], "a dead cookie is deleted");
    assert_problem(replay, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
}
both_backends!(
    refresh_by_cookie_rotates_the_cookie_and_the_old_one_dies_after_the_grace,
    cookie_mode
);

async fn a_cookie_without_an_origin_is_not_accepted(app: TestApp) {
    let user = signed_up(&app).await;
    let (cookie, _) = browser_session(&app, &user).await;
    for path in ["/api/v1/auth/refresh", "/api/v1/auth/signout"] {
        let response = post_with_cookie(&app, path, None, &cookie).await;
        assert!(set_cookies(&response).is_empty());
        assert_problem(response, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
    }
    // Nothing was spent or ended: the browser's session goes on.
    assert_eq!(refresh_by_cookie(&app, &cookie).await.status(), StatusCode::OK);
}
both_backends!(a_cookie_without_an_origin_is_not_accepted, cookie_mode);

async fn a_cookie_from_a_foreign_origin_is_refused_and_gets_no_cors_headers(app: TestApp) {
    let user = signed_up(&app).await;
    let (cookie, _) = browser_session(&app, &user).await;
    for path in ["/api/v1/auth/refresh", "/api/v1/auth/signout"] {
        for origin in [FOREIGN, "null", "http://127.0.0.1:5173"] {
            let response = post_with_cookie(&app, path, Some(origin), &cookie).await;
            assert!(response.headers().get("access-control-allow-origin").is_none());
            assert!(response.headers().get("access-control-allow-credentials").is_none());
            assert!(set_cookies(&response).is_empty());
            assert_problem(response, StatusCode::FORBIDDEN, "origin_not_allowed").await;
        }
    }
    assert_eq!(refresh_by_cookie(&app, &cookie).await.status(), StatusCode::OK);
}
both_backends!(a_cookie_from_a_foreign_origin_is_refused_and_gets_no_cors_headers, cookie_mode);

async fn an_allowlisted_browser_without_a_cookie_has_no_session(app: TestApp) {
    let response = post_with_cookie(&app, "/api/v1/auth/refresh", Some(SPA), "theme=dark").await;
    assert_problem(response, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
}
both_backends!(an_allowlisted_browser_without_a_cookie_has_no_session, cookie_mode);

async fn a_cookie_refresh_may_send_no_body_at_all(app: TestApp) {
    let user = signed_up(&app).await;
    let (cookie, _) = browser_session(&app, &user).await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .header("origin", SPA)
        .header("cookie", &cookie)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    assert_ne!(cookie_pair(&response), cookie);
}
both_backends!(a_cookie_refresh_may_send_no_body_at_all, cookie_mode);

async fn preflights_allow_every_method_and_header_the_api_uses_with_credentials(app: TestApp) {
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/users/me/avatar"))
            .header("origin", origin)
            .header("access-control-request-method", "PUT")
            .header("access-control-request-headers", "authorization,content-type,x-request-id")
            .send()
    };
    let response = preflight(SPA).await.expect("request");
    assert!(response.status().is_success(), "{}", response.status());
    let headers = response.headers();
    assert_eq!(headers["access-control-allow-origin"], SPA);
    assert_eq!(headers["access-control-allow-credentials"], "true");
    let listed = |name: &str| headers[name].to_str().expect("ascii").to_ascii_lowercase();
    let methods = listed("access-control-allow-methods");
    for method in ["get", "post", "put", "patch", "delete"] {
        assert!(methods.split(',').any(|m| m.trim() == method), "{method} in {methods}");
    }
    let allowed = listed("access-control-allow-headers");
    for header in ["authorization", "content-type", "x-request-id"] {
        assert!(allowed.split(',').any(|h| h.trim() == header), "{header} in {allowed}");
    }
    let foreign = preflight(FOREIGN).await.expect("request");
    assert!(foreign.headers().get("access-control-allow-origin").is_none());
    assert!(foreign.headers().get("access-control-allow-credentials").is_none());
}
both_backends!(preflights_allow_every_method_and_header_the_api_uses_with_credentials, cookie_mode);

async fn signout_by_cookie_ends_the_session_and_deletes_the_cookie(app: TestApp) {
    let user = signed_up(&app).await;
    let (cookie, access) = browser_session(&app, &user).await;
    let response = post_with_cookie(&app, "/api/v1/auth/signout", Some(SPA), &cookie).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(set_cookies(&response), [CLEARED]);
    assert_eq!(app.me(&access).await.status(), StatusCode::UNAUTHORIZED);
    let refresh = refresh_by_cookie(&app, &cookie).await;
    assert_problem(refresh, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
}
both_backends!(signout_by_cookie_ends_the_session_and_deletes_the_cookie, cookie_mode);

async fn sign_out_everywhere_and_account_deletion_delete_the_cookie(app: TestApp) {
    let user = signed_up(&app).await;
    let (cookie, access) = browser_session(&app, &user).await;
    let everywhere = app
        .client
        .delete(app.url("/api/v1/users/me/sessions"))
        .bearer_auth(&access)
        .header("origin", SPA)
        .header("cookie", &cookie)
        .send()
        .await
        .expect("request");
    assert_eq!(everywhere.status(), StatusCode::NO_CONTENT);
    assert_eq!(set_cookies(&everywhere), [CLEARED]);

    let (cookie, access) = browser_session(&app, &user).await;
    let deleted = app
        .client
        .delete(app.url("/api/v1/users/me"))
        .bearer_auth(&access)
        .header("origin", SPA)
        .header("cookie", &cookie)
        .json(&json!({"current_password": user.password}))
        .send()
        .await
        .expect("request");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(set_cookies(&deleted), [CLEARED]);
}
both_backends!(sign_out_everywhere_and_account_deletion_delete_the_cookie, cookie_mode);

async fn clients_without_an_origin_keep_the_body_transport(app: TestApp) {
    let user = signed_up(&app).await;
    let signin = signin_from(&app, &user, None).await;
    assert!(set_cookies(&signin).is_empty());
    assert!(signin.headers().get("access-control-allow-credentials").is_none());
    let body: Value = signin.json().await.expect("json");
    let refresh = body["refresh_token"].as_str().expect("refresh_token in the body");
    let refreshed = app.refresh(refresh).await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    assert!(set_cookies(&refreshed).is_empty());
    let body: Value = refreshed.json().await.expect("json");
    let next = body["refresh_token"].as_str().expect("refresh_token in the body");
    let signout = app.post_json("/api/v1/auth/signout", &json!({"refresh_token": next})).await;
    assert_eq!(signout.status(), StatusCode::NO_CONTENT);
    assert!(set_cookies(&signout).is_empty());
    let missing = app.post_json("/api/v1/auth/refresh", &json!({})).await;
    assert_problem(missing, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}
both_backends!(clients_without_an_origin_keep_the_body_transport, cookie_mode);

async fn without_cookie_mode_allowlisted_browsers_use_the_body_and_send_no_credentials(
    app: TestApp,
) {
    let user = signed_up(&app).await;
    let response = signin_from(&app, &user, Some(SPA)).await;
    assert_eq!(response.headers()["access-control-allow-origin"], SPA);
    assert!(response.headers().get("access-control-allow-credentials").is_none());
    assert!(set_cookies(&response).is_empty());
    let body: Value = response.json().await.expect("json");
    let refresh = body["refresh_token"].as_str().expect("refresh_token in the body");
    let cookie = format!("__Host-warren_refresh={refresh}");
    let ignored = post_with_cookie(&app, "/api/v1/auth/refresh", Some(SPA), &cookie).await;
    assert_problem(ignored, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}
both_backends!(
    without_cookie_mode_allowlisted_browsers_use_the_body_and_send_no_credentials,
    |figment: Figment| figment.merge(("cors.allowed_origins", vec![SPA]))
);

async fn two_concurrent_refreshes_with_one_cookie_both_get_the_same_successor(app: TestApp) {
    let user = signed_up(&app).await;
    let (cookie, _) = browser_session(&app, &user).await;
    let (first, second) =
        tokio::join!(refresh_by_cookie(&app, &cookie), refresh_by_cookie(&app, &cookie));
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(second.status(), StatusCode::OK);
    let successor = cookie_pair(&first);
    assert_eq!(cookie_pair(&second), successor);
    for response in [first, second] {
        let body: Value = response.json().await.expect("json");
        let access = body["access_token"].as_str().expect("access_token");
        assert_eq!(app.me(access).await.status(), StatusCode::OK);
    }
    assert_eq!(refresh_by_cookie(&app, &successor).await.status(), StatusCode::OK);
}
both_backends!(two_concurrent_refreshes_with_one_cookie_both_get_the_same_successor, cookie_mode);

async fn ending_another_session_signs_that_browser_out_at_once(app: TestApp) {
    let user = signed_up(&app).await;
    let (_, mine) = browser_session(&app, &user).await;
    let (other_cookie, other_access) = browser_session(&app, &user).await;
    let sessions = app.sessions(&mine).await;
    let sessions = sessions.as_array().expect("a list");
    assert_eq!(sessions.len(), 2);
    let other = sessions.iter().find(|s| s["current"] == false).expect("the other session");
    let end = |id: String| {
        app.client
            .delete(app.url(&format!("/api/v1/users/me/sessions/{id}")))
            .bearer_auth(&mine)
            .send()
    };
    let ended = end(other["id"].as_str().expect("id").to_owned()).await.expect("request");
    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.me(&other_access).await.status(), StatusCode::UNAUTHORIZED);
    let refresh = refresh_by_cookie(&app, &other_cookie).await;
    assert_problem(refresh, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
    assert_eq!(app.me(&mine).await.status(), StatusCode::OK);
    for unknown in [uuid::Uuid::now_v7().to_string(), "not-a-uuid".to_owned()] {
        let response = end(unknown).await.expect("request");
        assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;
    }
}
both_backends!(ending_another_session_signs_that_browser_out_at_once, cookie_mode);
