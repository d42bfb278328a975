//! `log.*`: log format and level.

use serde::{Deserialize, Serialize};

use super::Problems;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// `pretty` in development and `json` in production unless set.
    pub format: Option<LogFormat>,
    /// A `tracing` filter directive such as `info` or `warren=debug,info`.
    pub level: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self { format: None, level: "info,sqlx=warn".to_owned() }
    }
}

impl LogSettings {
    pub(super) fn validate(&self, production: bool, problems: &mut Problems) {
        if !production {
            return;
        }
        if enables_debug(&self.level) {
            problems.refuse(
                "log.level",
                "production refuses debug and trace logging (they can record request details)",
            );
        }
        // RUST_LOG overrides log.level at startup, so it must not smuggle debug back in.
        if std::env::var("RUST_LOG").is_ok_and(|filter| enables_debug(&filter)) {
            problems
                .refuse("log.level", "RUST_LOG enables debug or trace, which production refuses");
        }
    }
}

/// Whether any directive of a `tracing` filter turns on `debug` or `trace`. A bare target
/// (`warren`) enables every level for it, so it counts too.
fn enables_debug(filter: &str) -> bool {
    filter.split(',').map(str::trim).filter(|d| !d.is_empty()).any(|directive| {
        let level = directive.rsplit_once('=').map_or(directive, |(_, level)| level);
        let level = level.to_ascii_lowercase();
        match level.as_str() {
            "debug" | "trace" => true,
            "off" | "error" | "warn" | "info" => false,
            // `warren` alone: a target at every level. A bad level is EnvFilter's to reject.
            _ => !directive.contains('='),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::enables_debug;

    #[test]
    fn debug_and_trace_directives_are_recognised() {
        for noisy in ["debug", "info,sqlx=trace", "warren", "TRACE"] {
            assert!(enables_debug(noisy), "{noisy}");
        }
        for quiet in ["info", "info,sqlx=warn", "warn,warren=error", "off"] {
            assert!(!enables_debug(quiet), "{quiet}");
        }
    }
}
