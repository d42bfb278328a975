//! Entry point: parse the command line, load configuration, start logging, run.

use std::process::ExitCode;

use clap::Parser;
use warren::cli::{Cli, UsageError};
use warren::core::config::Settings;
use warren::core::telemetry;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Operator-facing messages (bad config, unreachable database), not bugs: the cause
            // chain on one line, without a backtrace.
            eprintln!("error: {}", one_line(&error));
            if error.is::<UsageError>() { ExitCode::from(2) } else { ExitCode::FAILURE }
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load()?;
    if cli.answers_on_stdout() {
        telemetry::init_writing_to(settings.log_format(), &settings.log.level, std::io::stderr)?;
    } else {
        telemetry::init(settings.log_format(), &settings.log.level)?;
    }
    cli.run(settings).await
}

/// The cause chain joined by `: `, skipping a cause whose text its parent already quoted
/// (many errors print their source too, which doubled "File exists (os error 17)").
fn one_line(error: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}
