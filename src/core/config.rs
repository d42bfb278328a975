//! Configuration: built-in defaults < `warren.toml` (or `$WARREN_CONFIG`) < `.env` <
//! `WARREN_*` environment variables (sections nested with `__`), with `DATABASE_URL` honoured.
//! The result is validated once at startup; every message names the offending key.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::domain::PasswordPolicy;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
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
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: IpAddr,
    pub port: u16,
    /// Whole-request deadline; a slower request is answered 408.
    pub request_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://…` or `postgres://…`; defaults to `warren.db` inside `data_dir`.
    pub url: Option<SecretString>,
    pub auto_migrate: bool,
    pub max_connections: u32,
    /// How long a request waits for a pooled connection before answering 503.
    pub acquire_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub issuer: String,
    pub audience: String,
    pub access_token_ttl_secs: u64,
    /// A refresh token unused for this long expires.
    pub refresh_idle_ttl_secs: u64,
    /// No session outlives this, however often it is refreshed.
    pub refresh_absolute_ttl_secs: u64,
    /// A rotated refresh token presented again within this many seconds gets the same
    /// successor (two tabs racing); later, it revokes the whole session as stolen.
    pub refresh_reuse_grace_secs: u64,
    /// PKCS#8 PEM Ed25519 private key. Unset in development: generated under `data_dir/keys/`.
    pub signing_key_file: Option<PathBuf>,
    /// Older keys (public or private PEM) still accepted and published in the JWKS.
    pub verification_key_files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordSettings {
    pub min_length: usize,
}

/// Per-IP request limits. The per-account signin backoff is separate and always on.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Off only for benchmarks and tests that measure throughput.
    pub enabled: bool,
    /// Sustained signup/signin/refresh requests per minute per client.
    pub auth_per_minute: u32,
    pub auth_burst: u32,
    /// Sustained API requests per second per client.
    pub general_per_second: u32,
    pub general_burst: u32,
}

