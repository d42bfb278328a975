//! Signing up and signing in.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, assert_problem, both_backends, field_codes};

async fn signup_returns_201_with_the_user_and_never_a_hash(app: TestApp) {
    let user = TestUser::generate();
    let response = app.signup(&user).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.expect("json");
    let created = &body["user"];
    assert_eq!(created["email"], user.email.to_lowercase());
    assert_eq!(created["full_name"], user.full_name);
    assert_eq!(created["is_active"], true);
    assert!(body["message"].is_string());
    let id = uuid::Uuid::parse_str(created["id"].as_str().expect("id")).expect("uuid");
    assert_eq!(id.get_version_num(), 7);
    let created_at = created["created_at"].as_str().expect("created_at");
    assert!(created_at.ends_with('Z'), "RFC 3339 UTC: {created_at}");
    let text = body.to_string();
    assert!(!text.contains("argon2") && !text.contains("password"), "{text}");
}
both_backends!(signup_returns_201_with_the_user_and_never_a_hash);

async fn signup_without_full_name_leaves_it_null(app: TestApp) {
    let user = TestUser::generate();
    let body = json!({"email": user.email, "password": user.password});
    let response = app.post_json("/api/v1/auth/signup", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["user"]["full_name"], Value::Null);
}
both_backends!(signup_without_full_name_leaves_it_null);

async fn signup_with_a_taken_email_in_another_case_is_409(app: TestApp) {
    let user = TestUser::generate();
    assert_eq!(app.signup(&user).await.status(), StatusCode::CREATED);
    let shouting = TestUser { email: user.email.to_uppercase(), ..TestUser::generate() };
    assert_problem(app.signup(&shouting).await, StatusCode::CONFLICT, "email_taken").await;
}
both_backends!(signup_with_a_taken_email_in_another_case_is_409);

