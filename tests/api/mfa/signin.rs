//! The two-step signin: codes, recovery codes and the `mfa_token`.

use super::*;

async fn enrolling_turns_signin_into_two_steps_whose_tokens_say_otp(app: TestApp) {
    let enrolled = enrolled(&app).await;
    let me: Value = app.me(&enrolled.access_token).await.json().await.expect("json");
    assert_eq!(me["mfa_enabled"], true);
    assert_eq!(amr_of(&enrolled.access_token), json!(["pwd"]));

    let token = mfa_token(&app, &enrolled.user).await;
    let sessions =
        app.client.get(app.url("/api/v1/users/me/sessions")).bearer_auth(&enrolled.access_token);
    let listed: Vec<Value> = sessions.send().await.expect("request").json().await.expect("json");
    assert_eq!(listed.len(), 1, "the first step opens no session");

    let code = code_at(&enrolled.totp(), app.clock.now());
    let response = second_step(&app, &token, &code).await;
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.expect("json");
    assert_eq!(tokens["token_type"], "bearer");
    assert_eq!(tokens["user"]["mfa_enabled"], true);
    let access = tokens["access_token"].as_str().expect("access_token");
    assert_eq!(amr_of(access), json!(["pwd", "otp"]));
    assert_eq!(app.me(access).await.status(), StatusCode::OK);

    let refreshed = app.refresh(tokens["refresh_token"].as_str().expect("refresh_token")).await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed: Value = refreshed.json().await.expect("json");
    let access = refreshed["access_token"].as_str().expect("access_token");
    assert_eq!(amr_of(access), json!(["pwd", "otp"]), "a refresh keeps the signin's amr");
    let reused = second_step(&app, &token, &code_at(&enrolled.totp(), app.clock.now())).await;
    assert_problem(reused, StatusCode::UNAUTHORIZED, "invalid_mfa_token").await;
}
both_backends!(enrolling_turns_signin_into_two_steps_whose_tokens_say_otp);

async fn a_code_works_once_and_one_from_two_steps_ago_not_at_all(app: TestApp) {
    let enrolled = enrolled(&app).await;
    let totp = enrolled.totp();
    let token = mfa_token(&app, &enrolled.user).await;

    let old = code_at(&totp, app.clock.now() - Duration::seconds(60));
    assert_problem(
        second_step(&app, &token, &old).await,
        StatusCode::UNAUTHORIZED,
        "invalid_mfa_code",
    )
    .await;
    // Four wrong codes in all: the token survives four.
    for malformed in ["", "abcdef", &"9".repeat(500)] {
        let response = second_step(&app, &token, malformed).await;
        assert_problem(response, StatusCode::UNAUTHORIZED, "invalid_mfa_code").await;
    }
    let code = code_at(&totp, app.clock.now());
    assert_eq!(second_step(&app, &token, &code).await.status(), StatusCode::OK);

    let again = mfa_token(&app, &enrolled.user).await;
    let reused = second_step(&app, &again, &code).await;
    assert_problem(reused, StatusCode::UNAUTHORIZED, "invalid_mfa_code").await;
}
both_backends!(a_code_works_once_and_one_from_two_steps_ago_not_at_all);

async fn a_recovery_code_works_once(app: TestApp) {
    let enrolled = enrolled(&app).await;
    let recovery = &enrolled.recovery_codes[0];

    let first = mfa_token(&app, &enrolled.user).await;
    let response = second_step(&app, &first, &recovery.to_uppercase()).await;
    assert_eq!(response.status(), StatusCode::OK, "case and dashes do not matter");
    let tokens: Value = response.json().await.expect("json");
    assert_eq!(amr_of(tokens["access_token"].as_str().expect("token")), json!(["pwd", "otp"]));

    let second = mfa_token(&app, &enrolled.user).await;
    let reused = second_step(&app, &second, recovery).await;
    assert_problem(reused, StatusCode::UNAUTHORIZED, "invalid_mfa_code").await;
    let export =
        app.client.get(app.url("/api/v1/users/me/export")).bearer_auth(&enrolled.access_token);
    let export: Value = export.send().await.expect("request").json().await.expect("json");
    assert_eq!(export["mfa"]["enabled"], true);
    assert!(export["mfa"]["enabled_at"].is_string());
    assert_eq!(export["mfa"]["recovery_codes_left"], 9);
    let text = export.to_string();
    assert!(!text.contains(&enrolled.secret) && !text.contains(&enrolled.recovery_codes[1]));
}
both_backends!(a_recovery_code_works_once);

async fn five_wrong_codes_kill_the_mfa_token(app: TestApp) {
    let enrolled = enrolled(&app).await;
    let token = mfa_token(&app, &enrolled.user).await;
    let wrong = wrong_code(&enrolled.totp(), app.clock.now());

    for attempt in 1..=5 {
        let response = second_step(&app, &token, &wrong).await;
        let body = assert_problem(response, StatusCode::UNAUTHORIZED, "invalid_mfa_code").await;
        assert_eq!(body["status"], 401, "attempt {attempt}");
    }
    let right = code_at(&enrolled.totp(), app.clock.now());
    let dead = second_step(&app, &token, &right).await;
    assert_problem(dead, StatusCode::UNAUTHORIZED, "invalid_mfa_token").await;
    let garbage = second_step(&app, "wmt_not-a-token", &right).await;
    assert_problem(garbage, StatusCode::UNAUTHORIZED, "invalid_mfa_token").await;
}
both_backends!(five_wrong_codes_kill_the_mfa_token);

async fn an_expired_mfa_token_is_refused(app: TestApp) {
    let enrolled = enrolled(&app).await;
    let token = mfa_token(&app, &enrolled.user).await;
    app.clock.advance(Duration::seconds(301));
    let response = second_step(&app, &token, &code_at(&enrolled.totp(), app.clock.now())).await;
    assert_problem(response, StatusCode::UNAUTHORIZED, "invalid_mfa_token").await;
}
both_backends!(an_expired_mfa_token_is_refused);

async fn concurrent_uses_of_one_recovery_code_succeed_once(app: TestApp) {
    let enrolled = enrolled(&app).await;
    let mut tokens = Vec::new();
    for _ in 0..4 {
        tokens.push(mfa_token(&app, &enrolled.user).await);
    }
    let recovery = &enrolled.recovery_codes[3];

    let attempts = tokens.iter().map(|token| second_step(&app, token, recovery));
    let responses = futures_util::future::join_all(attempts).await;

    let statuses: Vec<StatusCode> = responses.iter().map(Response::status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::UNAUTHORIZED));
}
both_backends!(concurrent_uses_of_one_recovery_code_succeed_once);
