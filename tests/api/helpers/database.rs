//! Throwaway Postgres databases: one per test, dropped when it ends, pass or fail.

use sqlx::Connection;

/// Where the Postgres tests create their throwaway databases.
fn postgres_admin_url() -> String {
    std::env::var("POSTGRES_TEST_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A Postgres database created for one test and dropped when the test ends, pass or fail.
pub(super) struct ThrowawayDatabase {
    name: String,
}

impl ThrowawayDatabase {
    pub(super) async fn create() -> (Self, String) {
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
