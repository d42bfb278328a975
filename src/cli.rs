//! The `warren` command line: serve (default), migrate, keys, check-config.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::core::config::Settings;
use crate::core::security::KeyRing;
use crate::repositories::Database;
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
    /// Load and validate the configuration, print a summary, and exit.
    CheckConfig,
    /// Print the OpenAPI 3.1 document, or write it to a file.
    Openapi {
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

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
    /// Write a new Ed25519 signing key (PKCS#8 PEM, mode 0600) and print its key id.
    Generate {
        /// Where to write the key; refuses to overwrite an existing file.
        #[arg(long)]
        out: PathBuf,
    },
}

impl Cli {
    pub async fn run(self, settings: Settings) -> anyhow::Result<()> {
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => Application::build(&settings).await?.run_until_stopped().await,
            Command::Migrate { action } => migrate(&settings, action).await,
            Command::Keys { action: KeysAction::Generate { out } } => {
                let kid = KeyRing::generate_file(&out)?;
                println!("wrote {} (kid {kid})", out.display());
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
            Command::CheckConfig => {
                println!("configuration is valid");
                println!("  env:       {:?}", settings.env);
                println!("  listen:    {}:{}", settings.server.host, settings.server.port);
                println!("  database:  {}", redact(&settings.database_url()));
                println!("  issuer:    {}", settings.auth.issuer);
                KeyRing::load(&settings).context("load signing keys")?;
                println!("  keys:      loaded");
                Ok(())
            }
        }
    }
}

async fn migrate(settings: &Settings, action: MigrateAction) -> anyhow::Result<()> {
    let database =
        Database::connect(&settings.database_url(), &settings.database, &settings.data_dir)
            .await
            .context("connect to the database")?;
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

/// The URL without its password, for printing.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_urls_hide_passwords() {
        assert_eq!(
            redact("postgres://warren:s3cret@db:5432/warren"),
            "postgres://warren:***@db:5432/warren"
        );
        assert_eq!(redact("sqlite://./data/warren.db"), "sqlite://./data/warren.db");
    }
}