async fn concurrent_signups_with_one_email_create_exactly_one_account(app: TestApp) {
    let email = TestUser::generate().email;
    let attempts = (0..6).map(|_| {
        let user = TestUser { email: email.clone(), ..TestUser::generate() };
        let app = &app;
        async move { app.signup(&user).await.status() }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    let created = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
    let conflicts = statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count();
    assert_eq!((created, conflicts), (1, 5), "{statuses:?}");
}
both_backends!(concurrent_signups_with_one_email_create_exactly_one_account);

async fn signup_with_invalid_fields_names_each_of_them(app: TestApp) {
    let body = json!({"email": "not-an-email", "password": "short", "full_name": "  "});
    let response = app.post_json("/api/v1/auth/signup", &body).await;
    let problem =
        assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(
        field_codes(&problem),
        [
            ("email".to_owned(), "invalid_email".to_owned()),
            ("password".to_owned(), "too_short".to_owned()),
            ("full_name".to_owned(), "blank".to_owned()),
        ]
    );
}
both_backends!(signup_with_invalid_fields_names_each_of_them);

async fn signup_with_a_short_password_is_422(app: TestApp) {
    let user = TestUser { password: "elevenchars".to_owned(), ..TestUser::generate() };
    let problem = assert_problem(
        app.signup(&user).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_codes(&problem), [("password".to_owned(), "too_short".to_owned())]);
    assert_problem(
        app.signin(&user.email, &user.password).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}
both_backends!(signup_with_a_short_password_is_422);

async fn signup_with_a_password_containing_the_email_is_422(app: TestApp) {
    let user =
        TestUser { email: "margaret.hamilton@example.com".to_owned(), ..TestUser::generate() };
    let user = TestUser { password: "my name is Margaret.Hamilton!".to_owned(), ..user };
    let problem = assert_problem(
        app.signup(&user).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_codes(&problem), [("password".to_owned(), "contains_email".to_owned())]);
}
both_backends!(signup_with_a_password_containing_the_email_is_422);

async fn signup_refuses_unknown_and_duplicate_fields(app: TestApp) {
    let user = TestUser::generate();
    let body = json!({"email": user.email, "password": user.password, "is_admin": true});
    let problem = assert_problem(
        app.post_json("/api/v1/auth/signup", &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_codes(&problem), [("is_admin".to_owned(), "unknown_field".to_owned())]);

    let duplicated = format!(
        r#"{{"email":"{}","password":"{}","email":"other@example.com"}}"#,
        user.email, user.password
    );
    let response = app
        .client
        .post(app.url("/api/v1/auth/signup"))
        .header("content-type", "application/json")
        .body(duplicated)
        .send()
        .await
        .expect("request");
    let problem =
        assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(field_codes(&problem), [("email".to_owned(), "duplicate_field".to_owned())]);
    assert_problem(
        app.signin(&user.email, &user.password).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}
both_backends!(signup_refuses_unknown_and_duplicate_fields);

async fn nul_and_control_characters_are_422_and_store_nothing(app: TestApp) {
    let cases = [
        (
            TestUser { full_name: "Null\u{0}Byte".to_owned(), ..TestUser::generate() },
            "full_name",
            "invalid_characters",
        ),
        (
            TestUser { password: "twelve chars\u{0}more".to_owned(), ..TestUser::generate() },
            "password",
            "invalid_characters",
        ),
        (
            TestUser { email: "nul\u{0}byte@example.com".to_owned(), ..TestUser::generate() },
            "email",
            "invalid_email",
        ),
        (
            TestUser { full_name: "Bell\u{7}".to_owned(), ..TestUser::generate() },
            "full_name",
            "invalid_characters",
        ),
    ];
    for (user, field, code) in cases {
        let problem = assert_problem(
            app.signup(&user).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(field_codes(&problem), [(field.to_owned(), code.to_owned())]);
    }
    let (_, token) = app.signed_in_user().await;
    let response = app.patch_me(&token, &json!({"full_name": "Tab\tbed"})).await;
    assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}
both_backends!(nul_and_control_characters_are_422_and_store_nothing);

async fn common_passwords_are_refused(app: TestApp) {
    let user = TestUser { password: "Q1w2e3r4t5y6".to_owned(), ..TestUser::generate() };
    let problem = assert_problem(
        app.signup(&user).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_codes(&problem), [("password".to_owned(), "too_common".to_owned())]);
}
both_backends!(common_passwords_are_refused);

async fn signin_returns_a_bearer_token_for_the_user(app: TestApp) {
    let user = TestUser::generate();
    app.signup(&user).await;
    let response = app.signin(&user.email.to_uppercase(), &user.password).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["user"]["email"], user.email.to_lowercase());
    assert_eq!(body["access_token"].as_str().expect("token").split('.').count(), 3);
}
both_backends!(signin_returns_a_bearer_token_for_the_user);

async fn signin_with_a_wrong_password_is_401(app: TestApp) {
    let user = TestUser::generate();
    app.signup(&user).await;
    let response = app.signin(&user.email, "not the password at all").await;
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert_problem(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}
both_backends!(signin_with_a_wrong_password_is_401);

async fn signin_with_unknown_email_looks_like_wrong_password(app: TestApp) {
    let user = TestUser::generate();
    app.signup(&user).await;
    let wrong_password = app.signin(&user.email, "not the password at all").await;
    let unknown_email = app.signin("nobody@example.com", "not the password at all").await;
    assert_eq!(wrong_password.status(), unknown_email.status());
    let header_names = |r: &reqwest::Response| {
        let mut names: Vec<(String, String)> = r
            .headers()
            .iter()
            .filter(|(name, _)| !matches!(name.as_str(), "x-request-id" | "date"))
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_owned()))
            .collect();
        names.sort();
        names
    };
    assert_eq!(header_names(&wrong_password), header_names(&unknown_email));
    let without_request_id = |mut body: Value| {
        body.as_object_mut().expect("object").remove("request_id");
        body
    };
    let a: Value = wrong_password.json().await.expect("json");
    let b: Value = unknown_email.json().await.expect("json");
    assert_eq!(without_request_id(a), without_request_id(b));
}
both_backends!(signin_with_unknown_email_looks_like_wrong_password);

async fn signin_with_an_empty_password_is_422(app: TestApp) {
    let problem = assert_problem(
        app.signin("someone@example.com", "").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(field_codes(&problem), [("password".to_owned(), "required".to_owned())]);
}
both_backends!(signin_with_an_empty_password_is_422);
