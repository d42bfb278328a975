//! `chat-cli`: a terminal client. Signs in against Warren, lists rooms, joins one, shows its
//! recent history, then chats live over the room WebSocket until `/quit`.
//!
//! ```sh
//! chat-cli --email ada@example.com --room General      # asks for the password
//! ```
//! The password comes from `CHAT_CLI_PASSWORD` or a prompt; at a terminal the prompt does not
//! show what is typed, piped input is read as a plain line. The access token is renewed with
//! Warren's refresh token before it expires and handed to the socket as an `auth` frame.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines, Stdin};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const HELP: &str = "type a message and press Enter to send it; /help shows this; /quit leaves";

#[derive(Parser)]
#[command(name = "chat-cli", about = "Chat in Warren chat rooms from a terminal")]
struct Args {
    /// Warren, where you sign in.
    #[arg(long, env = "CHAT_CLI_WARREN_URL", default_value = "http://127.0.0.1:8000")]
    warren: String,
    /// The chat service.
    #[arg(long, env = "CHAT_CLI_CHAT_URL", default_value = "http://127.0.0.1:8001")]
    chat: String,
    /// Your Warren email (asked when missing).
    #[arg(long, env = "CHAT_CLI_EMAIL")]
    email: Option<String>,
    /// The room to enter, by name (a list to pick from when missing).
    #[arg(long)]
    room: Option<String>,
    /// How many recent messages to show on entering.
    #[arg(long, default_value_t = 20)]
    history: u8,
}

/// Warren's answer to a sign-in or refresh.
struct Session {
    access_token: String,
    refresh_token: String,
    expires_in: u64,
}

type Input = Lines<BufReader<Stdin>>;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let http = reqwest::Client::new();
    let mut input = BufReader::new(tokio::io::stdin()).lines();
    let email = match args.email.clone() {
        Some(email) => email,
        None => ask(&mut input, "email: ").await?,
    };
    let password = match std::env::var("CHAT_CLI_PASSWORD") {
        Ok(password) => password,
        Err(_) => ask_secret(&mut input, "password: ").await?,
    };
    let signin = json!({"email": email, "password": password});
    let session = session(&http, &format!("{}/api/v1/auth/signin", args.warren), &signin).await?;
    println!("signed in as {email}");
    let room = pick_room(&http, &args, &session.access_token, &mut input).await?;
    let room_id = room["id"].as_str().context("room id")?.to_owned();
    let joined = http
        .post(format!("{}/api/v1/rooms/{room_id}/join", args.chat))
        .bearer_auth(&session.access_token)
        .send()
        .await?;
    if !joined.status().is_success() {
        bail!("could not join: {}", joined.text().await?);
    }
    show_history(&http, &args, &session.access_token, &room_id).await?;
    println!("joined {} — {HELP}", room["name"].as_str().unwrap_or("the room"));
    chat(&http, &args, session, &room_id, &mut input).await
}

async fn ask(input: &mut Input, prompt: &str) -> anyhow::Result<String> {
    println!("{prompt}");
    input.next_line().await?.map(|line| line.trim().to_owned()).context("input ended")
}

/// Like [`ask`], but a person at a terminal types without the characters being shown.
async fn ask_secret(input: &mut Input, prompt: &str) -> anyhow::Result<String> {
    if !std::io::stdin().is_terminal() {
        return ask(input, prompt).await;
    }
    let echo_off = terminal::EchoOff::start().context("turn the terminal's echo off")?;
    print!("{prompt}");
    std::io::stdout().flush()?;
    let line = tokio::select! {
        line = input.next_line() => line,
        _ = tokio::signal::ctrl_c() => {
            // Exit here, echo back on: the runtime would wait for the pending stdin read.
            drop(echo_off);
            println!();
            std::process::exit(130);
        }
    };
    drop(echo_off);
    line?.map(|line| line.trim().to_owned()).context("input ended")
}

async fn session(http: &reqwest::Client, url: &str, body: &Value) -> anyhow::Result<Session> {
    let response = http.post(url).json(body).send().await.context("reach Warren")?;
    if !response.status().is_success() {
        let problem: Value = response.json().await.unwrap_or_default();
        bail!("Warren refused: {}", problem["detail"].as_str().unwrap_or("no reason given"));
    }
    let body: Value = response.json().await?;
    Ok(Session {
        access_token: body["access_token"].as_str().context("access_token")?.to_owned(),
        refresh_token: body["refresh_token"].as_str().context("refresh_token")?.to_owned(),
        expires_in: body["expires_in"].as_u64().unwrap_or(900),
    })
}

async fn pick_room(
    http: &reqwest::Client,
    args: &Args,
    token: &str,
    input: &mut Input,
) -> anyhow::Result<Value> {
    let rooms: Vec<Value> = http
        .get(format!("{}/api/v1/rooms", args.chat))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    if let Some(name) = &args.room {
        return rooms
            .into_iter()
            .find(|r| r["name"].as_str() == Some(name))
            .with_context(|| format!("no room named {name}"));
    }
    for (n, room) in rooms.iter().enumerate() {
        println!(
            "{:>3}. {} ({} unread)",
            n + 1,
            room["name"].as_str().unwrap_or("?"),
            room["unread_count"]
        );
    }
    let choice = ask(input, "room number: ").await?;
    let index: usize = choice.parse().context("a room number")?;
    rooms.into_iter().nth(index.saturating_sub(1)).context("no such room")
}

