//! The connection layer: a request head must arrive whole within its deadline, and one client
//! cannot hold every connection.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, database_free};

async fn connect(app: &TestApp) -> TcpStream {
    let address = app.address.trim_start_matches("http://");
    TcpStream::connect(address).await.expect("connect")
}

/// Waits until the server closes `stream` (end of file or reset) and says how long that took.
async fn closed_within(stream: &mut TcpStream, patience: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buffer = [0u8; 1024];
    loop {
        match tokio::time::timeout(patience, stream.read(&mut buffer)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

fn one_second_heads(figment: figment::Figment) -> figment::Figment {
    figment.merge(("server.header_read_timeout_secs", 1))
}

async fn a_request_head_sent_too_slowly_or_never_closes_the_connection(app: TestApp) {
    let mut trickling = connect(&app).await;
    trickling
        .write_all(b"GET /api/v1/events HTTP/1.1\r\nHost: warren\r\nUpgrade: we")
        .await
        .expect("write");
    let mut silent = connect(&app).await;

    for stream in [&mut trickling, &mut silent] {
        let closed = closed_within(stream, Duration::from_secs(5)).await;
        assert!(closed.is_some_and(|after| after < Duration::from_secs(3)), "{closed:?}");
    }
    let health = app.client.get(app.url("/api/health")).send().await.expect("request");
    assert_eq!(health.status(), StatusCode::OK, "the server itself is unaffected");
}
database_free!(a_request_head_sent_too_slowly_or_never_closes_the_connection, one_second_heads);

fn three_per_client(figment: figment::Figment) -> figment::Figment {
    figment.merge(("server.max_connections_per_client", 3))
}

async fn one_client_cannot_hold_more_connections_than_its_share(app: TestApp) {
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut stream = connect(&app).await;
        stream.write_all(b"GET /api/health HTTP/1.1\r\nHost: warren\r\n\r\n").await.expect("write");
        let mut answer = [0u8; 12];
        stream.read_exact(&mut answer).await.expect("an answer");
        assert_eq!(&answer, b"HTTP/1.1 200");
        held.push(stream);
    }

    let mut fourth = connect(&app).await;
    let closed = closed_within(&mut fourth, Duration::from_secs(2)).await;
    assert!(closed.is_some(), "a fourth connection from the same client is closed at once");

    held.pop();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut again = connect(&app).await;
    again.write_all(b"GET /api/health HTTP/1.1\r\nHost: warren\r\n\r\n").await.expect("write");
    let mut answer = [0u8; 12];
    again.read_exact(&mut answer).await.expect("a freed place serves again");
    assert_eq!(&answer, b"HTTP/1.1 200");
}
database_free!(one_client_cannot_hold_more_connections_than_its_share, three_per_client);
