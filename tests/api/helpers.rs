//! `TestApp`: the production application on port 0 with a fresh database, dropped afterwards.

use std::sync::Arc;

use fake::Fake;
use fake::faker::internet::en::SafeEmail;
use fake::faker::name::en::Name;
use figment::Figment;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;
use time::OffsetDateTime;
use warren::core::clock::{Clock, SystemClock};
use warren::core::config::Settings;
use warren::core::security::PasswordHasher;
use warren::repositories::Database;
use warren::startup::Application;

/// Runs one async test body against both databases: `name::sqlite` and `name::postgres`.
/// `both_backends!(name, configure)` layers `configure` over the test settings.
macro_rules! both_backends {
    (@configure) => { |figment| figment };
    (@configure $configure:expr) => { $configure };
    // `both_backends!(name)` / `both_backends!(name, configure)`: runs the plain
    // `async fn name(app: TestApp)` beside it as `name::sqlite` and `name::postgres`.
    ($name:ident $(, $configure:expr)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let configure = $crate::helpers::both_backends!(@configure $($configure)?);
                let backend = $crate::helpers::Backend::Sqlite;
                super::$name($crate::helpers::TestApp::spawn_with(backend, configure).await).await;
            }

            #[tokio::test]
            async fn postgres() {
                let configure = $crate::helpers::both_backends!(@configure $($configure)?);
                let backend = $crate::helpers::Backend::Postgres;
                super::$name($crate::helpers::TestApp::spawn_with(backend, configure).await).await;
            }
        }
    };
}
pub(crate) use both_backends;

/// Runs the plain `async fn name(app: TestApp)` beside it once, as `name::once` on SQLite: for
/// behaviour no database takes part in (routing, headers, CORS, OpenAPI, keys).
macro_rules! database_free {
    ($name:ident $(, $configure:expr)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn once() {
                let configure = $crate::helpers::both_backends!(@configure $($configure)?);
                let backend = $crate::helpers::Backend::Sqlite;
                super::$name($crate::helpers::TestApp::spawn_with(backend, configure).await).await;
            }
        }
    };
}
pub(crate) use database_free;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where the Postgres tests create their throwaway databases.
fn postgres_admin_url() -> String {
    std::env::var("POSTGRES_TEST_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A Postgres database created for one test and dropped when the test ends, pass or fail.
struct ThrowawayDatabase {
    name: String,
}

impl ThrowawayDatabase {
    async fn create() -> (Self, String) {
        let name = format!("warren_test_{}", uuid::Uuid::now_v7().simple());
        let admin = postgres_admin_url();
        let mut connection = sqlx::PgConnection::connect(&admin)
            .await
            .expect("Postgres is reachable (set POSTGRES_TEST_URL)");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut connection)
            .await
            .expect("create test database");
        let url = match admin.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("POSTGRES_TEST_URL must name a database"),
        };
        (Self { name }, url)
    }
}

impl Drop for ThrowawayDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside any runtime we may block, so drop the database from a thread.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut connection = sqlx::PgConnection::connect(&postgres_admin_url()).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut connection)
                .await?;
                Ok::<_, sqlx::Error>(())
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

/// The real clock plus an offset tests can move forward, to cross expiry boundaries without
/// sleeping.
#[derive(Debug, Clone, Default)]
pub struct TestClock(Arc<std::sync::Mutex<time::Duration>>);

impl TestClock {
    pub fn advance(&self, by: time::Duration) {
        *self.0.lock().expect("clock lock") += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        SystemClock.now() + *self.0.lock().expect("clock lock")
    }
}

struct RunningServer {
    port: u16,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

async fn start(
    figment: &Figment,
    clock: &TestClock,
    password_params: &argon2::Params,
) -> (Settings, Database, RunningServer) {
    let settings = Settings::from_figment(figment).expect("test settings are valid");
    let clock = Arc::new(clock.clone());
    let application =
        Application::build_with_password_params(&settings, clock, password_params.clone())
            .await
            .expect("application builds");
    let port = application.local_addr().expect("bound").port();
    let database = application.database().clone();
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(application.run_until(async {
        let _ = stopped.await;
    }));
    (settings, database, RunningServer { port, shutdown, task })
}

pub struct TestApp {
    pub address: String,
    pub clock: TestClock,
    pub client: reqwest::Client,
    pub database: Database,
    pub settings: Settings,
    figment: Figment,
    /// Argon2 parameters new hashes get: the policy's unless a test plays an older policy.
    password_params: argon2::Params,
    server: Option<RunningServer>,
    _data_dir: tempfile::TempDir,
    _postgres: Option<ThrowawayDatabase>,
}

/// A signed-up user and the password they chose.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub email: String,
    pub password: String,
    pub full_name: String,
}

