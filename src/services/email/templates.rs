//! The messages Warren sends, rendered from the templates in `templates/` (compiled into the
//! binary): a text and an HTML part each, the HTML escaped and loading nothing remote.

use minijinja::Environment;
use serde::Serialize;

use crate::domain::OutgoingMail;

/// Every message, with what its text needs.
#[derive(Debug, Clone, Copy)]
pub enum Message<'a> {
    VerifyEmail {
        link: &'a str,
        valid_for: &'a str,
    },
    ResetPassword {
        link: &'a str,
        valid_for: &'a str,
    },
    ConfirmEmailChange {
        link: &'a str,
        valid_for: &'a str,
        new_email: &'a str,
    },
    PasswordChanged,
    EmailChangeRequested {
        new_email: &'a str,
    },
    EmailChanged,
    /// Two-factor sign-in: each change mails a notice.
    MfaEnabled,
    MfaDisabled,
    RecoveryCodeUsed,
    RecoveryCodesRegenerated,
}

#[derive(Serialize)]
struct LinkContext<'a> {
    subject: &'a str,
    service: &'static str,
    intro: String,
    action: &'static str,
    link: &'a str,
    /// The link escaped for an HTML attribute only where HTML requires it, so it reads as the
    /// configured template (the template engine's own escaping would also turn `/` into `&#x2f;`).
    link_html: minijinja::Value,
    valid_for: &'a str,
}

#[derive(Serialize)]
struct MfaContext<'a> {
    subject: &'a str,
    service: &'static str,
    change: &'static str,
    state: &'static str,
}

#[derive(Serialize)]
struct NoticeContext<'a> {
    subject: &'a str,
    service: &'static str,
    notice: String,
}

const SERVICE: &str = "Warren";

#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn load() -> Result<Self, minijinja::Error> {
        let mut env = Environment::new();
        // `.html` templates are HTML-escaped by name, `.txt` ones are not.
        env.add_template("link.txt", include_str!("templates/link.txt"))?;
        env.add_template("link.html", include_str!("templates/link.html"))?;
        env.add_template("notice.txt", include_str!("templates/notice.txt"))?;
        env.add_template("notice.html", include_str!("templates/notice.html"))?;
        env.add_template("mfa.txt", include_str!("templates/mfa.txt"))?;
        env.add_template("mfa.html", include_str!("templates/mfa.html"))?;
        Ok(Self { env })
    }

    /// Renders `message` for `recipient` (`None`: the account's current address).
    pub fn render(
        &self,
        message: Message<'_>,
        recipient: Option<String>,
    ) -> Result<OutgoingMail, minijinja::Error> {
        let (kind, subject) = message.kind_and_subject();
        let (text, html) = match message {
            Message::VerifyEmail { link, valid_for } => {
                let intro = "please confirm that this address is yours.".to_owned();
                let context = link_context(subject, intro, "Confirm my address", link, valid_for);
                self.pair("link", &context)?
            }
            Message::ResetPassword { link, valid_for } => {
                let intro = "someone asked to reset the password of the account registered \
                             with this address."
                    .to_owned();
                let context = link_context(subject, intro, "Choose a new password", link, valid_for);
                self.pair("link", &context)?
            }
            Message::ConfirmEmailChange { link, valid_for, new_email } => {
                let intro = format!("please confirm {new_email} as the new address of your account.");
                let context = link_context(subject, intro, "Confirm the new address", link, valid_for);
                self.pair("link", &context)?
            }
            Message::PasswordChanged => {
                self.notice(subject, "the password of your account was changed.".to_owned())?
            }
            Message::EmailChangeRequested { new_email } => self.notice(
                subject,
                format!("someone asked to move your account to {new_email}. It moves only once the link sent there is used."),
            )?,
            Message::EmailChanged => self.notice(
                subject,
                "your account now uses a new email address; this one no longer signs in.".to_owned(),
            )?,
            Message::MfaEnabled
            | Message::MfaDisabled
            | Message::RecoveryCodeUsed
            | Message::RecoveryCodesRegenerated => {
                let (change, state) = message.mfa_text();
                self.pair("mfa", &MfaContext { subject, service: SERVICE, change, state })?
            }
        };
        Ok(OutgoingMail {
            kind,
            recipient,
            quiet_since: None,
            subject: subject.to_owned(),
            text,
            html,
        })
    }

    fn notice(&self, subject: &str, notice: String) -> Result<(String, String), minijinja::Error> {
        self.pair("notice", &NoticeContext { subject, service: SERVICE, notice })
    }

    fn pair(
        &self,
        name: &str,
        context: &impl Serialize,
    ) -> Result<(String, String), minijinja::Error> {
        let text = self.env.get_template(&format!("{name}.txt"))?.render(context)?;
        let html = self.env.get_template(&format!("{name}.html"))?.render(context)?;
        Ok((text, html))
    }
}

