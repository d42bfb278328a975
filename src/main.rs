//! Entry point: parse the command line, load configuration, start logging, run.

use std::process::ExitCode;

use clap::Parser;
use warren::cli::Cli;
use warren::core::config::Settings;
use warren::core::telemetry;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // The whole cause chain on one line each, without a backtrace: these are
            // operator-facing messages (bad config, unreachable database), not bugs.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load()?;
    telemetry::init(settings.log_format(), &settings.log.level)?;
    cli.run(settings).await
}
