//! A real SMTP server for the tests, on port 0: enough of RFC 5321 for lettre (greeting, EHLO,
//! MAIL, RCPT, DATA, RSET, NOOP, QUIT). It keeps every message it accepts, and can be told to
//! answer DATA with an error instead.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Received {
    pub recipients: Vec<String>,
    /// The message as sent (headers and MIME parts), dot-stuffing undone.
    pub raw: String,
}

impl Received {
    /// The message with quoted-printable undone (soft breaks joined, `=XX` decoded).
    pub fn decoded(&self) -> String {
        let joined = self.raw.replace("=\r\n", "");
        let mut out = Vec::with_capacity(joined.len());
        let bytes = joined.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
                (b'=', Some(byte)) => {
                    out.push(byte);
                    i += 3;
                }
                (byte, _) => {
                    out.push(byte);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.raw
            .lines()
            .take_while(|line| !line.is_empty())
            .find(|line| line.to_ascii_lowercase().starts_with(&prefix))
            .map(|line| line[prefix.len()..].trim().to_owned())
    }

    /// The token of the first link whose template is `…#token={token}`.
    pub fn token(&self) -> String {
        let text = self.decoded();
        let start = text.find("#token=").expect("the message holds a link") + "#token=".len();
        text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }
}

#[derive(Debug, Default)]
struct State {
    inbox: Vec<Received>,
    /// When set, DATA is answered with this line instead of `250`.
    refuse_with: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub struct MailSink {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl MailSink {
    pub async fn start() -> Self {
        Self::start_on(0).await
    }

    /// Starts on `port` (0: any free port).
    pub async fn start_on(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind the SMTP sink");
        let port = listener.local_addr().expect("bound").port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(converse(stream, Arc::clone(&shared)));
            }
        });
        Self { port, state }
    }

    /// A port nothing listens on now (a sink can be started there later).
    pub fn free_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("bound").port()
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn refuse_with(&self, reply: Option<&'static str>) {
        self.state.lock().expect("sink lock").refuse_with = reply;
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().expect("sink lock").inbox.clone()
    }

    /// Waits (up to 15 s) until `count` messages have arrived for `recipient`; returns them.
    pub async fn wait_for(&self, recipient: &str, count: usize) -> Vec<Received> {
        for _ in 0..150 {
            let found = self.to(recipient);
            if found.len() >= count {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{count} message(s) for {recipient} did not arrive; got {:?}", self.to(recipient));
    }

    pub fn to(&self, recipient: &str) -> Vec<Received> {
        let recipient = recipient.to_ascii_lowercase();
        self.received().into_iter().filter(|m| m.recipients.contains(&recipient)).collect()
    }
}

async fn converse(stream: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let mut recipients = Vec::new();
    while let Some(line) = lines.next_line().await? {
        let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
        let reply = match verb.as_str() {
            "EHLO" | "HELO" => "250 sink",
            "MAIL" | "RSET" | "NOOP" => {
                recipients.clear();
                "250 OK"
            }
            "RCPT" => {
                let address = line.split(['<', '>']).nth(1).unwrap_or_default();
                recipients.push(address.to_ascii_lowercase());
                "250 OK"
            }
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut raw = String::new();
                while let Some(line) = lines.next_line().await? {
                    if line == "." {
                        break;
                    }
                    raw.push_str(line.strip_prefix('.').unwrap_or(&line));
                    raw.push_str("\r\n");
                }
                let mut state = state.lock().expect("sink lock");
                if let Some(reply) = state.refuse_with {
                    reply
                } else {
                    let recipients = std::mem::take(&mut recipients);
                    state.inbox.push(Received { recipients, raw });
                    "250 OK queued"
                }
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => "500 unknown command",
        };
        write.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
    Ok(())
}

/// Restarts `app` delivering through SMTP to a new sink, retrying after 1 s instead of 10.
pub async fn deliver_to_sink(app: &mut crate::helpers::TestApp) -> MailSink {
    let sink = MailSink::start().await;
    deliver_to(app, &sink.url()).await;
    sink
}

/// Restarts `app` delivering through SMTP at `url` (which may not answer yet).
pub async fn deliver_to(app: &mut crate::helpers::TestApp, url: &str) {
    let url = url.to_owned();
    app.restart_with(|figment| {
        figment
            .merge(("email.transport", "smtp"))
            .merge(("email.smtp_url", url))
            .merge(("email.retry_initial_secs", 1))
    })
    .await;
}