impl TestUser {
    pub fn generate() -> Self {
        Self {
            email: SafeEmail().fake(),
            password: format!("{} {}", uuid::Uuid::now_v7().simple(), "staple battery"),
            full_name: Name().fake(),
        }
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |figment| figment).await
    }

    /// Spawns with extra configuration layered over the test defaults.
    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(Figment) -> Figment) -> Self {
        let clock = TestClock::default();
        let data_dir = tempfile::tempdir().expect("temporary data dir");
        let (postgres, url) = match backend {
            Backend::Sqlite => (None, format!("sqlite://{}/warren.db", data_dir.path().display())),
            Backend::Postgres => {
                let (database, url) = ThrowawayDatabase::create().await;
                (Some(database), url)
            }
        };
        let figment = Settings::figment(&data_dir.path().join("absent.toml"))
            .merge(("server.port", 0))
            .merge(("data_dir", data_dir.path()))
            .merge(("database.url", url))
            .merge(("database.max_connections", 4))
            // Limits stay on (the layers are exercised) but roomy: tests share 127.0.0.1.
            .merge(("rate_limit.auth_burst", 10_000))
            .merge(("rate_limit.general_burst", 10_000));
        let figment = configure(figment);
        let password_params = PasswordHasher::recommended_params();
        let (settings, database, server) = start(&figment, &clock, &password_params).await;
        Self {
            address: format!("http://127.0.0.1:{}", server.port),
            clock,
            client: reqwest::Client::new(),
            database,
            settings,
            figment,
            password_params,
            server: Some(server),
            _data_dir: data_dir,
            _postgres: postgres,
        }
    }

    /// Stops the server gracefully and starts a new one on the same port and database with
    /// `configure` layered on top, as an operator's restart would.
    /// A server already stopped with [`Self::stop`] starts again on the port it had.
    pub async fn restart_with(&mut self, configure: impl FnOnce(Figment) -> Figment) {
        let port = match self.server {
            Some(_) => self.stop().await,
            None => self.address.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or(0),
        };
        let figment = configure(self.figment.clone()).merge(("server.port", port));
        let (settings, database, server) =
            start(&figment, &self.clock, &self.password_params).await;
        (self.settings, self.database, self.server) = (settings, database, Some(server));
    }

    /// Restarts hashing new passwords with `params` instead of the policy's, as an instance
    /// running an older (or newer) policy would.
    pub async fn restart_with_password_params(&mut self, params: argon2::Params) {
        self.password_params = params;
        self.restart_with(|figment| figment).await;
    }

    /// Stops the server (connections closed, pool closed) and returns the port it used.
    pub async fn stop(&mut self) -> u16 {
        let server = self.server.take().expect("server is running");
        let _ = server.shutdown.send(());
        server.task.await.expect("server task").expect("server stopped cleanly");
        server.port
    }

    /// Marks an account inactive through the repository (there is no API for it).
    pub async fn deactivate(&self, email: &str) {
        let users = &self.database.repositories().users;
        let email = warren::domain::EmailAddress::parse(email).expect("valid email");
        let credentials = users.find_credentials_by_email(&email).await.expect("lookup");
        let id = credentials.expect("the account exists").user.id;
        let user = users.set_active(id, false, OffsetDateTime::now_utc()).await.expect("update");
        assert!(!user.expect("the account exists").is_active);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client.post(self.url(path)).json(body).send().await.expect("request")
    }

    pub async fn signup(&self, user: &TestUser) -> Response {
        let body =
            json!({"email": user.email, "password": user.password, "full_name": user.full_name});
        self.post_json("/api/v1/auth/signup", &body).await
    }

    pub async fn signin(&self, email: &str, password: &str) -> Response {
        self.post_json("/api/v1/auth/signin", &json!({"email": email, "password": password})).await
    }

    /// Signs a fresh user up and in; returns the user and their access token.
    pub async fn signed_in_user(&self) -> (TestUser, String) {
        let user = TestUser::generate();
        assert_eq!(self.signup(&user).await.status(), StatusCode::CREATED);
        let token = self.token_for(&user.email, &user.password).await;
        (user, token)
    }

    pub async fn token_for(&self, email: &str, password: &str) -> String {
        let response = self.signin(email, password).await;
        assert_eq!(response.status(), StatusCode::OK, "signin of {email}");
        let body: Value = response.json().await.expect("json");
        body["access_token"].as_str().expect("access_token").to_owned()
    }

    /// Signs in and returns the whole token response.
    pub async fn signin_body(&self, user: &TestUser, user_agent: &str) -> Value {
        let response = self
            .client
            .post(self.url("/api/v1/auth/signin"))
            .header("user-agent", user_agent)
            .json(&json!({"email": user.email, "password": user.password}))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("json")
    }

    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.post_json("/api/v1/auth/refresh", &json!({"refresh_token": refresh_token})).await
    }

    pub async fn me(&self, token: &str) -> Response {
        self.client
            .get(self.url("/api/v1/users/me"))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// `GET /users/me/sessions`, asserted to succeed.
    pub async fn sessions(&self, token: &str) -> Value {
        let response = self
            .client
            .get(self.url("/api/v1/users/me/sessions"))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("json")
    }

    pub async fn patch_me(&self, token: &str, body: &Value) -> Response {
        self.client
            .patch(self.url("/api/v1/users/me"))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn delete_me(&self, token: &str, current_password: &str) -> Response {
        self.client
            .delete(self.url("/api/v1/users/me"))
            .bearer_auth(token)
            .json(&json!({"current_password": current_password}))
            .send()
            .await
            .expect("request")
    }
}

/// Asserts a problem+json response and returns its body.
pub async fn assert_problem(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let content_type = response.headers()["content-type"].to_str().expect("ascii").to_owned();
    assert_eq!(content_type, "application/problem+json");
    let request_id = response.headers()["x-request-id"].to_str().expect("ascii").to_owned();
    let body: Value = response.json().await.expect("problem body is JSON");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16());
    assert_eq!(body["request_id"], request_id.as_str());
    for key in ["type", "title", "detail"] {
        assert!(body[key].is_string(), "problem lacks {key}: {body}");
    }
    body
}

/// The `field` codes of a validation problem.
pub fn field_codes(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .expect("errors array")
        .iter()
        .map(|e| {
            (
                e["field"].as_str().expect("field").to_owned(),
                e["code"].as_str().expect("code").to_owned(),
            )
        })
        .collect()
}
