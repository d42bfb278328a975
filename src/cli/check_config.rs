//! `warren check-config`: tries everything `serve` would — settings, signing keys, the
//! database connection, pending migrations, the port — without writing a key, then prints a
//! summary and one verdict at the end.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::anyhow;
use sqlx::sqlite::SqliteConnectOptions;

use crate::core::config::Settings;
use crate::core::security::{KeyRing, SecretBox};
use crate::preflight;

/// Findings gathered while checking; the verdict depends only on `problems`.
#[derive(Default)]
struct Report {
    summary: Vec<(&'static str, String)>,
    warnings: Vec<String>,
    problems: Vec<String>,
}

pub async fn run(settings: &Settings) -> anyhow::Result<()> {
    let mut report = Report { summary: summary(settings), ..Report::default() };
    check_keys(settings, &mut report);
    check_database(settings, &mut report).await;
    check_port(settings, &mut report).await;
    print!("{}", report.render());
    if report.problems.is_empty() {
        Ok(())
    } else {
        Err(anyhow!("check-config found {} problem(s); serve would fail", report.problems.len()))
    }
}

fn summary(settings: &Settings) -> Vec<(&'static str, String)> {
    let server = &settings.server;
    let auth = &settings.auth;
    let url = format!("http://{}", SocketAddr::new(server.host, server.port));
    let proxies: Vec<String> = settings.trusted_proxies.iter().map(ToString::to_string).collect();
    vec![
        ("env", format!("{:?}", settings.env).to_lowercase()),
        ("listen", format!("{url} (API docs at {url}/docs)")),
        ("database", preflight::describe_database(&settings.database_url())),
        ("issuer", format!("{} (audience {})", auth.issuer, auth.audience)),
        (
            "token lifetimes",
            format!(
                "access {} s, refresh idle {} s, absolute {} s",
                auth.access_token_ttl_secs,
                auth.refresh_idle_ttl_secs,
                auth.refresh_absolute_ttl_secs
            ),
        ),
        ("cors origins", listed(&settings.cors.allowed_origins)),
        ("refresh cookie", refresh_transport(auth.refresh_cookie).to_owned()),
        ("trusted proxies", listed(&proxies)),
        ("rate limits", rate_limits(settings)),
        ("email", settings.email.describe(&settings.data_dir, auth.require_verified_email)),
        (
            "log",
            format!("{:?}, level {}", settings.log_format(), settings.log.level).to_lowercase(),
        ),
    ]
}

fn refresh_transport(cookie: bool) -> &'static str {
    if cookie {
        "on: allowlisted browser origins get __Host-warren_refresh, other clients the body"
    } else {
        "off: refresh tokens travel in the body"
    }
}

fn listed(items: &[String]) -> String {
    if items.is_empty() { "none".to_owned() } else { items.join(", ") }
}

fn rate_limits(settings: &Settings) -> String {
    let limits = &settings.rate_limit;
    if !limits.enabled {
        return "OFF (rate_limit.enabled = false)".to_owned();
    }
    format!(
        "signup/signin/refresh {}/min (burst {}), rest of the API {}/s (burst {}), per client",
        limits.auth_per_minute, limits.auth_burst, limits.general_per_second, limits.general_burst
    )
}

fn check_keys(settings: &Settings, report: &mut Report) {
    match preflight::load_keys_readonly(settings) {
        Ok(Some(keys)) => {
            let text = format!("kid {} ({})", keys.signing_kid(), keys.signing_algorithm());
            report.summary.push(("signing key", text));
        }
        Ok(None) => {
            let algorithm = settings.auth.signing_algorithm;
            let path = KeyRing::development_key_path(&settings.data_dir, algorithm);
            let text = format!("none yet; serve generates {}", path.display());
            report.summary.push(("signing key", text));
        }
        Err(error) => report.problems.push(format!("signing keys: {error:#}")),
    }
    report.warnings.extend(preflight::key_permission_warning(settings));
    let mfa_key = match SecretBox::load_readonly(settings) {
        Ok(_) if settings.mfa.encryption_key.is_some() => "configured (mfa.encryption_key)".into(),
        Ok(Some(_)) => {
            let path = SecretBox::development_key_path(&settings.data_dir);
            format!("development key {}", path.display())
        }
        Ok(None) => {
            let path = SecretBox::development_key_path(&settings.data_dir);
            format!("none yet; serve generates {}", path.display())
        }
        Err(error) => return report.problems.push(format!("mfa key: {error}")),
    };
    let text = format!("issuer {:?}, secrets key {mfa_key}", settings.mfa.issuer);
    report.summary.push(("two-factor", text));
}

async fn check_database(settings: &Settings, report: &mut Report) {
    let url = settings.database_url();
    if let Some(file) = sqlite_file(&url).filter(|file| !file.exists()) {
        report.warnings.push(format!("{} does not exist yet; serve creates it", file.display()));
        return;
    }
    let database = match preflight::connect_database(settings).await {
        Ok(database) => database,
        Err(error) => return report.problems.push(format!("database: {error:#}")),
    };
    match preflight::pending_migrations(&database).await {
        Ok(0) => report.summary.push(("migrations", "all applied".to_owned())),
        Ok(pending) if settings.database.auto_migrate => report.warnings.push(format!(
            "{pending} migration(s) pending; serve applies them (database.auto_migrate)"
        )),
        Ok(pending) => report.problems.push(format!(
            "{pending} migration(s) pending and database.auto_migrate is off; \
             run: warren migrate up"
        )),
        Err(error) => report.problems.push(format!("database migrations: {error:#}")),
    }
    database.close().await;
}

/// The file of a `sqlite:` URL, when it names one.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let options = SqliteConnectOptions::from_str(url).ok()?;
    let file = options.get_filename();
    (url.starts_with("sqlite:") && file != Path::new(":memory:")).then(|| file.to_owned())
}

/// A port already taken is only a warning: the running service itself may hold it.
async fn check_port(settings: &Settings, report: &mut Report) {
    let address = SocketAddr::new(settings.server.host, settings.server.port);
    if let Err(error) = tokio::net::TcpListener::bind(address).await {
        report.warnings.push(format!(
            "cannot listen on {address} now ({error}); unless Warren already runs there, \
             choose another port with WARREN_SERVER__PORT"
        ));
    }
}

impl Report {
    fn render(&self) -> String {
        let mut out = String::from("configuration\n");
        for (label, value) in &self.summary {
            let _ = writeln!(out, "  {:<16} {value}", format!("{label}:"));
        }
        for warning in &self.warnings {
            let _ = writeln!(out, "warning: {warning}");
        }
        for problem in &self.problems {
            let _ = writeln!(out, "problem: {problem}");
        }
        let verdict = if self.problems.is_empty() {
            "ready: serve would start with this configuration"
        } else {
            "NOT ready: serve would fail (see the problems above)"
        };
        let _ = writeln!(out, "verdict: {verdict}");
        out
    }
}
