//! What `serve` and `check-config` try before serving, with errors an operator can act on:
//! connecting to the database (naming host:port, suggesting `createdb`), the SQLite path rule,
//! pending migrations, and the signing key file's permissions.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::anyhow;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;

use crate::core::config::Settings;
use crate::core::security::KeyRing;
use crate::repositories::Database;

/// Connects to the configured database, or explains why not in one message.
pub async fn connect_database(settings: &Settings) -> anyhow::Result<Database> {
    let url = settings.database_url();
    check_sqlite_path(settings, &url)?;
    match Database::connect(&url, &settings.database, &settings.data_dir).await {
        Ok(database) => Ok(database),
        Err(error) => Err(explain(error, &url).await),
    }
}

/// The database for logs and summaries: the SQLite file, or Postgres host:port/name. Never
/// a password.
pub fn describe_database(url: &str) -> String {
    if url.starts_with("sqlite:")
        && let Ok(options) = SqliteConnectOptions::from_str(url)
    {
        return format!("SQLite file {}", options.get_filename().display());
    }
    match PgConnectOptions::from_str(url) {
        Ok(options) => format!(
            "Postgres {}:{}/{}",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or(options.get_username())
        ),
        Err(_) => "an unparseable database URL".to_owned(),
    }
}

/// A mistyped SQLite path must not silently create folders and an empty database: only
/// `data_dir`'s own database is created from nothing; any other file needs its folder to
/// exist already, or an explicit `?mode=rwc`.
fn check_sqlite_path(settings: &Settings, url: &str) -> anyhow::Result<()> {
    if !url.starts_with("sqlite:") || url.contains("mode=") || url.contains(":memory:") {
        return Ok(());
    }
    let file = SqliteConnectOptions::from_str(url)?.get_filename().to_owned();
    let own = SqliteConnectOptions::from_str(&settings.data_dir_database_url())?;
    let folder = file.parent().filter(|p| !p.as_os_str().is_empty());
    match folder {
        Some(folder) if !same_file(&file, own.get_filename()) && !folder.is_dir() => Err(anyhow!(
            "the folder {} of the SQLite database (database.url) does not exist; create it, \
             fix the path, or add ?mode=rwc to the URL to create the database there",
            folder.display()
        )),
        _ => Ok(()),
    }
}

/// `./data/warren.db` and `data/warren.db` are the same file.
fn same_file(a: &Path, b: &Path) -> bool {
    a.strip_prefix("./").unwrap_or(a) == b.strip_prefix("./").unwrap_or(b)
}

/// One message per failure, with the address tried and what to do next.
async fn explain(error: sqlx::Error, url: &str) -> anyhow::Error {
    // Parse as Postgres only when it is one: the parser warns about SQLite's parameters.
    let options = url.starts_with("postgres").then(|| PgConnectOptions::from_str(url).ok());
    let Some(Some(options)) = options else {
        return anyhow!(error).context(format!("open {}", describe_database(url)));
    };
    let (host, port) = (options.get_host(), options.get_port());
    let name = options.get_database().unwrap_or(options.get_username());
    match &error {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("3D000") => anyhow!(
            "Postgres at {host}:{port} has no database {name:?}; create it with: \
             createdb -h {host} -p {port} -U {user} {name}",
            user = options.get_username()
        ),
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => {
            let probe = tokio::net::TcpStream::connect((host, port));
            let reason = match tokio::time::timeout(Duration::from_secs(2), probe).await {
                Ok(Err(io)) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
                    "connection refused (is Postgres running there?)".to_owned()
                }
                Ok(Err(io)) => io.to_string(),
                Err(_) => "no answer within 2 s".to_owned(),
                Ok(Ok(_)) => format!("no usable connection ({error})"),
            };
            anyhow!("cannot connect to Postgres at {host}:{port}: {reason}")
        }
        _ => anyhow!(error).context(format!("connect to Postgres at {host}:{port}/{name}")),
    }
}

/// How many embedded migrations the database has not applied yet.
pub async fn pending_migrations(database: &Database) -> anyhow::Result<usize> {
    let status = database.migration_status().await?;
    Ok(status.iter().filter(|m| !m.applied).count())
}

/// A production signing key readable by group or others is a leak waiting to happen.
pub fn key_permission_warning(settings: &Settings) -> Option<String> {
    let path = settings.auth.signing_key_file.as_deref()?;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (settings.is_production() && mode & 0o077 != 0).then(|| {
        format!(
            "{} is readable by group or others (mode {:o}); run chmod 600 on it",
            path.display(),
            mode & 0o777
        )
    })
}

/// Loads the keys without writing anything: a missing development key is reported, not
/// generated (only `serve` generates it, once it holds its port).
pub fn load_keys_readonly(settings: &Settings) -> anyhow::Result<Option<KeyRing>> {
    let missing_dev_key = settings.auth.signing_key_file.is_none()
        && !KeyRing::development_key_path(&settings.data_dir, settings.auth.signing_algorithm)
            .exists();
    if missing_dev_key {
        return Ok(None);
    }
    Ok(Some(KeyRing::load(settings)?))
}