async fn show_history(
    http: &reqwest::Client,
    args: &Args,
    token: &str,
    room: &str,
) -> anyhow::Result<()> {
    let url =
        format!("{}/api/v1/rooms/{room}/messages?limit={}", args.chat, args.history.clamp(1, 100));
    let page: Vec<Value> =
        http.get(url).bearer_auth(token).send().await?.error_for_status()?.json().await?;
    for message in page.iter().rev() {
        println!("{}", render_message(message));
    }
    Ok(())
}

async fn chat(
    http: &reqwest::Client,
    args: &Args,
    mut session: Session,
    room: &str,
    input: &mut Input,
) -> anyhow::Result<()> {
    let url = format!("{}/ws/rooms/{room}", args.chat.replacen("http", "ws", 1));
    let mut request = url.into_client_request()?;
    let offer = format!("warren.v1, warren.bearer.{}", session.access_token);
    request.headers_mut().insert("sec-websocket-protocol", offer.parse()?);
    let (socket, _) =
        tokio_tungstenite::connect_async(request).await.context("open the room socket")?;
    let (mut outgoing, mut incoming) = socket.split();
    let refresh_url = format!("{}/api/v1/auth/refresh", args.warren);
    let renew_after =
        |session: &Session| Duration::from_secs(session.expires_in.saturating_sub(60).max(10));
    let mut renew_at = tokio::time::Instant::now() + renew_after(&session);
    loop {
        tokio::select! {
            line = input.next_line() => {
                let Some(line) = line? else { break };
                match line.trim() {
                    "/quit" => break,
                    "/help" => println!("{HELP}"),
                    "" => {}
                    text => {
                        let frame = json!({"type": "message", "content": text}).to_string();
                        outgoing.send(Frame::Text(frame.into())).await?;
                    }
                }
            }
            frame = incoming.next() => match frame {
                Some(Ok(Frame::Text(text))) => print_event(&serde_json::from_str(text.as_str()).unwrap_or_default()),
                Some(Ok(Frame::Close(close))) => bail!("the room closed: {close:?}"),
                Some(Ok(_)) => {}
                Some(Err(error)) => bail!("connection lost: {error}"),
                None => bail!("connection closed"),
            },
            () = tokio::time::sleep_until(renew_at) => {
                session = self::session(http, &refresh_url, &json!({"refresh_token": session.refresh_token})).await?;
                renew_at = tokio::time::Instant::now() + renew_after(&session);
                let frame = json!({"type": "auth", "access_token": session.access_token}).to_string();
                outgoing.send(Frame::Text(frame.into())).await?;
            }
        }
    }
    let _ = outgoing.close().await;
    println!("bye");
    Ok(())
}

fn render_message(message: &Value) -> String {
    let at = message["created_at"].as_str().unwrap_or("");
    let time = at.get(11..16).unwrap_or(at);
    let name = message["sender"]["name"].as_str().unwrap_or("?");
    format!("[{time}] {name}: {}", message["content"].as_str().unwrap_or(""))
}

fn print_event(event: &Value) {
    let who = event["user"]["name"].as_str().unwrap_or("someone");
    let emoji = event["emoji"].as_str().unwrap_or("");
    match event["type"].as_str().unwrap_or("") {
        "message" => println!("{}", render_message(&event["message"])),
        "typing" => println!("  {who} is typing…"),
        "reaction_added" => println!("  {who} reacted {emoji}"),
        "reaction_removed" => println!("  {who} took back {emoji}"),
        "member_joined" => println!("  {who} joined"),
        "member_left" => println!("  {who} left"),
        "error" => println!("! {}", event["detail"].as_str().unwrap_or("refused")),
        _ => {}
    }
}

/// The terminal's echo, switched off while a secret is typed.
#[cfg(unix)]
mod terminal {
    use rustix::termios::{LocalModes, OptionalActions, Termios, tcgetattr, tcsetattr};

    /// Echo stays off until this is dropped; the Enter still moves to a new line (`ECHONL`).
    pub struct EchoOff {
        saved: Termios,
    }

    impl EchoOff {
        pub fn start() -> std::io::Result<Self> {
            let saved = tcgetattr(std::io::stdin())?;
            let mut quiet = saved.clone();
            quiet.local_modes.remove(LocalModes::ECHO);
            quiet.local_modes.insert(LocalModes::ECHONL);
            tcsetattr(std::io::stdin(), OptionalActions::Now, &quiet)?;
            Ok(Self { saved })
        }
    }

    impl Drop for EchoOff {
        fn drop(&mut self) {
            let _ = tcsetattr(std::io::stdin(), OptionalActions::Now, &self.saved);
        }
    }
}

/// Without termios, a secret is never typed into a visible prompt: the variable is the way.
#[cfg(not(unix))]
mod terminal {
    pub struct EchoOff;

    impl EchoOff {
        pub fn start() -> std::io::Result<Self> {
            Err(std::io::Error::other("no hidden prompt here; set CHAT_CLI_PASSWORD instead"))
        }
    }
}
