//! Logging: `tracing` with pretty output in development and JSON lines in production.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use super::config::LogFormat;

/// Installs the global subscriber. `RUST_LOG`, when set, overrides the configured level.
pub fn init(format: LogFormat, level: &str) -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new(level))?;
    let registry = tracing_subscriber::registry().with(filter);
    // Colour codes only for a person at a terminal: never into files, pipes or journald.
    let ansi = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    match format {
        LogFormat::Pretty => {
            registry.with(tracing_subscriber::fmt::layer().with_ansi(ansi)).try_init()?;
        }
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init()?,
    }
    Ok(())
}
