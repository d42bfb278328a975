//! Logging: `tracing` with pretty output in development and JSON lines in production.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use super::config::LogFormat;

/// Installs the global subscriber, logging to stdout. `RUST_LOG`, when set, overrides the
/// configured level.
pub fn init(format: LogFormat, level: &str) -> anyhow::Result<()> {
    init_writing_to(format, level, std::io::stdout)
}

/// Like [`init`], logging to `writer`: commands whose stdout is their answer (`users --json`)
/// log to stderr instead.
pub fn init_writing_to<W>(format: LogFormat, level: &str, writer: W) -> anyhow::Result<()>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new(level))?;
    let registry = tracing_subscriber::registry().with(filter);
    // Colour codes only for a person at a terminal: never into files, pipes or journald.
    let ansi = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    match format {
        LogFormat::Pretty => {
            registry
                .with(tracing_subscriber::fmt::layer().with_ansi(ansi).with_writer(writer))
                .try_init()?;
        }
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(writer),
            )
            .try_init()?,
    }
    Ok(())
}