fn link_context<'a>(
    subject: &'a str,
    intro: String,
    action: &'static str,
    link: &'a str,
    valid_for: &'a str,
) -> LinkContext<'a> {
    let escaped =
        link.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;");
    let link_html = minijinja::Value::from_safe_string(escaped);
    LinkContext { subject, service: SERVICE, intro, action, link, link_html, valid_for }
}

impl Message<'_> {
    /// The outbox `kind` (which keys the resend interval) and the subject line.
    fn kind_and_subject(self) -> (&'static str, &'static str) {
        match self {
            Self::VerifyEmail { .. } => ("verify_email", "Confirm your email address"),
            Self::ResetPassword { .. } => ("reset_password", "Reset your password"),
            Self::ConfirmEmailChange { .. } => {
                ("confirm_email_change", "Confirm your new email address")
            }
            Self::PasswordChanged => ("password_changed", "Your password was changed"),
            Self::EmailChangeRequested { .. } => {
                ("email_change_requested", "A change of your email address was requested")
            }
            Self::EmailChanged => ("email_changed", "Your email address was changed"),
            Self::MfaEnabled => ("mfa_enabled", "Two-factor sign-in is on"),
            Self::MfaDisabled => ("mfa_disabled", "Two-factor sign-in is off"),
            Self::RecoveryCodeUsed => ("mfa_recovery_code_used", "A recovery code was used"),
            Self::RecoveryCodesRegenerated => {
                ("mfa_recovery_codes_regenerated", "New recovery codes were made")
            }
        }
    }

    /// What changed and where that leaves the account, for the two-factor notices.
    fn mfa_text(self) -> (&'static str, &'static str) {
        match self {
            Self::MfaEnabled => (
                "Two-factor sign-in was switched on for your account.",
                "Signing in now takes your password and a code from your authenticator app \
                 (or one of your recovery codes).",
            ),
            Self::MfaDisabled => (
                "Two-factor sign-in was switched off for your account.",
                "Signing in now takes your password alone; your recovery codes no longer work.",
            ),
            Self::RecoveryCodeUsed => (
                "One of your recovery codes was just used to sign in to your account.",
                "That code no longer works. Make new codes when few are left.",
            ),
            _ => (
                "New recovery codes were made for your account.",
                "Every older recovery code stopped working; keep the new ones somewhere safe.",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_renders_both_parts_and_escapes_html() {
        let templates = Templates::load().expect("the compiled-in templates parse");
        let link = "https://app.example/verify#token=a&b";
        let mail = templates
            .render(Message::VerifyEmail { link, valid_for: "24 hours" }, None)
            .expect("renders");
        assert!(mail.text.contains(link), "{}", mail.text);
        assert!(
            mail.html.contains(r#"href="https://app.example/verify#token=a&amp;b""#),
            "{}",
            mail.html
        );
        assert!(!mail.html.contains("<img"), "no remote resources");
        let notice = templates
            .render(Message::EmailChangeRequested { new_email: "<b>@x.example" }, None)
            .expect("renders");
        assert!(notice.html.contains("&lt;b&gt;"), "{}", notice.html);
        for message in [
            Message::MfaEnabled,
            Message::MfaDisabled,
            Message::RecoveryCodeUsed,
            Message::RecoveryCodesRegenerated,
        ] {
            let mail = templates.render(message, None).expect("renders");
            assert!(mail.text.contains("recovery codes") || mail.text.contains("two-factor"));
            assert!(mail.html.contains(&mail.subject), "{}", mail.html);
            assert!(mail.kind.starts_with("mfa_"), "{}", mail.kind);
        }
    }
}
