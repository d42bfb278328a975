//! Settings: built-in defaults < optional `chat.toml` (or `$CHAT_CONFIG`) < `CHAT_*` environment
//! variables, nested with `__` as Warren's are (`CHAT_SERVER__PORT`, `CHAT_DATABASE__URL`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// `development` generates an encryption key when none is configured; `production` refuses.
    pub env: String,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub warren: WarrenSettings,
    pub auth: AuthSettings,
    pub encryption: EncryptionSettings,
    pub cors: CorsSettings,
    pub data_dir: PathBuf,
    pub log: LogSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// `sqlite://…` or `postgres://…`; unset means `data_dir/chat.db`.
    pub url: Option<String>,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WarrenSettings {
    /// Where the JWKS and display names come from.
    pub url: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    pub issuer: String,
    pub audience: String,
    /// The longest access-token lifetime accepted (Warren's maximum is a day).
    pub max_token_lifetime_secs: u64,
    /// The fewest seconds between JWKS fetches caused by unknown key ids.
    pub jwks_min_refetch_secs: u64,
}

/// Message encryption keys: id → base64 of 32 bytes. `current_key` seals new messages; the
/// others stay for reading older ones, so keys rotate without re-encrypting.
#[derive(Clone, Deserialize)]
pub struct EncryptionSettings {
    pub keys: BTreeMap<String, String>,
    pub current_key: Option<String>,
}

impl std::fmt::Debug for EncryptionSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptionSettings")
            .field("key_ids", &self.keys.keys().collect::<Vec<_>>())
            .field("current_key", &self.current_key)
            .finish()
    }
}

/// The exact browser origins (`scheme://host[:port]`) whose pages may open room sockets; the
/// same list syntax as Warren's `cors.allowed_origins`. Empty by default: no page may.
#[derive(Debug, Clone, Deserialize)]
pub struct CorsSettings {
    pub allowed_origins: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub level: String,
}

impl Settings {
    /// Defaults, then `file` when it exists, then the environment.
    pub fn figment(file: &Path) -> Figment {
        Figment::from(Serialized::defaults(defaults()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("CHAT_").ignore(&["CONFIG"]).split("__"))
    }

    pub fn load() -> anyhow::Result<Self> {
        let file =
            std::env::var_os("CHAT_CONFIG").map_or_else(|| "chat.toml".into(), PathBuf::from);
        Self::from_figment(&Self::figment(&file))
    }

    pub fn from_figment(figment: &Figment) -> anyhow::Result<Self> {
        let settings: Self = figment.extract()?;
        anyhow::ensure!(
            settings.env == "development" || settings.env == "production",
            "env: must be development or production"
        );
        anyhow::ensure!(
            (60..=86_400).contains(&settings.auth.max_token_lifetime_secs),
            "auth.max_token_lifetime_secs: must be between 60 and 86400"
        );
        anyhow::ensure!(
            settings.auth.jwks_min_refetch_secs <= 3600,
            "auth.jwks_min_refetch_secs: must be at most 3600"
        );
        for origin in &settings.cors.allowed_origins {
            check_origin(origin, settings.is_production())
                .map_err(|reason| anyhow::anyhow!("cors.allowed_origins: {origin:?} {reason}"))?;
        }
        Ok(settings)
    }

    pub fn database_url(&self) -> String {
        self.database.url.clone().unwrap_or_else(|| {
            format!("sqlite://{}?mode=rwc", self.data_dir.join("chat.db").display())
        })
    }

    pub fn is_production(&self) -> bool {
        self.env == "production"
    }
}

/// An allowed origin must be exactly `scheme://host[:port]` in lowercase, as browsers send it and
/// compare it byte for byte: never a wildcard, `null` or a path. Production accepts `http://`
/// only for the local machine.
fn check_origin(origin: &str, production: bool) -> Result<(), &'static str> {
    if origin == "*" || origin.eq_ignore_ascii_case("null") {
        return Err("is not allowed: list exact origins");
    }
    let (plain, host_port) = match origin.split_once("://") {
        Some(("https", rest)) => (false, rest),
        Some(("http", rest)) => (true, rest),
        _ => return Err("must start with https:// or http://"),
    };
    if host_port.is_empty()
        || host_port.contains(['/', '*', '?', '#', ' ', '@'])
        || host_port.ends_with(':')
    {
        return Err("must be scheme://host[:port] with no path or wildcard");
    }
    if origin.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err("must be lowercase, as browsers send it");
    }
    if production && plain && !is_local_host(host_port) {
        return Err("is http://: production allows http:// only for localhost origins");
    }
    Ok(())
}

