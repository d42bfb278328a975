//! `chat-cli` driven through piped stdin/stdout: it signs in against Warren and chats with a
//! WebSocket client in the same room.

use std::process::Stdio;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{ChildStdout, Command};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::support::{Backend, ChatTest};

/// Reads output lines until one contains `wanted`; returns everything read.
async fn read_until(lines: &mut Lines<BufReader<ChildStdout>>, wanted: &str) -> String {
    let mut seen = String::new();
    loop {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("no {wanted:?} in time; output so far:\n{seen}"))
            .expect("read")
            .unwrap_or_else(|| panic!("chat-cli exited before {wanted:?}; output:\n{seen}"));
        seen.push_str(&line);
        seen.push('\n');
        if line.contains(wanted) {
            return seen;
        }
    }
}

#[tokio::test]
async fn chat_cli_signs_in_and_exchanges_messages_with_a_websocket_client() {
    let chat = ChatTest::spawn(Backend::Sqlite).await;
    let (email, password) = chat.warren.signup("Ada Lovelace").await;
    let (_, bob) = chat.warren.user("Bob Burrow").await;
    let rooms: Value = crate::support::json_of(chat.get(&bob, "/api/v1/rooms").await).await;
    let general = rooms[0]["id"].as_str().expect("General").to_owned();
    chat.join(&bob, &general).await;
    chat.say(&bob, &general, "an older message").await;

    let mut cli = Command::new(env!("CARGO_BIN_EXE_chat-cli"))
        .args(["--warren", &chat.warren.address, "--chat", &chat.address, "--room", "General"])
        .args(["--email", &email])
        .env("CHAT_CLI_PASSWORD", &password)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("chat-cli starts");
    let mut stdin = cli.stdin.take().expect("stdin");
    let mut stdout = BufReader::new(cli.stdout.take().expect("stdout")).lines();
    let entered = read_until(&mut stdout, "joined General").await;
    assert!(entered.contains("signed in as"), "{entered}");
    assert!(entered.contains("Bob Burrow: an older message"), "history shown: {entered}");

    let url = format!("{}/ws/rooms/{general}", chat.address.replacen("http", "ws", 1));
    let mut request = url.into_client_request().expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        format!("warren.v1, warren.bearer.{bob}").parse().expect("header"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("Bob's socket");
    let _ready = socket.next().await;

    stdin.write_all(b"/help\nhello from the terminal\n").await.expect("type");
    let frame = loop {
        let next =
            tokio::time::timeout(Duration::from_secs(10), socket.next()).await.expect("in time");
        if let Some(Ok(Frame::Text(text))) = next {
            break serde_json::from_str::<Value>(text.as_str()).expect("json");
        }
    };
    assert_eq!(frame["message"]["content"], "hello from the terminal");
    assert_eq!(frame["message"]["sender"]["name"], "Ada Lovelace");

    let reply = json!({"type": "message", "content": "hello from the socket"}).to_string();
    socket.send(Frame::Text(reply.into())).await.expect("send");
    read_until(&mut stdout, "Bob Burrow: hello from the socket").await;

    stdin.write_all(b"/quit\n").await.expect("type");
    read_until(&mut stdout, "bye").await;
    let status = tokio::time::timeout(Duration::from_secs(5), cli.wait())
        .await
        .expect("exits")
        .expect("status");
    assert!(status.success());
}

/// Reads `output` until the text seen so far contains `wanted`; returns it all.
async fn read_text_until(output: &mut (impl AsyncRead + Unpin), seen: &mut String, wanted: &str) {
    let mut buffer = [0_u8; 4096];
    while !seen.contains(wanted) {
        let read = tokio::time::timeout(Duration::from_secs(10), output.read(&mut buffer))
            .await
            .unwrap_or_else(|_| panic!("no {wanted:?} in time; output so far:\n{seen}"))
            .expect("read");
        assert!(read > 0, "output ended before {wanted:?}; output:\n{seen}");
        seen.push_str(&String::from_utf8_lossy(&buffer[..read]));
    }
}

/// `arg` quoted for `sh`.
fn quoted(arg: &str) -> String {
    format!("'{}'", arg.replace('\'', r"'\''"))
}

#[tokio::test]
async fn chat_cli_reads_a_piped_password_as_a_plain_line() {
    let chat = ChatTest::spawn(Backend::Sqlite).await;
    let (email, password) = chat.warren.signup("Ada Lovelace").await;
    let mut cli = Command::new(env!("CARGO_BIN_EXE_chat-cli"))
        .args(["--warren", &chat.warren.address, "--chat", &chat.address, "--room", "General"])
        .args(["--email", &email])
        .env_remove("CHAT_CLI_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("chat-cli starts");
    let mut stdin = cli.stdin.take().expect("stdin");
    let mut stdout = BufReader::new(cli.stdout.take().expect("stdout")).lines();
    stdin.write_all(format!("{password}\n").as_bytes()).await.expect("type");
    let entered = read_until(&mut stdout, "joined General").await;
    assert!(entered.contains(&format!("signed in as {email}")), "{entered}");
    stdin.write_all(b"/quit\n").await.expect("type");
    read_until(&mut stdout, "bye").await;
}

/// At a terminal (a pseudo-terminal that `script` opens), the typed password is not shown.
#[tokio::test]
async fn chat_cli_does_not_show_a_password_typed_at_a_terminal() {
    let chat = ChatTest::spawn(Backend::Sqlite).await;
    let (email, password) = chat.warren.signup("Ada Lovelace").await;
    let cli = [
        env!("CARGO_BIN_EXE_chat-cli"),
        "--warren",
        &chat.warren.address,
        "--chat",
        &chat.address,
        "--room",
        "General",
        "--email",
        &email,
    ]
    .map(quoted)
    .join(" ");
    let mut terminal = Command::new("script")
        .args(["--quiet", "--return", "--command", &cli, "/dev/null"])
        .env("SHELL", "/bin/sh")
        .env_remove("CHAT_CLI_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("script (util-linux) starts chat-cli in a pseudo-terminal");
    let mut keyboard = terminal.stdin.take().expect("stdin");
    let mut screen = terminal.stdout.take().expect("stdout");
    let mut seen = String::new();
    read_text_until(&mut screen, &mut seen, "password: ").await;
    keyboard.write_all(format!("{password}\n").as_bytes()).await.expect("type");
    read_text_until(&mut screen, &mut seen, "joined General").await;
    assert!(seen.contains(&format!("signed in as {email}")), "{seen}");
    assert!(!seen.contains(&password), "the password was shown:\n{seen}");
    keyboard.write_all(b"/quit\n").await.expect("type");
    read_text_until(&mut screen, &mut seen, "bye").await;
    let status = tokio::time::timeout(Duration::from_secs(5), terminal.wait())
        .await
        .expect("exits")
        .expect("status");
    assert!(status.success(), "{status}:\n{seen}");
}
