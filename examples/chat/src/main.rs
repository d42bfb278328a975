//! `warren-chat` (or `warren-chat serve`): serve the chat API; `warren-chat migrate`: apply the
//! migrations and exit.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;
use warren_chat::config::Settings;
use warren_chat::repositories::ChatDatabase;
use warren_chat::startup::Application;

#[derive(Parser)]
#[command(name = "warren-chat", about = "A chat service on Warren accounts")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and the room sockets (the default).
    Serve,
    /// Apply pending migrations to `database.url` and exit.
    Migrate,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load()?;
    // Colour codes only for a person at a terminal: never into files, pipes or journald.
    let ansi = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(&settings.log.level))
        .with_ansi(ansi)
        .init();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(&settings).await?;
            tracing::info!(address = %app.local_addr()?, warren = %settings.warren.url, "chat serving");
            app.run_until_stopped().await
        }
        Command::Migrate => {
            let database = ChatDatabase::connect(&settings.database_url(), 1).await?;
            database.migrate().await?;
            println!("migrations applied");
            Ok(())
        }
    }
}
