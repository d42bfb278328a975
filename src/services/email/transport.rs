//! How a message leaves: SMTP through `lettre` (plain, STARTTLS or implicit TLS, as the URL
//! says), or, in development, an `.eml` file per message in `data_dir/mail/`.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::core::config::{EmailSettings, EmailTransport};
use crate::domain::ClaimedMail;

/// How long one SMTP conversation may take before it counts as a transient failure.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

/// Why a delivery failed: worth retrying, or never going to work.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("transient: {0}")]
    Transient(String),
    #[error("permanent: {0}")]
    Permanent(String),
}

#[derive(Clone)]
pub enum MailTransport {
    File(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl std::fmt::Debug for MailTransport {
    // The SMTP transport holds credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(dir) => write!(f, "MailTransport::File({})", dir.display()),
            Self::Smtp(_) => f.write_str("MailTransport::Smtp(..)"),
        }
    }
}

impl MailTransport {
    /// The configured transport; `data_dir` holds the file transport's `mail/` folder.
    pub fn from_settings(
        settings: &EmailSettings,
        data_dir: &std::path::Path,
    ) -> anyhow::Result<Self> {
        match (settings.effective_transport(), &settings.smtp_url) {
            (EmailTransport::File, _) => Ok(Self::File(data_dir.join("mail"))),
            (EmailTransport::Smtp, Some(url)) => {
                let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|_| anyhow::anyhow!("email.smtp_url is not a usable SMTP URL"))?;
                Ok(Self::Smtp(builder.timeout(Some(SMTP_TIMEOUT)).build()))
            }
            (EmailTransport::Smtp, None) => anyhow::bail!("email.smtp_url is required for smtp"),
        }
    }

    pub async fn send(&self, from: &Mailbox, mail: &ClaimedMail) -> Result<(), SendError> {
        let message = build(from, mail)?;
        match self {
            Self::Smtp(smtp) => smtp.send(message).await.map(drop).map_err(|error| {
                if error.is_permanent() {
                    SendError::Permanent(error.to_string())
                } else {
                    SendError::Transient(error.to_string())
                }
            }),
            Self::File(dir) => write_eml(dir, mail.id, &message.formatted())
                .await
                .map_err(|error| SendError::Transient(format!("write .eml: {error}"))),
        }
    }
}

/// A `multipart/alternative` message, marked as automatic so auto-responders stay quiet.
fn build(from: &Mailbox, mail: &ClaimedMail) -> Result<Message, SendError> {
    let to: Mailbox = mail
        .recipient
        .parse()
        .map_err(|_| SendError::Permanent("the recipient is not a valid address".to_owned()))?;
    let auto = HeaderValue::new(
        HeaderName::new_from_ascii_str("Auto-Submitted"),
        "auto-generated".to_owned(),
    );
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .raw_header(auto)
        .message_id(None)
        .date_now()
        .multipart(
            MultiPart::alternative()
                .singlepart(part(ContentType::TEXT_PLAIN, &mail.text)?)
                .singlepart(part(ContentType::TEXT_HTML, &mail.html)?),
        )
        .map_err(|error| SendError::Permanent(format!("build message: {error}")))
}

/// Always quoted-printable: readable in an `.eml` file, whatever the line lengths.
fn part(content_type: ContentType, body: &str) -> Result<SinglePart, SendError> {
    let body = Body::new_with_encoding(body.to_owned(), ContentTransferEncoding::QuotedPrintable)
        .map_err(|_| SendError::Permanent("the body cannot be encoded".to_owned()))?;
    Ok(SinglePart::builder().header(content_type).body(body))
}

/// Writes atomically (temporary file, then rename): a reader never sees half a message.
async fn write_eml(dir: &std::path::Path, id: uuid::Uuid, bytes: &[u8]) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let partial = dir.join(format!(".{id}.eml.partial"));
    tokio::fs::write(&partial, bytes).await?;
    tokio::fs::rename(&partial, dir.join(format!("{id}.eml"))).await
}
