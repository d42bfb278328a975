//! The WebSocket load client of `make bench` (the live-events performance targets). Two modes:
//!
//! ```sh
//! # Open COUNT sockets, cycling through the access tokens in FILE (one a line); print
//! # `opened=N seconds=S` once every socket has its `ready` frame, then hold them open (and
//! # answer pings) until stdin closes.
//! cargo run --release --example ws_load -- hold ws://127.0.0.1:8000/api/v1/events FILE COUNT
//!
//! # Open COUNT sockets of one user (TOKEN), spread evenly over the instances' event URLs;
//! # then, ROUNDS times, change the user's name through BASE (the first instance) and time
//! # how long each socket takes to receive `user_updated`. Prints
//! # `sockets=N samples=M p50_ms=… p99_ms=… max_ms=… missing=K`.
//! cargo run --release --example ws_load -- fanout BASE TOKEN COUNT ROUNDS WS_URL...
//! ```

use std::io::BufRead;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::{Semaphore, mpsc};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;
type Error = Box<dyn std::error::Error + Send + Sync>;

/// Handshakes in flight at once: enough to keep both server cores busy, few enough that the
/// listener's accept queue never overflows.
const OPENING_AT_ONCE: usize = 64;
/// Longest wait for any one frame; past it the sample counts as missing.
const PATIENCE: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["hold", url, tokens, count] => {
            let tokens: Vec<String> =
                std::fs::read_to_string(tokens)?.lines().map(str::to_owned).collect();
            hold(url, &tokens, count.parse()?).await
        }
        ["fanout", base, token, count, rounds, urls @ ..] if !urls.is_empty() => {
            let urls: Vec<String> = urls.iter().map(|url| (*url).to_owned()).collect();
            fanout(base, token, count.parse()?, rounds.parse()?, &urls).await
        }
        _ => Err("usage: ws_load hold URL TOKENS_FILE COUNT | \
                  fanout BASE TOKEN COUNT ROUNDS WS_URL..."
            .into()),
    }
}

/// Opens one socket the browser way (token as a subprotocol) and reads its `ready` frame.
async fn open(url: &str, token: &str) -> Result<Socket, Error> {
    let mut request = url.into_client_request()?;
    let protocols = HeaderValue::from_str(&format!("warren.v1, warren.bearer.{token}"))?;
    request.headers_mut().insert("sec-websocket-protocol", protocols);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    match next_text(&mut socket).await? {
        frame if frame["type"] == "ready" => Ok(socket),
        frame => Err(format!("expected ready, got {frame}").into()),
    }
}

/// Opens `count` sockets, `OPENING_AT_ONCE` at a time; the i-th uses `targets(i)`.
async fn open_many(
    count: usize,
    targets: impl Fn(usize) -> (String, String),
) -> Result<Vec<Socket>, Error> {
    let gate = Arc::new(Semaphore::new(OPENING_AT_ONCE));
    let mut opening = Vec::with_capacity(count);
    for i in 0..count {
        let (url, token) = targets(i);
        let gate = Arc::clone(&gate);
        opening.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await?;
            open(&url, &token).await
        }));
    }
    let mut sockets = Vec::with_capacity(count);
    for task in opening {
        sockets.push(task.await??);
    }
    Ok(sockets)
}

/// The next JSON text frame; pings are answered by the library while reading.
async fn next_text(socket: &mut Socket) -> Result<Value, Error> {
    loop {
        let message = tokio::time::timeout(PATIENCE, socket.next())
            .await?
            .ok_or("the server closed the socket")??;
        match message {
            Message::Text(text) => return Ok(serde_json::from_str(text.as_str())?),
            Message::Close(frame) => return Err(format!("closed by the server: {frame:?}").into()),
            _ => {}
        }
    }
}

async fn hold(url: &str, tokens: &[String], count: usize) -> Result<(), Error> {
    if tokens.is_empty() {
        return Err("no tokens".into());
    }
    let started = Instant::now();
    let sockets = open_many(count, |i| (url.to_owned(), tokens[i % tokens.len()].clone())).await?;
    println!("opened={} seconds={:.2}", sockets.len(), started.elapsed().as_secs_f64());
    // Keep reading so pings are answered and nothing piles up in the kernel's buffers.
    for mut socket in sockets {
        tokio::spawn(async move { while let Some(Ok(_)) = socket.next().await {} });
    }
    tokio::task::spawn_blocking(|| std::io::stdin().lock().lines().count()).await?;
    Ok(())
}

async fn fanout(
    base: &str,
    token: &str,
    count: usize,
    rounds: usize,
    urls: &[String],
) -> Result<(), Error> {
    let sockets = open_many(count, |i| (urls[i % urls.len()].clone(), token.to_owned())).await?;
    // Each socket reports (round, arrival) for every `user_updated` frame it receives.
    let (arrivals, mut arrived) = mpsc::unbounded_channel::<(usize, Instant)>();
    for mut socket in sockets {
        let arrivals = arrivals.clone();
        tokio::spawn(async move {
            while let Some(Ok(message)) = socket.next().await {
                let Message::Text(text) = message else { continue };
                let Ok(frame) = serde_json::from_str::<Value>(text.as_str()) else { continue };
                if let Some(round) = round_of(&frame) {
                    let _ = arrivals.send((round, Instant::now()));
                }
            }
        });
    }
    let client = reqwest::Client::new();
    let (mut samples, mut missing) = (Vec::with_capacity(count * rounds), 0);
    for round in 0..rounds {
        let sent = Instant::now();
        let response = client
            .patch(format!("{base}/api/v1/users/me"))
            .bearer_auth(token)
            .json(&serde_json::json!({"full_name": format!("Fanout round {round}")}))
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(format!("PATCH /users/me answered {}", response.status()).into());
        }
        let mut received = 0;
        while received < count {
            match tokio::time::timeout(PATIENCE, arrived.recv()).await {
                Ok(Some((r, at))) if r == round => {
                    samples.push(at.duration_since(sent));
                    received += 1;
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        missing += count - received;
    }
    samples.sort_unstable();
    let percentile =
        |p: usize| samples.get((samples.len() * p / 100).min(samples.len().saturating_sub(1)));
    let ms = |d: Option<&Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
    println!(
        "sockets={count} samples={} p50_ms={:.1} p99_ms={:.1} max_ms={:.1} missing={missing}",
        samples.len(),
        ms(percentile(50)),
        ms(percentile(99)),
        ms(samples.last()),
    );
    Ok(())
}

/// The round number a `user_updated` frame carries in the name `fanout` set.
fn round_of(frame: &Value) -> Option<usize> {
    if frame["type"] != "user_updated" {
        return None;
    }
    frame["user"]["full_name"].as_str()?.strip_prefix("Fanout round ")?.parse().ok()
}
