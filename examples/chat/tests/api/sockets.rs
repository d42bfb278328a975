//! A room-socket client for the tests: open one (as a browser page from an `Origin`, or as a
//! non-browser client without one), read and send JSON frames, wait for the close code.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::support::ChatTest;

pub type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// A refused upgrade: the status, the content type and the body.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
}

/// Offers `protocols` for `room`, sending `Origin: origin` when given.
pub async fn open(
    chat: &ChatTest,
    protocols: &str,
    room: &str,
    origin: Option<&str>,
) -> Result<Socket, Refusal> {
    let url = format!("{}/ws/rooms/{room}", chat.address.replacen("http", "ws", 1));
    let mut request = url.into_client_request().expect("request");
    let headers = request.headers_mut();
    headers.insert("sec-websocket-protocol", protocols.parse().expect("header"));
    if let Some(origin) = origin {
        headers.insert("origin", origin.parse().expect("header"));
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, response)) => {
            assert_eq!(
                response.headers()["sec-websocket-protocol"],
                "warren.v1",
                "never echoes the token"
            );
            Ok(socket)
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(Refusal {
            status: response.status(),
            content_type: response
                .headers()
                .get("content-type")
                .map(|v| v.to_str().expect("ascii").to_owned())
                .unwrap_or_default(),
            body: response
                .body()
                .as_deref()
                .map(|body| serde_json::from_slice(body).expect("a JSON body"))
                .unwrap_or_default(),
        }),
        Err(other) => panic!("unexpected WebSocket error {other}"),
    }
}

/// Offers `protocols` without an `Origin`; a refusal is its status.
pub async fn connect_with(
    chat: &ChatTest,
    protocols: &str,
    room: &str,
) -> Result<Socket, StatusCode> {
    open(chat, protocols, room, None).await.map_err(|refusal| refusal.status)
}

/// Connects as `token`, from `origin` when given, and checks the `ready` frame.
pub async fn connect_from(
    chat: &ChatTest,
    token: &str,
    room: &str,
    origin: Option<&str>,
) -> Socket {
    let offer = format!("warren.v1, warren.bearer.{token}");
    let mut socket = open(chat, &offer, room, origin).await.expect("upgrade");
    let ready = next_frame(&mut socket).await;
    assert_eq!(ready["type"], "ready");
    assert_eq!(ready["room_id"], room);
    assert!(ready["at"].is_string() && ready["user_id"].is_string(), "{ready}");
    socket
}

/// Connects as `token` without an `Origin` and checks the `ready` frame.
pub async fn connect(chat: &ChatTest, token: &str, room: &str) -> Socket {
    connect_from(chat, token, room, None).await
}

/// The next JSON frame within 5 s, with its text exactly as sent.
pub async fn next_text(socket: &mut Socket) -> String {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a frame in time");
        match frame.expect("socket open").expect("frame") {
            Frame::Text(text) => return text.as_str().to_owned(),
            Frame::Ping(_) | Frame::Pong(_) => {}
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// The next JSON frame within 5 s.
pub async fn next_frame(socket: &mut Socket) -> Value {
    serde_json::from_str(&next_text(socket).await).expect("JSON frame")
}

/// The close code the server ends the socket with, within `within`.
pub async fn close_code(socket: &mut Socket, within: Duration) -> u16 {
    loop {
        let frame = tokio::time::timeout(within, socket.next()).await.expect("closed in time");
        match frame {
            Some(Ok(Frame::Close(Some(close)))) => return close.code.into(),
            Some(Ok(Frame::Text(_) | Frame::Ping(_) | Frame::Pong(_))) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

pub async fn send(socket: &mut Socket, value: &Value) {
    socket.send(Frame::Text(value.to_string().into())).await.expect("send");
}