impl RateLimitSettings {
    /// Every rate and burst with its key, so a bad one is reported by name.
    pub fn named(&self) -> [(&'static str, u32); 4] {
        [
            ("rate_limit.auth_per_minute", self.auth_per_minute),
            ("rate_limit.auth_burst", self.auth_burst),
            ("rate_limit.general_per_second", self.general_per_second),
            ("rate_limit.general_burst", self.general_burst),
        ]
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsSettings {
    pub allowed_origins: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// `pretty` in development and `json` in production unless set.
    pub format: Option<LogFormat>,
    /// A `tracing` filter directive such as `info` or `warren=debug,info`.
    pub level: String,
}

/// Why the configuration cannot be used. Lists every problem, each naming its key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration could not be read:\n  - {}", describe_load_error(.0))]
    Load(Box<figment::Error>),
    #[error("invalid configuration:\n  - {}", .0.join("\n  - "))]
    Invalid(Vec<String>),
}

/// One line per problem, each starting with the dotted key and naming the source it came from.
fn describe_load_error(error: &figment::Error) -> String {
    let lines: Vec<String> = error
        .clone()
        .into_iter()
        .map(|e| {
            let key = e.path.join(".").to_lowercase();
            let source =
                e.metadata.as_ref().map(|m| format!(" (from {})", m.name)).unwrap_or_default();
            if key.is_empty() {
                format!("{}{source}", e.kind)
            } else {
                format!("{key}: {}{source}", e.kind)
            }
        })
        .collect();
    lines.join("\n  - ")
}

/// The defaults as a figment layer; every other source only overrides.
fn defaults() -> serde_json::Value {
    serde_json::json!({
        "env": "development",
        "server": { "host": "127.0.0.1", "port": 8000, "request_timeout_secs": 10 },
        "data_dir": "./data",
        "database": { "auto_migrate": true, "max_connections": 8, "acquire_timeout_secs": 3 },
        "auth": {
            "issuer": "http://localhost:8000",
            "audience": "warren",
            "access_token_ttl_secs": 900,
            "refresh_idle_ttl_secs": 1_209_600,
            "refresh_absolute_ttl_secs": 2_592_000,
            "refresh_reuse_grace_secs": 10,
            "verification_key_files": [],
        },
        "password": { "min_length": PasswordPolicy::DEFAULT_MIN_LENGTH },
        "rate_limit": {
            "enabled": true,
            "auth_per_minute": 10,
            "auth_burst": 10,
            "general_per_second": 20,
            "general_burst": 60,
        },
        "cors": { "allowed_origins": [] },
        "trusted_proxies": [],
        "log": { "level": "info,sqlx=warn" },
    })
}

impl Settings {
    /// Longest access-token lifetime accepted at all; tokens claiming more are forged or stale.
    pub const MAX_ACCESS_TOKEN_TTL_SECS: u64 = 86_400;

    /// Reads the standard sources. `.env` is loaded into the process environment first, without
    /// overriding variables that are already set, so real environment variables win over it.
    pub fn load() -> Result<Self, ConfigError> {
        // A missing `.env` is normal; a malformed one is worth failing on.
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(error) if error.not_found() => {}
            Err(error) => {
                return Err(ConfigError::Invalid(vec![format!(".env: {error}")]));
            }
        }
        let file = std::env::var_os("WARREN_CONFIG")
            .map_or_else(|| PathBuf::from("warren.toml"), PathBuf::from);
        Self::from_figment(&Self::figment(&file))
    }

    /// The layered sources, exposed so tests and tools can add their own layer on top.
    pub fn figment(file: &Path) -> Figment {
        Figment::from(Serialized::defaults(defaults()))
            .merge(Toml::file(file))
            .merge(Env::raw().only(&["DATABASE_URL"]).map(|_| "database.url".into()))
            .merge(Env::prefixed("WARREN_").ignore(&["CONFIG"]).split("__"))
    }

    pub fn from_figment(figment: &Figment) -> Result<Self, ConfigError> {
        let settings: Self = figment.extract().map_err(|e| ConfigError::Load(Box::new(e)))?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn is_production(&self) -> bool {
        self.env == Environment::Production
    }

    pub fn database_url(&self) -> String {
        self.database.url.as_ref().map_or_else(
            || format!("sqlite://{}", self.data_dir.join("warren.db").display()),
            |url| url.expose_secret().to_owned(),
        )
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

    fn validate(&self) -> Result<(), ConfigError> {
        let url = self.database_url();
        let always = [
            (
                ["sqlite:", "postgres:", "postgresql:"].iter().any(|s| url.starts_with(s)),
                "database.url: must start with sqlite:, postgres: or postgresql:",
            ),
            (self.database.max_connections >= 1, "database.max_connections: must be at least 1"),
            (
                (1..=60).contains(&self.database.acquire_timeout_secs),
                "database.acquire_timeout_secs: must be between 1 and 60",
            ),
            (
                self.server.request_timeout_secs >= 1,
                "server.request_timeout_secs: must be at least 1",
            ),
            (!self.auth.issuer.trim().is_empty(), "auth.issuer: must not be empty"),
            (!self.auth.audience.trim().is_empty(), "auth.audience: must not be empty"),
            (
                (60..=Self::MAX_ACCESS_TOKEN_TTL_SECS).contains(&self.auth.access_token_ttl_secs),
                "auth.access_token_ttl_secs: must be between 60 and 86400",
            ),
            (
                (60..=self.auth.refresh_absolute_ttl_secs)
                    .contains(&self.auth.refresh_idle_ttl_secs),
                "auth.refresh_idle_ttl_secs: must be at least 60 and at most auth.refresh_absolute_ttl_secs",
            ),
            (
                self.auth.refresh_reuse_grace_secs <= 60,
                "auth.refresh_reuse_grace_secs: must be at most 60",
            ),
            (
                PasswordPolicy::new(self.password.min_length).is_some(),
                "password.min_length: must be between 8 and 128",
            ),
        ];
        let mut problems: Vec<String> =
            always.iter().filter(|(ok, _)| !ok).map(|(_, problem)| (*problem).to_owned()).collect();
        if self.is_production() {
            problems.extend(self.production_problems());
        }
        for (key, value) in self.rate_limit.named() {
            if !(1..=1_000_000).contains(&value) {
                problems.push(format!("{key}: must be between 1 and 1000000"));
            }
        }
        for origin in &self.cors.allowed_origins {
            if let Err(reason) = validate_origin(origin) {
                problems.push(format!("cors.allowed_origins: {origin:?} {reason}"));
            }
        }
        if problems.is_empty() { Ok(()) } else { Err(ConfigError::Invalid(problems)) }
    }

    /// Development conveniences that would be unsafe on the internet.
    fn production_problems(&self) -> impl Iterator<Item = String> {
        [
            (
                self.auth.signing_key_file.is_some(),
                "auth.signing_key_file: production needs a configured key (generated keys are for development)",
            ),
            (
                !self.auth.issuer.starts_with("http://localhost"),
                "auth.issuer: production needs the public URL of this service, not localhost",
            ),
        ]
        .into_iter()
        .filter(|(ok, _)| !ok)
        .map(|(_, problem)| problem.to_owned())
    }
}

/// An allowed CORS origin must be exactly `scheme://host[:port]`: never a wildcard, `null`,
/// or anything with a path, since browsers compare origins byte for byte.
fn validate_origin(origin: &str) -> Result<(), &'static str> {
    if origin == "*" || origin.eq_ignore_ascii_case("null") {
        return Err("is not allowed: list exact origins");
    }
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or("must start with https:// or http://")?;
    if rest.is_empty() || rest.contains(['/', '*', '?', '#', ' ']) || rest.ends_with(':') {
        return Err("must be scheme://host[:port] with no path or wildcard");
    }
    if origin.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err("must be lowercase, as browsers send it");
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return its own large error
mod tests {
    use super::*;
    use figment::Jail;

    fn load_in(jail: &Jail) -> Result<Settings, ConfigError> {
        Settings::from_figment(&Settings::figment(&jail.directory().join("warren.toml")))
    }

    #[test]
    fn defaults_match_the_contract() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            let settings = load_in(jail).expect("defaults are valid");
            assert_eq!(settings.env, Environment::Development);
            assert_eq!(settings.server.port, 8000);
            assert_eq!(settings.server.host.to_string(), "127.0.0.1");
            assert_eq!(settings.database_url(), "sqlite://./data/warren.db");
            assert!(settings.database.auto_migrate);
            assert_eq!(settings.auth.issuer, "http://localhost:8000");
            assert_eq!(settings.auth.audience, "warren");
            assert_eq!(settings.auth.access_token_ttl_secs, 900);
            assert_eq!(settings.auth.refresh_idle_ttl_secs, 1_209_600);
            assert_eq!(settings.auth.refresh_absolute_ttl_secs, 2_592_000);
            assert_eq!(settings.auth.refresh_reuse_grace_secs, 10);
            assert_eq!(settings.password.min_length, 12);
            assert_eq!(settings.log_format(), LogFormat::Pretty);
            Ok(())
        });
    }

