//! `ChatTest`: Warren (SQLite, in-process) plus the chat service on the backend under test.

use std::sync::{Arc, Mutex};

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;
use time::OffsetDateTime;
use warren::core::clock::{Clock, SystemClock};
use warren_chat::config::Settings as ChatSettings;
use warren_chat::repositories::ChatDatabase;

/// Runs `async fn name(chat: ChatTest)` beside it as `name::sqlite` and `name::postgres`;
/// with a second argument, `fn(Figment) -> Figment` configures the chat service first.
macro_rules! both_backends {
    ($name:ident, $configure:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let backend = $crate::support::Backend::Sqlite;
                super::$name(
                    $crate::support::ChatTest::spawn_with(backend, super::$configure).await,
                )
                .await;
            }

            #[tokio::test]
            async fn postgres() {
                let backend = $crate::support::Backend::Postgres;
                super::$name(
                    $crate::support::ChatTest::spawn_with(backend, super::$configure).await,
                )
                .await;
            }
        }
    };
    ($name:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name(
                    $crate::support::ChatTest::spawn($crate::support::Backend::Sqlite).await,
                )
                .await;
            }

            #[tokio::test]
            async fn postgres() {
                super::$name(
                    $crate::support::ChatTest::spawn($crate::support::Backend::Postgres).await,
                )
                .await;
            }
        }
    };
}
pub(crate) use both_backends;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Warren's clock, movable so tests can mint tokens that expire soon or already did.
#[derive(Debug, Clone, Default)]
pub struct ShiftedClock(Arc<Mutex<time::Duration>>);

impl ShiftedClock {
    pub fn shift(&self, by: time::Duration) {
        *self.0.lock().expect("clock lock") = by;
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> OffsetDateTime {
        SystemClock.now() + *self.0.lock().expect("clock lock")
    }
}

/// A running Warren; `stop` ends it.
pub struct Warren {
    pub address: String,
    pub settings: warren::core::config::Settings,
    pub clock: ShiftedClock,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl Warren {
    pub async fn spawn(configure: impl FnOnce(figment::Figment) -> figment::Figment) -> Self {
        let dir = tempfile::tempdir().expect("temporary dir");
        let figment = warren::core::config::Settings::figment(&dir.path().join("absent.toml"))
            .merge(("server.port", 0))
            .merge(("data_dir", dir.path()))
            .merge(("database.url", format!("sqlite://{}/warren.db", dir.path().display())))
            .merge(("rate_limit.auth_burst", 10_000))
            .merge(("rate_limit.general_burst", 10_000));
        let settings =
            warren::core::config::Settings::from_figment(&configure(figment)).expect("settings");
        let clock = ShiftedClock::default();
        let app =
            warren::startup::Application::build_with_clock(&settings, Arc::new(clock.clone()))
                .await
                .expect("Warren builds");
        let address = format!("http://{}", app.local_addr().expect("bound"));
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        Self { address, settings, clock, shutdown: Some(shutdown), task: Some(task), _dir: dir }
    }

    pub async fn stop(&mut self) {
        let _ = self.shutdown.take().expect("running").send(());
        self.task.take().expect("running").await.expect("task").expect("stopped cleanly");
    }

    /// Signs a new user up and in; returns `(user id, access token)`.
    pub async fn user(&self, full_name: &str) -> (String, String) {
        let (email, password) = self.signup(full_name).await;
        self.signin(&email, &password).await
    }

    /// Signs a new user up; returns `(email, password)`.
    pub async fn signup(&self, full_name: &str) -> (String, String) {
        let email = format!("{}@example.com", uuid::Uuid::now_v7().simple());
        let password = self.signup_with(&email, Some(full_name)).await;
        (email, password)
    }

    /// Signs `email` up, with or without a full name; returns the password.
    pub async fn signup_with(&self, email: &str, full_name: Option<&str>) -> String {
        let password = format!("{} staple battery", uuid::Uuid::now_v7().simple());
        let body = json!({"email": email, "password": password, "full_name": full_name});
        let url = format!("{}/api/v1/auth/signup", self.address);
        let signup = reqwest::Client::new().post(url).json(&body).send().await.expect("signup");
        assert_eq!(signup.status(), StatusCode::CREATED, "signup");
        password
    }

    /// Signs in; returns `(user id, access token)`.
    pub async fn signin(&self, email: &str, password: &str) -> (String, String) {
        let signin = reqwest::Client::new()
            .post(format!("{}/api/v1/auth/signin", self.address))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("signin");
        assert_eq!(signin.status(), StatusCode::OK, "signin");
        let body: Value = signin.json().await.expect("json");
        let id = body["user"]["id"].as_str().expect("user id").to_owned();
        (id, body["access_token"].as_str().expect("token").to_owned())
    }
}

/// A Postgres database made for one test and dropped with it.
struct ThrowawayDatabase(String);

fn postgres_admin_url() -> String {
    std::env::var("POSTGRES_TEST_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

impl ThrowawayDatabase {
    async fn create() -> (Self, String) {
        let name = format!("chat_test_{}", uuid::Uuid::now_v7().simple());
        let admin = postgres_admin_url();
        let mut connection =
            sqlx::PgConnection::connect(&admin).await.expect("Postgres is reachable");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut connection)
            .await
            .expect("create database");
        let (server, _) = admin.rsplit_once('/').expect("POSTGRES_TEST_URL names a database");
        let url = format!("{server}/{name}");
        (Self(name), url)
    }
}

impl Drop for ThrowawayDatabase {
    fn drop(&mut self) {
        let name = self.0.clone();
        let _ = std::thread::spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let mut connection =
                    sqlx::PgConnection::connect(&postgres_admin_url()).await.ok()?;
                let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&mut connection).await.ok()
            })
        })
        .join();
    }
}

