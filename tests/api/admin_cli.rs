//! `warren users …` and `warren health`: the real binary, run against the database of a
//! running server, whose next requests must see each change.

use std::process::Output;

use reqwest::StatusCode;
use serde_json::Value;
use warren::domain::{AuthEventKind, EmailAddress};

use crate::helpers::{TestApp, TestUser, both_backends};
use crate::live::{close_code_within, next_frame, open};

/// Runs `warren args…` on `app`'s database and address, off the test's runtime thread (the
/// server shares it).
pub(crate) async fn warren(app: &TestApp, args: &[&str]) -> Output {
    warren_with(app, args, &[]).await
}

/// [`warren`] with extra environment variables (settings the command reads).
pub(crate) async fn warren_with(app: &TestApp, args: &[&str], env: &[(&str, &str)]) -> Output {
    let env: Vec<(String, String)> =
        env.iter().map(|&(key, value)| (key.to_owned(), value.to_owned())).collect();
    let port = app.address.rsplit(':').next().expect("address has a port").to_owned();
    let database_url = app.settings.database_url();
    let data_dir = app.settings.data_dir.clone();
    let args: Vec<String> = args.iter().map(|&arg| arg.to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_warren"))
            .args(&args)
            .current_dir(&data_dir)
            .env_clear()
            .env("DATABASE_URL", database_url)
            .env("WARREN_DATA_DIR", &data_dir)
            .env("WARREN_SERVER__PORT", port)
            .envs(env)
            .output()
            .expect("run warren")
    })
    .await
    .expect("warren finished")
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs a command that must exit 0 and returns its stdout.
pub(crate) async fn succeeds(app: &TestApp, args: &[&str]) -> String {
    let output = warren(app, args).await;
    assert_eq!(output.status.code(), Some(0), "{args:?}: {}{}", stdout(&output), stderr(&output));
    stdout(&output)
}

/// The parts of a problem that must not tell two failures apart (`request_id` always differs).
async fn problem_shape(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let mut body: Value = response.json().await.expect("problem json");
    body.as_object_mut().expect("object").remove("request_id");
    (status, body)
}

async fn audit_kinds(app: &TestApp, email: &str) -> Vec<AuthEventKind> {
    let repositories = app.database.repositories();
    let email = EmailAddress::parse(email).expect("valid email");
    let user = repositories.users.find_by_email(&email).await.expect("lookup").expect("user");
    let events = repositories.audit.for_user(user.id).await.expect("events");
    events.into_iter().map(|event| event.kind).collect()
}

async fn deactivated_accounts_sign_in_like_a_wrong_password_until_activated(app: TestApp) {
    let (user, token) = app.signed_in_user().await;
    let wrong = problem_shape(app.signin(&user.email, "not the password at all").await).await;
    assert_eq!(wrong.0, StatusCode::UNAUTHORIZED);

    let printed = succeeds(&app, &["users", "deactivate", &user.email]).await;

    assert!(printed.contains("deactivated"), "{printed}");
    assert_eq!(problem_shape(app.signin(&user.email, &user.password).await).await, wrong);
    assert_eq!(app.me(&token).await.status(), StatusCode::UNAUTHORIZED);

    succeeds(&app, &["users", "activate", &user.email.to_uppercase()]).await;

    assert_eq!(app.signin(&user.email, &user.password).await.status(), StatusCode::OK);
    assert_eq!(app.me(&token).await.status(), StatusCode::OK);
    let kinds = audit_kinds(&app, &user.email).await;
    assert!(
        kinds.ends_with(&[
            AuthEventKind::CliDeactivated,
            AuthEventKind::SigninFailure,
            AuthEventKind::CliActivated,
            AuthEventKind::SigninSuccess
        ]),
        "{kinds:?}"
    );
}
both_backends!(deactivated_accounts_sign_in_like_a_wrong_password_until_activated);

async fn sign_out_from_the_cli_ends_every_session_and_access_token(app: TestApp) {
    let user = TestUser::generate();
    assert_eq!(app.signup(&user).await.status(), StatusCode::CREATED);
    let first = app.signin_body(&user, "laptop").await;
    let second = app.signin_body(&user, "phone").await;

    let printed = succeeds(&app, &["users", "sign-out", &user.email, "--json"]).await;

    let printed: Value = serde_json::from_str(&printed).expect("--json prints JSON");
    assert_eq!(printed["user"]["email"], user.email.to_lowercase());
    assert_eq!(printed["outcome"], "signed out (2 sessions revoked)");
    for body in [&first, &second] {
        let refresh = body["refresh_token"].as_str().expect("refresh token");
        assert_eq!(app.refresh(refresh).await.status(), StatusCode::UNAUTHORIZED);
        let access = body["access_token"].as_str().expect("access token");
        assert_eq!(app.me(access).await.status(), StatusCode::UNAUTHORIZED);
    }
    let kinds = audit_kinds(&app, &user.email).await;
    assert_eq!(kinds.last(), Some(&AuthEventKind::CliSignedOut));
}
both_backends!(sign_out_from_the_cli_ends_every_session_and_access_token);