    #[test]
    fn environment_overrides_file_which_overrides_defaults() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file("warren.toml", "[server]\nport = 9000\nhost = \"0.0.0.0\"\n")?;
            jail.set_env("WARREN_SERVER__PORT", "9100");
            jail.set_env("WARREN_CORS__ALLOWED_ORIGINS", "[https://app.example.com]");
            let settings = load_in(jail).expect("valid");
            assert_eq!(settings.server.port, 9100);
            assert_eq!(settings.server.host.to_string(), "0.0.0.0");
            assert_eq!(settings.cors.allowed_origins, ["https://app.example.com"]);
            Ok(())
        });
    }

    #[test]
    fn database_url_is_honoured_and_warren_specific_key_wins() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("DATABASE_URL", "postgres://db.example/warren");
            assert_eq!(
                load_in(jail).expect("valid").database_url(),
                "postgres://db.example/warren"
            );
            jail.set_env("WARREN_DATABASE__URL", "sqlite://other.db");
            assert_eq!(load_in(jail).expect("valid").database_url(), "sqlite://other.db");
            Ok(())
        });
    }

    #[test]
    fn errors_name_the_bad_key() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("WARREN_SERVER__PORT", "eighty");
            let message = load_in(jail).expect_err("port is not a number").to_string();
            assert!(message.contains("server.port"), "{message}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file("warren.toml", "[server]\nprot = 1\n")?;
            let message = load_in(jail).expect_err("typo").to_string();
            assert!(message.contains("prot"), "{message}");
            Ok(())
        });
    }

    #[test]
    fn invalid_values_are_all_reported() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("WARREN_PASSWORD__MIN_LENGTH", "6");
            jail.set_env("WARREN_CORS__ALLOWED_ORIGINS", "[\"*\"]");
            jail.set_env("WARREN_AUTH__ISSUER", " ");
            let message = load_in(jail).expect_err("invalid").to_string();
            for key in ["password.min_length", "cors.allowed_origins", "auth.issuer"] {
                assert!(message.contains(key), "{key} missing from {message}");
            }
            Ok(())
        });
    }

    #[test]
    fn production_refuses_generated_keys_and_localhost_issuer() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("WARREN_ENV", "production");
            let message = load_in(jail).expect_err("unsafe").to_string();
            assert!(message.contains("auth.signing_key_file"), "{message}");
            assert!(message.contains("auth.issuer"), "{message}");
            Ok(())
        });
    }

    #[test]
    fn debug_output_hides_the_database_password() {
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("DATABASE_URL", "postgres://warren:hunter2@db/warren");
            let settings = load_in(jail).expect("valid");
            assert!(!format!("{settings:?}").contains("hunter2"));
            Ok(())
        });
    }

    #[test]
    fn origins_must_be_exact() {
        assert!(validate_origin("https://app.example.com").is_ok());
        assert!(validate_origin("http://localhost:5173").is_ok());
        for bad in [
            "*",
            "null",
            "https://app.example.com/",
            "app.example.com",
            "https://*.example.com",
            "https://App.example.com",
        ] {
            assert!(validate_origin(bad).is_err(), "{bad}");
        }
    }
}