pub struct ChatTest {
    pub warren: Warren,
    pub address: String,
    pub database: ChatDatabase,
    pub data_dir: std::path::PathBuf,
    pub client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
    _postgres: Option<ThrowawayDatabase>,
}

impl ChatTest {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |figment| figment).await
    }

    /// Like `spawn`, with `configure` applied last to the chat service's settings.
    pub async fn spawn_with(
        backend: Backend,
        configure: impl FnOnce(figment::Figment) -> figment::Figment,
    ) -> Self {
        Self::spawn_beside(Warren::spawn(|figment| figment).await, backend, configure).await
    }

    /// The chat service trusting `warren`, which the caller configured.
    pub async fn spawn_beside(
        warren: Warren,
        backend: Backend,
        configure: impl FnOnce(figment::Figment) -> figment::Figment,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temporary dir");
        let (postgres, url) = match backend {
            Backend::Sqlite => (None, format!("sqlite://{}/chat.db", dir.path().display())),
            Backend::Postgres => {
                let (database, url) = ThrowawayDatabase::create().await;
                (Some(database), url)
            }
        };
        let figment = ChatSettings::figment(&dir.path().join("absent.toml"))
            .merge(("server.port", 0))
            .merge(("data_dir", dir.path()))
            .merge(("database.url", url))
            .merge(("database.max_connections", 4))
            .merge(("warren.url", &warren.address))
            .merge(("auth.issuer", &warren.settings.auth.issuer))
            .merge(("auth.audience", &warren.settings.auth.audience));
        let settings = ChatSettings::from_figment(&configure(figment)).expect("chat settings");
        let app = warren_chat::startup::Application::build(&settings).await.expect("chat builds");
        let address = format!("http://{}", app.local_addr().expect("bound"));
        let database = app.database().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        let data_dir = dir.path().to_owned();
        Self {
            warren,
            address,
            database,
            data_dir,
            client: reqwest::Client::new(),
            stop: Some(stop),
            _dir: dir,
            _postgres: postgres,
        }
    }

    /// Stops the chat service (Warren keeps running).
    pub fn stop_chat(&mut self) {
        let _ = self.stop.take().expect("chat is running").send(());
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, token: &str, path: &str) -> Response {
        self.client.get(self.url(path)).bearer_auth(token).send().await.expect("request")
    }

    pub async fn post(&self, token: &str, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn reaction(&self, method: reqwest::Method, token: &str, path: &str) -> Response {
        self.client
            .request(method, self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// Creates a room as `token`'s user; returns its id.
    pub async fn room(&self, token: &str, name: &str) -> String {
        let response = self.post(token, "/api/v1/rooms", &json!({"name": name})).await;
        assert_eq!(response.status(), StatusCode::CREATED, "create room");
        json_of(response).await["id"].as_str().expect("room id").to_owned()
    }

    pub async fn join(&self, token: &str, room: &str) {
        let response = self.post(token, &format!("/api/v1/rooms/{room}/join"), &json!({})).await;
        assert_eq!(response.status(), StatusCode::OK, "join");
    }

    /// Sends `content` to `room`; returns the message.
    pub async fn say(&self, token: &str, room: &str, content: &str) -> Value {
        let response = self
            .post(token, &format!("/api/v1/rooms/{room}/messages"), &json!({"content": content}))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "send");
        json_of(response).await
    }
}

pub async fn json_of(response: Response) -> Value {
    response.json().await.expect("JSON body")
}

/// Asserts a problem+json response with `status` and `code`; returns the body.
pub async fn assert_problem(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let content_type = response.headers()["content-type"].to_str().expect("ascii").to_owned();
    assert_eq!(content_type, "application/problem+json");
    let request_id = response.headers()["x-request-id"].to_str().expect("ascii").to_owned();
    let body = json_of(response).await;
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16());
    assert_eq!(body["request_id"], request_id.as_str());
    body
}