/// The command runs in another process: on Postgres its `NOTIFY` reaches the server, on SQLite
/// the notice it leaves in the database file. Either way the socket closes within 2 s.
async fn cli_changes_close_the_running_servers_event_sockets_within_two_seconds(app: TestApp) {
    let patience = std::time::Duration::from_secs(2);
    for command in
        [&["users", "deactivate"][..], &["users", "sign-out"], &["users", "delete", "--yes"]]
    {
        let (user, token) = app.signed_in_user().await;
        let (mut socket, _) = open(&app, &token).await;

        let mut args = command.to_vec();
        args.insert(2, &user.email);
        succeeds(&app, &args).await;
        let done = std::time::Instant::now();

        if command[1] == "delete" {
            assert_eq!(next_frame(&mut socket).await["type"], "account_deleted");
        }
        let left = patience.saturating_sub(done.elapsed());
        assert_eq!(close_code_within(&mut socket, left).await, 4401, "{command:?}");
    }
}
both_backends!(cli_changes_close_the_running_servers_event_sockets_within_two_seconds);

async fn delete_refuses_without_yes_and_deletes_with_it(app: TestApp) {
    let (user, token) = app.signed_in_user().await;

    let refused = warren(&app, &["users", "delete", &user.email]).await;

    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("--yes"), "{}", stderr(&refused));
    assert_eq!(app.me(&token).await.status(), StatusCode::OK);

    succeeds(&app, &["users", "delete", &user.email, "--yes"]).await;

    assert_eq!(app.me(&token).await.status(), StatusCode::UNAUTHORIZED);
    let gone = warren(&app, &["users", "show", &user.email]).await;
    assert_eq!(gone.status.code(), Some(1));
}
both_backends!(delete_refuses_without_yes_and_deletes_with_it);

async fn unknown_accounts_exit_1_and_unusable_names_exit_2(app: TestApp) {
    for action in ["show", "deactivate", "activate", "sign-out"] {
        let output = warren(&app, &["users", action, "nobody@example.com"]).await;
        assert_eq!(output.status.code(), Some(1), "{action}");
        assert!(stderr(&output).contains("no account matches \"nobody@example.com\""), "{action}");
    }
    let unknown_id = uuid::Uuid::now_v7().to_string();
    assert_eq!(warren(&app, &["users", "show", &unknown_id]).await.status.code(), Some(1));
    let unusable = warren(&app, &["users", "show", "not an account"]).await;
    assert_eq!(unusable.status.code(), Some(2));
    assert!(stderr(&unusable).contains("neither a user id nor an email"), "{}", stderr(&unusable));
    assert_eq!(warren(&app, &["users", "frobnicate"]).await.status.code(), Some(2));
}
both_backends!(unknown_accounts_exit_1_and_unusable_names_exit_2);

async fn list_and_show_print_what_the_api_shows(app: TestApp) {
    let (user, token) = app.signed_in_user().await;
    let (other, _) = app.signed_in_user().await;
    let me: Value = app.me(&token).await.json().await.expect("json");

    let listed = succeeds(&app, &["users", "list", "--json", "--query", &user.email]).await;
    let shown = succeeds(&app, &["users", "show", me["id"].as_str().expect("id"), "--json"]).await;
    let table = succeeds(&app, &["users", "list", "--limit", "1"]).await;

    let listed: Value = serde_json::from_str(&listed).expect("list --json prints JSON");
    assert_eq!(listed, Value::Array(vec![me.clone()]));
    assert_eq!(serde_json::from_str::<Value>(&shown).expect("show --json prints JSON"), me);
    assert!(table.starts_with("ID"), "{table}");
    assert!(table.contains(&user.email.to_lowercase()), "oldest first: {table}");
    assert!(!table.contains(&other.email.to_lowercase()), "limit 1: {table}");
}
both_backends!(list_and_show_print_what_the_api_shows);

async fn health_exits_0_against_a_ready_server_and_1_once_it_stopped(mut app: TestApp) {
    let ready = succeeds(&app, &["health"]).await;
    assert!(ready.contains("ready"), "{ready}");

    app.stop().await;

    let stopped = warren(&app, &["health"]).await;
    assert_eq!(stopped.status.code(), Some(1));
    assert!(stderr(&stopped).contains("/api/health/ready"), "{}", stderr(&stopped));
}
both_backends!(health_exits_0_against_a_ready_server_and_1_once_it_stopped);
