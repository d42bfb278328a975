//! `database.*`: which database, how many connections, and whether to migrate at startup.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};

use super::Problems;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://…` or `postgres://…`; defaults to `warren.db` inside `data_dir`.
    #[serde(serialize_with = "redacted")]
    pub url: Option<SecretString>,
    pub auto_migrate: bool,
    pub max_connections: u32,
    /// The longest one database call may take, waiting for a connection included; past it
    /// the request answers 503. One failed call ends a request, so this bounds the wait.
    pub timeout_ms: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self { url: None, auto_migrate: true, max_connections: 8, timeout_ms: 1200 }
    }
}

impl DatabaseSettings {
    /// `url` as the database sees it; `data_dir` decides the default SQLite file.
    pub(super) fn effective_url(&self, data_dir: &std::path::Path) -> String {
        self.url.as_ref().map_or_else(
            || format!("sqlite://{}", data_dir.join("warren.db").display()),
            |url| url.expose_secret().to_owned(),
        )
    }

    pub(super) fn validate(&self, url: &str, problems: &mut Problems) {
        if !["sqlite:", "postgres:", "postgresql:"].iter().any(|s| url.starts_with(s)) {
            problems.refuse("database.url", "must start with sqlite:, postgres: or postgresql:");
        }
        problems.within("database.max_connections", self.max_connections.into(), 1, 1000);
        problems.within("database.timeout_ms", self.timeout_ms, 100, 60_000);
    }
}

/// Settings are serialised only as the defaults layer and in summaries: never write a password.
#[allow(clippy::ref_option)] // serde's `serialize_with` passes the field by reference
fn redacted<S: Serializer>(url: &Option<SecretString>, serializer: S) -> Result<S::Ok, S::Error> {
    url.as_ref().map(|_| "***").serialize(serializer)
}