fn is_local_host(host_port: &str) -> bool {
    let host = match host_port.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    host == "localhost" || host.ends_with(".localhost") || host == "127.0.0.1" || host == "::1"
}

fn defaults() -> serde_json::Value {
    serde_json::json!({
        "env": "development",
        "server": { "host": "127.0.0.1", "port": 8001 },
        "database": { "max_connections": 8 },
        "warren": { "url": "http://127.0.0.1:8000" },
        "auth": {
            "issuer": "http://localhost:8000",
            "audience": "warren",
            "max_token_lifetime_secs": 900,
            "jwks_min_refetch_secs": 5,
        },
        "encryption": { "keys": {} },
        "cors": { "allowed_origins": [] },
        "data_dir": "./data-chat",
        "log": { "level": "info,sqlx=warn" },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its large error type
    fn environment_variables_nest_with_double_underscores() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("CHAT_SERVER__PORT", "9001");
            jail.set_env("CHAT_WARREN__URL", "http://warren:8000");
            jail.set_env("CHAT_DATA_DIR", "/var/lib/chat");
            jail.set_env("CHAT_DATABASE__URL", "postgres://db/chat");
            let settings = Settings::from_figment(&Settings::figment(Path::new("absent.toml")))
                .expect("valid");
            assert_eq!(settings.server.port, 9001);
            assert_eq!(settings.warren.url, "http://warren:8000");
            assert_eq!(settings.data_dir, PathBuf::from("/var/lib/chat"));
            assert_eq!(settings.database_url(), "postgres://db/chat");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its large error type
    fn allowed_origins_are_a_list_in_the_environment_and_empty_by_default() {
        figment::Jail::expect_with(|jail| {
            let figment = || Settings::figment(Path::new("absent.toml"));
            let settings = Settings::from_figment(&figment()).expect("valid");
            assert!(settings.cors.allowed_origins.is_empty());
            jail.set_env(
                "CHAT_CORS__ALLOWED_ORIGINS",
                "[http://localhost:5173, https://chat.example.com]",
            );
            let settings = Settings::from_figment(&figment()).expect("valid");
            assert_eq!(
                settings.cors.allowed_origins,
                ["http://localhost:5173", "https://chat.example.com"]
            );
            Ok(())
        });
    }

    #[test]
    fn origins_must_be_exact_lowercase_scheme_host_and_port() {
        for bad in [
            "*",
            "null",
            "localhost:5173",
            "ftp://example.com",
            "https://",
            "https://example.com/",
            "https://*.example.com",
            "https://example.com:",
            "https://Example.com",
            "https://user@example.com",
        ] {
            assert!(check_origin(bad, false).is_err(), "{bad} accepted");
        }
        for good in ["https://chat.example.com", "http://localhost:5173", "http://[::1]:8080"] {
            assert_eq!(check_origin(good, true), Ok(()), "{good} refused");
        }
        assert!(check_origin("http://chat.example.com", true).is_err(), "plain http in production");
        assert_eq!(check_origin("http://chat.example.com", false), Ok(()));
    }

    #[test]
    fn defaults_serve_on_8001_with_sqlite_in_the_data_dir() {
        let settings =
            Settings::from_figment(&Settings::figment(Path::new("absent.toml"))).expect("valid");
        assert_eq!(settings.server.port, 8001);
        assert_eq!(settings.database_url(), "sqlite://./data-chat/chat.db?mode=rwc");
        assert_eq!(settings.warren.url, "http://127.0.0.1:8000");
    }
}
