//! The `warren` command line: serve (default), migrate, keys, check-config, users, health.

mod check_config;
mod health;
mod users;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::core::config::{Settings, SigningAlgorithm};
use crate::core::security::KeyRing;
use crate::preflight;
use crate::startup::Application;

#[derive(Debug, Parser)]
#[command(name = "warren", version, about = "User-account service issuing short-lived JWTs")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default).
    Serve,
    /// Apply, revert or list database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Manage signing keys.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Try everything `serve` would (configuration, keys, database, migrations), print a
    /// summary and one verdict; exits non-zero when `serve` would fail.
    CheckConfig {
        /// Print only the database URL the configuration resolves to (for scripts such as
        /// `scripts/migrate.sh`; it includes the password, if the URL has one).
        #[arg(long, conflicts_with = "print_data_dir")]
        print_database_url: bool,
        /// Print only the data directory (where the default SQLite file and key live).
        #[arg(long)]
        print_data_dir: bool,
    },
    /// Administer accounts on the configured database (exit 0 done, 1 no such account or
    /// refused, 2 usage error).
    Users {
        /// Print JSON instead of a table, for scripts.
        #[arg(long, global = true)]
        json: bool,
        #[command(subcommand)]
        action: users::UsersAction,
    },
    /// Exit 0 when the configured address's /api/health/ready answers 200, else 1.
    Health,
    /// Print the OpenAPI 3.1 document, or write it to a file.
    Openapi {
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// A command given something it cannot use (an account that is neither an id nor an email):
/// exits 2, like clap's own usage errors.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// A command that found nothing to act on or declined to act: exits 1.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Revert the most recently applied migration.
    Down,
    /// List migrations and whether each is applied.
    Status,
}

#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// Write a new signing key (PKCS#8 PEM, mode 0600) and print its key id.
    Generate {
        /// Where to write the key; refuses to overwrite an existing file.
        #[arg(long)]
        out: PathBuf,
        /// EdDSA (an Ed25519 key) or ES256 (a P-256 key); must match `auth.signing_algorithm`
        /// for the key to sign.
        #[arg(long, default_value = "EdDSA")]
        algorithm: SigningAlgorithm,
    },
}

impl Cli {
    /// Whether the command's stdout is its answer (a table, JSON), so logs must go elsewhere.
    pub fn answers_on_stdout(&self) -> bool {
        matches!(self.command, Some(Command::Users { .. } | Command::Health))
    }

    pub async fn run(self, settings: Settings) -> anyhow::Result<()> {
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => Application::build(&settings).await?.run_until_stopped().await,
            Command::Migrate { action } => migrate(&settings, action).await,
            Command::Keys { action: KeysAction::Generate { out, algorithm } } => {
                let kid = KeyRing::generate_file(&out, algorithm)?;
                println!("wrote {} ({algorithm} key, kid {kid})", out.display());
                Ok(())
            }
            Command::Openapi { out: Some(path) } => {
                std::fs::write(&path, crate::api::openapi::document_json())
                    .with_context(|| format!("write {}", path.display()))?;
                println!("wrote {}", path.display());
                Ok(())
            }
            Command::Openapi { out: None } => {
                print!("{}", crate::api::openapi::document_json());
                Ok(())
            }
            Command::CheckConfig { print_database_url: true, .. } => {
                println!("{}", settings.database_url());
                Ok(())
            }
            Command::CheckConfig { print_data_dir: true, .. } => {
                println!("{}", settings.data_dir.display());
                Ok(())
            }
            Command::CheckConfig { .. } => check_config::run(&settings).await,
            Command::Users { json, action } => users::run(&settings, action, json).await,
            Command::Health => health::run(&settings).await,
        }
    }
}

async fn migrate(settings: &Settings, action: MigrateAction) -> anyhow::Result<()> {
    let database = preflight::connect_database(settings).await?;
    match action {
        MigrateAction::Up => {
            database.migrate_up().await?;
            println!("migrations applied");
        }
        MigrateAction::Down => match database.migrate_down().await? {
            Some(version) => println!("reverted migration {version}"),
            None => println!("no migration to revert"),
        },
        MigrateAction::Status => {
            for migration in database.migration_status().await? {
                let mark = if migration.applied { "applied" } else { "pending" };
                println!("{} {mark:8} {}", migration.version, migration.description);
            }
        }
    }
    database.close().await;
    Ok(())
}
