//! The error format and the hardening every response shares.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, TestUser, assert_problem, both_backends, database_free};

async fn unknown_routes_are_404_problems(app: TestApp) {
    let response = app.client.get(app.url("/api/v1/nothing-here")).send().await.expect("request");
    assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;
}
database_free!(unknown_routes_are_404_problems);

async fn wrong_methods_are_405_problems_with_allow(app: TestApp) {
    let response = app.client.put(app.url("/api/v1/users/me")).send().await.expect("request");
    assert!(response.headers().contains_key("allow"));
    assert_problem(response, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}
database_free!(wrong_methods_are_405_problems_with_allow);

async fn malformed_json_is_400(app: TestApp) {
    let response = app
        .client
        .post(app.url("/api/v1/auth/signup"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .expect("request");
    assert_problem(response, StatusCode::BAD_REQUEST, "malformed_json").await;
}
database_free!(malformed_json_is_400);

async fn bodies_that_are_not_json_are_415(app: TestApp) {
    let response = app
        .client
        .post(app.url("/api/v1/auth/signin"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=a&password=b")
        .send()
        .await
        .expect("request");
    assert_problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
}
database_free!(bodies_that_are_not_json_are_415);

async fn bodies_over_16_kib_are_413(app: TestApp) {
    let user = TestUser::generate();
    let padded = format!(
        r#"{{"email":"{}","password":"{}","full_name":"{}"}}"#,
        user.email,
        user.password,
        "x".repeat(17 * 1024)
    );
    let response = app
        .client
        .post(app.url("/api/v1/auth/signup"))
        .header("content-type", "application/json")
        .body(padded)
        .send()
        .await
        .expect("request");
    assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    assert_problem(
        app.signin(&user.email, &user.password).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}
database_free!(bodies_over_16_kib_are_413);

async fn a_client_request_id_is_propagated(app: TestApp) {
    let response = app
        .client
        .get(app.url("/api/v1/users/me"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .expect("request");
    assert_eq!(response.headers()["x-request-id"], "trace-me-123");
    let body = assert_problem(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert_eq!(body["request_id"], "trace-me-123");
}
database_free!(a_client_request_id_is_propagated);

async fn security_headers_are_on_every_response(app: TestApp) {
    let ok = app.client.get(app.url("/api/health")).send().await.expect("request");
    let error = app.client.get(app.url("/nowhere")).send().await.expect("request");
    for response in [ok, error] {
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert!(
            headers["strict-transport-security"].to_str().expect("ascii").starts_with("max-age=")
        );
        assert!(
            headers["content-security-policy"]
                .to_str()
                .expect("ascii")
                .contains("default-src 'none'")
        );
        assert!(!headers.contains_key("server"));
    }
}
database_free!(security_headers_are_on_every_response);

async fn error_bodies_never_reveal_internals(app: TestApp) {
    let user = TestUser::generate();
    assert_eq!(app.signup(&user).await.status(), StatusCode::CREATED);
    let responses = [
        app.signup(&user).await,
        app.client
            .post(app.url("/api/v1/auth/signup"))
            .header("content-type", "application/json")
            .body("{\"email\": [}")
            .send()
            .await
            .expect("request"),
        app.me("forged.token.here").await,
    ];
    for response in responses {
        let body: Value = response.json().await.expect("json");
        let text = body.to_string().to_lowercase();
        for leak in [
            "sqlx", "sqlite", "postgres", "select ", "insert ", "/src/", ".rs:", "panicked",
            "warren::",
        ] {
            assert!(!text.contains(leak), "{leak} leaked in {text}");
        }
    }
}
both_backends!(error_bodies_never_reveal_internals);

async fn cors_answers_allowed_origins_only(app: TestApp) {
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/users/me"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    // No origin is configured for tests: nobody is allowed, and nothing is mirrored.
    let response = preflight("https://evil.example").await.expect("request");
    assert!(!response.headers().contains_key("access-control-allow-origin"));
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
}
database_free!(cors_answers_allowed_origins_only);

fn allow_app_origin(figment: figment::Figment) -> figment::Figment {
    figment.merge(("cors.allowed_origins", ["https://app.example.com"]))
}

async fn preflights_echo_exactly_the_allowed_origin_before_auth(app: TestApp) {
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/users/me"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .send()
    };
    let allowed = preflight("https://app.example.com").await.expect("request");
    assert!(allowed.status().is_success(), "preflight needs no token: {}", allowed.status());
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://app.example.com");
    assert!(allowed.headers()["vary"].to_str().expect("ascii").to_lowercase().contains("origin"));
    assert_eq!(allowed.headers()["x-content-type-options"], "nosniff");
    for refused in ["https://evil.example", "null", "https://app.example.com.evil.example"] {
        let response = preflight(refused).await.expect("request");
        assert!(!response.headers().contains_key("access-control-allow-origin"), "{refused}");
    }
}
database_free!(preflights_echo_exactly_the_allowed_origin_before_auth, allow_app_origin);

/// Layers only: routes that misbehave on purpose, wrapped exactly like production's.
mod misbehaving_handlers {
    use std::time::Duration;

    use axum::Router;
    use axum::routing::get;
    use reqwest::StatusCode;
    use warren::core::config::Settings;

    use crate::helpers::assert_problem;

    async fn serve(routes: Router) -> String {
        let dir = tempfile::tempdir().expect("tempdir");
        let figment = Settings::figment(&dir.path().join("absent.toml"))
            .merge(("server.request_timeout_secs", 1));
        let settings = Settings::from_figment(&figment).expect("settings");
        let app = warren::startup::with_layers(routes, &settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{address}")
    }

    async fn boom() -> &'static str {
        panic!("secret internal detail")
    }

    #[tokio::test]
    async fn a_panicking_handler_is_a_500_problem_and_the_server_keeps_serving() {
        let routes =
            Router::new().route("/boom", get(boom)).route("/fine", get(|| async { "fine" }));
        let base = serve(routes).await;
        let client = reqwest::Client::new();
        let response = client.get(format!("{base}/boom")).send().await.expect("request");
        let body = assert_problem(response, StatusCode::INTERNAL_SERVER_ERROR, "internal").await;
        assert!(!body.to_string().contains("secret internal detail"));
        let after = client.get(format!("{base}/fine")).send().await.expect("request");
        assert_eq!(after.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn a_handler_slower_than_the_request_timeout_is_a_408_problem() {
        let routes = Router::new().route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "too late"
            }),
        );
        let base = serve(routes).await;
        let response = reqwest::get(format!("{base}/slow")).await.expect("request");
        assert_problem(response, StatusCode::REQUEST_TIMEOUT, "request_timeout").await;
    }
}
