//! `email.*`: how mail leaves, the links it carries, token lifetimes and retries.

use serde::{Deserialize, Serialize};

use super::Problems;

/// Longest link lifetime or interval accepted: a year, far from overflowing any time sum.
const MAX_SECS: u64 = 365 * 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailTransport {
    /// Each message an `.eml` file in `data_dir/mail/`: development only.
    File,
    Smtp,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    /// Unset: `file` in development; production must say `smtp`.
    pub transport: Option<EmailTransport>,
    /// `smtp://host:port` (plain), `?tls=required` (STARTTLS), `smtps://` (implicit TLS);
    /// may hold credentials, so it never appears in `Debug` or logs.
    pub smtp_url: Option<String>,
    pub from: String,
    pub links: EmailLinks,
    pub verify_ttl_secs: u64,
    pub reset_ttl_secs: u64,
    pub change_ttl_secs: u64,
    pub resend_interval_secs: u64,
    pub max_attempts: u32,
    /// Delay before the first retry; each later one at most doubles it (jitter included).
    pub retry_initial_secs: u64,
}

/// Link templates: `{token}` is replaced by the URL-encoded token.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailLinks {
    pub verify_email: String,
    pub reset_password: String,
    pub confirm_email_change: String,
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            transport: None,
            smtp_url: None,
            from: "Warren <no-reply@localhost>".to_owned(),
            links: EmailLinks {
                verify_email: "http://localhost:5173/verify-email#token={token}".to_owned(),
                reset_password: "http://localhost:5173/reset-password#token={token}".to_owned(),
                confirm_email_change: "http://localhost:5173/confirm-email#token={token}"
                    .to_owned(),
            },
            verify_ttl_secs: 86_400,
            reset_ttl_secs: 1_800,
            change_ttl_secs: 86_400,
            resend_interval_secs: 60,
            max_attempts: 8,
            retry_initial_secs: 10,
        }
    }
}

impl std::fmt::Debug for EmailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailSettings")
            .field("transport", &self.transport)
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "[redacted]"))
            .field("from", &self.from)
            .field("links", &self.links)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

impl EmailSettings {
    /// The transport in use: `file` unless configured, which production refuses.
    pub fn effective_transport(&self) -> EmailTransport {
        self.transport.unwrap_or(EmailTransport::File)
    }

    /// One line for `check-config`: where mail goes (never the SMTP credentials).
    pub fn describe(&self, data_dir: &std::path::Path, require_verified: bool) -> String {
        let destination = match (self.effective_transport(), &self.smtp_url) {
            (EmailTransport::File, _) => {
                format!("file: .eml files in {}", data_dir.join("mail").display())
            }
            (EmailTransport::Smtp, url) => {
                let url = url.as_deref().unwrap_or_default();
                let (scheme, rest) = url.split_once("://").unwrap_or(("smtp", url));
                let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
                let (host, query) = host.split_once('?').unwrap_or((host, ""));
                let security = match scheme {
                    "smtps" => "implicit TLS",
                    _ if query.contains("tls=required") => "STARTTLS required",
                    _ if query.contains("tls=opportunistic") => "STARTTLS if offered",
                    _ => "plain",
                };
                format!("smtp to {host} ({security})")
            }
        };
        let verified = if require_verified { "required" } else { "not required" };
        format!(
            "{destination}, from {}, up to {} attempts; verified address {verified} at signin",
            self.from, self.max_attempts
        )
    }

    pub(super) fn validate(&self, production: bool, problems: &mut Problems) {
        for (key, secs) in [
            ("email.verify_ttl_secs", self.verify_ttl_secs),
            ("email.reset_ttl_secs", self.reset_ttl_secs),
            ("email.change_ttl_secs", self.change_ttl_secs),
            ("email.resend_interval_secs", self.resend_interval_secs),
            ("email.retry_initial_secs", self.retry_initial_secs),
        ] {
            problems.within(key, secs, 1, MAX_SECS);
        }
        problems.within("email.max_attempts", u64::from(self.max_attempts), 1, 100);
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            problems
                .refuse("email.from", "must be an address such as `Warren <no-reply@example.com>`");
        }
        for (key, link) in [
            ("email.links.verify_email", &self.links.verify_email),
            ("email.links.reset_password", &self.links.reset_password),
            ("email.links.confirm_email_change", &self.links.confirm_email_change),
        ] {
            if !link.contains("{token}") {
                problems.refuse(key, "must contain `{token}`");
            }
            // A link in production is opened by people on other machines: plain http would
            // hand the token to anyone on the path, and a loopback address reaches nobody.
            if production && !link.starts_with("https://") {
                problems.refuse(key, "production needs an https:// link template");
            }
        }
        match (self.effective_transport(), &self.smtp_url) {
            (EmailTransport::File, _) if production => problems.refuse(
                "email.transport",
                "production needs `smtp` (the file transport is for development)",
            ),
            (EmailTransport::Smtp, None) => {
                problems.refuse("email.smtp_url", "required when email.transport is smtp");
            }
            (EmailTransport::Smtp, Some(url))
                if !url.starts_with("smtp://") && !url.starts_with("smtps://") =>
            {
                problems.refuse("email.smtp_url", "must start with smtp:// or smtps://");
            }
            (EmailTransport::Smtp, Some(url)) if production && !smtp_is_protected(url) => {
                problems.refuse(
                    "email.smtp_url",
                    "production needs TLS to a mail server that is not on this machine \
                     (smtps:// or ?tls=required)",
                );
            }
            _ => {}
        }
    }
}

/// Whether mail to `url` cannot be read on the network: TLS is required (implicit with
/// `smtps://`, or STARTTLS with `tls=required`), or the server is on this machine.
fn smtp_is_protected(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
    if scheme == "smtps" || query.split('&').any(|pair| pair == "tls=required") {
        return true;
    }
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = match host_port.strip_prefix('[') {
        Some(bracketed) => bracketed.split_once(']').map_or(bracketed, |(host, _)| host),
        None => host_port.rsplit_once(':').map_or(host_port, |(host, _)| host),
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::smtp_is_protected;

    #[test]
    fn smtp_without_tls_is_protected_only_on_this_machine() {
        for url in [
            "smtps://mail.example.com:465",
            "smtp://user:pass@mail.example.com:587?tls=required",
            "smtp://127.0.0.1:2525",
            "smtp://localhost:25",
            "smtp://[::1]:2525",
        ] {
            assert!(smtp_is_protected(url), "{url}");
        }
        for url in [
            "smtp://mail.example.com:25",
            "smtp://user:pass@mail.example.com:587?tls=opportunistic",
            "smtp://10.0.0.5:25",
            "smtp://localhost.evil.example:25",
            "smtp://[2001:db8::1]:25",
            "mail.example.com",
        ] {
            assert!(!smtp_is_protected(url), "{url}");
        }
    }
}
