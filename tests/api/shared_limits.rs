//! The per-IP credential limit on Postgres is shared by every instance: three instances on one
//! database let one client through no more often than one instance would. Postgres only
//! (named `::postgres` so `make test` skips them when Postgres is unreachable).

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::json;
use sqlx::Connection;
use warren::core::config::{RateLimitSettings, Settings};
use warren::startup::Application;

use crate::helpers::{Backend, TestApp, assert_problem, default_database_budget};
use crate::proxy::{Mode, Proxy};

const ATTEMPTS: usize = 60;
/// What the default credential quota lets one client through in any minute, at most.
const MOST_IN_A_MINUTE: usize = 20;

/// The shipped credential quota, not the roomy one the test helpers set.
fn default_credential_limit(figment: figment::Figment) -> figment::Figment {
    let defaults = RateLimitSettings::default();
    figment
        .merge(("rate_limit.auth_burst", defaults.auth_burst))
        .merge(("rate_limit.auth_per_minute", defaults.auth_per_minute))
}

/// Another instance on the test app's database, serving until the returned sender is used.
async fn another_instance(settings: &Settings) -> (String, tokio::sync::oneshot::Sender<()>) {
    let mut settings = settings.clone();
    settings.server.port = 0;
    let instance = Application::build(&settings).await.expect("another instance");
    let base = format!("http://127.0.0.1:{}", instance.local_addr().expect("bound").port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(instance.run_until(async {
        let _ = stopped.await;
    }));
    (base, stop)
}

async fn wrong_signin(client: &reqwest::Client, base: &str, attempt: usize) -> reqwest::Response {
    // A different unknown email each time: only the per-IP limit can answer 429.
    let email = format!("nobody-{attempt}-{}@example.com", uuid::Uuid::now_v7().simple());
    client
        .post(format!("{base}/api/v1/auth/signin"))
        .json(&json!({"email": email, "password": "not the password at all"}))
        .send()
        .await
        .expect("request")
}

/// How many of 60 signins spread round-robin over `bases` got past the limit; asserts every
/// other one was a 429 with `Retry-After`.
async fn signins_past_the_limit(app: &TestApp, bases: &[String], concurrently: bool) -> usize {
    let send = |attempt: usize| wrong_signin(&app.client, &bases[attempt % bases.len()], attempt);
    let responses = if concurrently {
        join_all((0..ATTEMPTS).map(send)).await
    } else {
        let mut responses = Vec::new();
        for attempt in 0..ATTEMPTS {
            responses.push(send(attempt).await);
        }
        responses
    };
    let mut passed = 0;
    for response in responses {
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(response.headers().contains_key("retry-after"));
            assert_problem(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
        } else {
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            passed += 1;
        }
    }
    passed
}

async fn over_three_instances(concurrently: bool) -> usize {
    let app = TestApp::spawn_with(Backend::Postgres, default_credential_limit).await;
    let (second, stop_second) = another_instance(&app.settings).await;
    let (third, stop_third) = another_instance(&app.settings).await;
    let bases = [app.address.clone(), second, third];
    let passed = signins_past_the_limit(&app, &bases, concurrently).await;
    let _ = (stop_second.send(()), stop_third.send(()));
    passed
}

mod sixty_signins_over_three_instances_let_at_most_20_through_as_one_instance_would {
    use super::*;

    #[tokio::test]
    async fn postgres() {
        let started = std::time::Instant::now();
        let alone = TestApp::spawn_with(Backend::Postgres, default_credential_limit).await;
        let one = signins_past_the_limit(&alone, std::slice::from_ref(&alone.address), false).await;
        let three = over_three_instances(false).await;
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "all within a minute");
        let burst = usize::try_from(RateLimitSettings::default().auth_burst).expect("small");
        for passed in [one, three] {
            assert!((burst..=MOST_IN_A_MINUTE).contains(&passed), "one: {one}, three: {three}");
        }
        // The same quota, refilled over a few seconds at most: one more request at the most.
        assert!(one.abs_diff(three) <= 1, "one: {one}, three: {three}");
    }
}

mod sixty_concurrent_signins_over_three_instances_let_at_most_20_through {
    use super::*;

    #[tokio::test]
    async fn postgres() {
        let passed = over_three_instances(true).await;
        let burst = usize::try_from(RateLimitSettings::default().auth_burst).expect("small");
        assert!((burst..=MOST_IN_A_MINUTE).contains(&passed), "{passed} passed");
    }
}

async fn assert_unavailable(response: reqwest::Response) {
    assert!(response.headers().contains_key("retry-after"));
    assert_problem(response, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable").await;
}

mod a_cut_postgres_refuses_credentials_with_503_never_letting_them_through {
    use super::*;

    #[tokio::test]
    async fn postgres() {
        let proxy = Proxy::start("127.0.0.1:5432".parse().expect("address")).await;
        let port = proxy.port;
        let app = TestApp::spawn_with(Backend::Postgres, move |figment| {
            let url: String = figment.extract_inner("database.url").expect("url");
            let through_proxy = url.replacen("127.0.0.1:5432", &format!("127.0.0.1:{port}"), 1);
            default_database_budget(figment.merge(("database.url", through_proxy)))
        })
        .await;
        for mode in [Mode::Refuse, Mode::Blackhole] {
            proxy.set(mode);
            assert_unavailable(wrong_signin(&app.client, &app.address, 0).await).await;
        }
        proxy.set(Mode::Forward);
        let healed = wrong_signin(&app.client, &app.address, 1).await;
        assert_eq!(healed.status(), StatusCode::UNAUTHORIZED);
    }
}

mod a_limit_that_cannot_be_checked_refuses_with_503 {
    use super::*;

    #[tokio::test]
    async fn postgres() {
        let app = TestApp::spawn(Backend::Postgres).await;
        assert_eq!(wrong_signin(&app.client, &app.address, 0).await.status(), 401);
        let url = app.settings.database_url();
        let mut admin = sqlx::PgConnection::connect(&url).await.expect("a second connection");
        // The database answers, but the limit's statement fails: no pass, no 500.
        sqlx::query("ALTER TABLE rate_limits RENAME TO rate_limits_away")
            .execute(&mut admin)
            .await
            .expect("rename");
        assert_unavailable(wrong_signin(&app.client, &app.address, 1).await).await;
    }
}
