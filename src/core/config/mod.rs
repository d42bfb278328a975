//! Configuration: built-in defaults < `warren.toml` (or `$WARREN_CONFIG`) < `.env` <
//! `WARREN_*` environment variables (sections nested with `__`), with `DATABASE_URL` honoured.
//!
//! Each section lives in its own file with its defaults (`impl Default`) and its own checks;
//! [`Settings::validate`] gathers every problem of every section in one go, and [`sources`]
//! names each problem as the user wrote it (`WARREN_SERVER__PROT`, `warren.toml:3`, `.env`).

mod auth;
mod avatar;
mod cors;
mod database;
mod email;
mod events;
mod log;
mod mfa;
mod password;
mod rate_limit;
mod server;
mod sources;

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

pub use auth::{AuthSettings, MAX_SESSION_TTL_SECS, SigningAlgorithm};
pub use avatar::AvatarSettings;
pub use cors::CorsSettings;
pub use database::DatabaseSettings;
pub use email::{EmailLinks, EmailSettings, EmailTransport};
pub use events::EventsSettings;
pub use log::{LogFormat, LogSettings};
pub use mfa::{MfaSettings, format_key as format_mfa_key, parse_key as parse_mfa_key};
pub use password::PasswordSettings;
pub use rate_limit::RateLimitSettings;
pub use server::ServerSettings;

use crate::domain::PasswordPolicy;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    #[default]
    Development,
    Production,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub env: Environment,
    pub server: ServerSettings,
    pub data_dir: PathBuf,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub password: PasswordSettings,
    pub rate_limit: RateLimitSettings,
    pub cors: CorsSettings,
    pub trusted_proxies: Vec<IpNet>,
    pub log: LogSettings,
    pub email: EmailSettings,
    pub avatar: AvatarSettings,
    pub events: EventsSettings,
    pub mfa: MfaSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            env: Environment::default(),
            server: ServerSettings::default(),
            data_dir: PathBuf::from("./data"),
            database: DatabaseSettings::default(),
            auth: AuthSettings::default(),
            password: PasswordSettings::default(),
            rate_limit: RateLimitSettings::default(),
            cors: CorsSettings::default(),
            trusted_proxies: Vec::new(),
            log: LogSettings::default(),
            email: EmailSettings::default(),
            avatar: AvatarSettings::default(),
            events: EventsSettings::default(),
            mfa: MfaSettings::default(),
        }
    }
}

/// Why the configuration cannot be used: every problem, one per line, each naming its key
/// and where it was set.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  - {}", .0.join("\n  - "))]
pub struct ConfigError(pub Vec<String>);

/// Problems found by the sections' checks, as (dotted key, what is wrong).
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<(&'static str, String)>);

impl Problems {
    pub(crate) fn refuse(&mut self, key: &'static str, message: &str) {
        self.0.push((key, message.to_owned()));
    }

    /// Refuses `value` outside `min..=max`, so no setting can overflow a time computation.
    pub(crate) fn within(&mut self, key: &'static str, value: u64, min: u64, max: u64) {
        if !(min..=max).contains(&value) {
            self.refuse(key, &format!("must be between {min} and {max}, got {value}"));
        }
    }
}

impl Settings {
    /// Longest access-token lifetime accepted at all; tokens claiming more are forged or stale.
    pub const MAX_ACCESS_TOKEN_TTL_SECS: u64 = AuthSettings::MAX_ACCESS_TOKEN_TTL_SECS;

    /// Reads the standard sources. `.env` is loaded into the process environment first, without
    /// overriding variables that are already set, so real environment variables win over it.
    pub fn load() -> Result<Self, ConfigError> {
        sources::load_dotenv()?;
        Self::from_figment(&Self::figment(&Self::config_file()))
    }

    /// `warren.toml`, or the file `WARREN_CONFIG` names.
    pub fn config_file() -> PathBuf {
        std::env::var_os("WARREN_CONFIG")
            .map_or_else(|| PathBuf::from("warren.toml"), PathBuf::from)
    }

    /// The layered sources, exposed so tests and tools can add their own layer on top.
    pub fn figment(file: &Path) -> Figment {
        Figment::from(Serialized::defaults(Self::default()))
            .merge(Toml::file(file))
            .merge(Env::raw().only(&["DATABASE_URL"]).map(|_| "database.url".into()))
            .merge(Env::prefixed("WARREN_").ignore(&["CONFIG"]).split("__"))
    }

    /// Extracts and validates. Unknown keys are all reported before anything else, since a
    /// typo usually explains the other complaints.
    pub fn from_figment(figment: &Figment) -> Result<Self, ConfigError> {
        let unknown = sources::unknown_keys(figment);
        if !unknown.is_empty() {
            return Err(ConfigError(unknown));
        }
        let settings: Self =
            figment.extract().map_err(|error| ConfigError(sources::describe(&error)))?;
        let problems = settings.validate();
        if problems.0.is_empty() {
            Ok(settings)
        } else {
            Err(ConfigError(sources::name_problems(figment, problems)))
        }
    }

    pub fn is_production(&self) -> bool {
        self.env == Environment::Production
    }

    pub fn database_url(&self) -> String {
        self.database.effective_url(&self.data_dir)
    }

    /// The SQLite database `data_dir` holds by default, whatever `database.url` says.
    pub fn data_dir_database_url(&self) -> String {
        DatabaseSettings::default().effective_url(&self.data_dir)
    }

    pub fn password_policy(&self) -> PasswordPolicy {
        PasswordPolicy::new(self.password.min_length).unwrap_or_default()
    }

    pub fn log_format(&self) -> LogFormat {
        self.log.format.unwrap_or(if self.is_production() {
            LogFormat::Json
        } else {
            LogFormat::Pretty
        })
    }

    /// Every problem of every section.
    fn validate(&self) -> Problems {
        let production = self.is_production();
        let mut problems = Problems::default();
        self.server.validate(production, &mut problems);
        self.database.validate(&self.database_url(), &mut problems);
        self.auth.validate(production, &mut problems);
        self.password.validate(&mut problems);
        self.rate_limit.validate(production, &mut problems);
        self.cors.validate(production, &mut problems);
        self.log.validate(production, &mut problems);
        self.email.validate(production, &mut problems);
        self.avatar.validate(&mut problems);
        self.events.validate(&mut problems);
        self.mfa.validate(production, &mut problems);
        problems
    }
}

#[cfg(test)]
mod tests;
