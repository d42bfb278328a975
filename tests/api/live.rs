//! A WebSocket client for the live events endpoint, as the tests drive it.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::TestApp;

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Longest wait for a frame that should come.
const PATIENCE: Duration = Duration::from_secs(5);

/// Opens `/api/v1/events` with extra request headers; the handshake's error when refused.
pub async fn open_with(
    app: &TestApp,
    headers: &[(&str, &str)],
) -> Result<(Socket, tungstenite::handshake::client::Response), tungstenite::Error> {
    let url = format!("{}/api/v1/events", app.address.replace("http://", "ws://"));
    let mut request = url.into_client_request().expect("request");
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes()).expect("header name");
        request.headers_mut().insert(name, HeaderValue::from_str(value).expect("header value"));
    }
    tokio_tungstenite::connect_async(request).await
}

/// Opens a socket the browser way (token as a subprotocol) and reads its `ready` frame.
pub async fn open(app: &TestApp, token: &str) -> (Socket, Value) {
    let protocols = format!("warren.v1, warren.bearer.{token}");
    let (mut socket, response) =
        open_with(app, &[("sec-websocket-protocol", &protocols)]).await.expect("socket opens");
    assert_eq!(response.headers()["sec-websocket-protocol"], "warren.v1");
    let ready = next_frame(&mut socket).await;
    assert_eq!(ready["type"], "ready", "{ready}");
    (socket, ready)
}

/// The next JSON text frame; fails on a close or after [`PATIENCE`].
pub async fn next_frame(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("a frame arrives in time")
            .expect("the socket is open")
            .expect("a valid frame");
        match message {
            Message::Text(text) => {
                let frame: Value = serde_json::from_str(text.as_str()).expect("JSON frame");
                assert!(frame["id"].is_string() && frame["at"].is_string(), "{frame}");
                return frame;
            }
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// Reads until the server closes; returns the close code.
pub async fn close_code(socket: &mut Socket) -> u16 {
    close_code_within(socket, PATIENCE).await
}

/// The close code of a socket that must close within `patience`, answering pings meanwhile.
pub async fn close_code_within(socket: &mut Socket, patience: Duration) -> u16 {
    loop {
        let message =
            tokio::time::timeout(patience, socket.next()).await.expect("the socket closes in time");
        match message {
            Some(Ok(Message::Close(Some(frame)))) => return frame.code.into(),
            Some(Ok(Message::Text(text))) => panic!("expected a close, got {text}"),
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

pub async fn send(socket: &mut Socket, text: &str) {
    socket.send(Message::Text(text.into())).await.expect("send");
}

/// Sends `ping` and waits for `pong`: proves the socket is open and has handled what came
/// before.
pub async fn round_trip(socket: &mut Socket) {
    send(socket, r#"{"type":"ping"}"#).await;
    assert_eq!(next_frame(socket).await["type"], "pong");
}
