//! `TestApp`: the production application on port 0 with a fresh database, dropped afterwards.
//! `client` holds its HTTP shortcuts, `problems` the problem+json assertions, `database` the
//! throwaway Postgres databases.

mod client;
mod database;
mod problems;

use std::sync::Arc;

use fake::Fake;
use fake::faker::internet::en::SafeEmail;
use fake::faker::name::en::Name;
use figment::Figment;
use time::OffsetDateTime;
use warren::core::clock::{Clock, SystemClock};
use warren::core::config::Settings;
use warren::core::security::PasswordHasher;
use warren::repositories::Database;
use warren::startup::Application;

use database::ThrowawayDatabase;
pub use problems::{assert_problem, field_codes};

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
    /// A fake user whose email is unique: fake's addresses alone collide often enough (a few
    /// percent over 30 of them) to turn a signup into a 409 now and then.
    pub fn generate() -> Self {
        let email: String = SafeEmail().fake();
        let (local, domain) = email.split_once('@').expect("fake addresses have an @");
        let unique = uuid::Uuid::now_v7().simple().to_string(); // its last 10 digits are random
        Self {
            email: format!("{local}.{}@{domain}", &unique[22..]),
            password: format!("{} {}", uuid::Uuid::now_v7().simple(), "staple battery"),
            full_name: Name().fake(),
        }
    }
}

/// The time budget of every repository call in tests (see `spawn_with`).
const TEST_DATABASE_TIMEOUT_MS: u64 = 5_000;

/// Puts back the default repository time budget, for tests that measure it.
pub fn default_database_budget(figment: Figment) -> Figment {
    let budget = warren::core::config::DatabaseSettings::default().timeout_ms;
    figment.merge(("database.timeout_ms", budget))
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
            // The suite runs many apps at once on two cores: a repository call that overran
            // the default 1.2 s budget there answered 503 once. Tests that measure the budget
            // set it back to the default.
            .merge(("database.timeout_ms", TEST_DATABASE_TIMEOUT_MS))
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
}
