//! `server.metrics_addr`: Prometheus text on its own listener, with bounded route labels.

use std::net::SocketAddr;

use reqwest::StatusCode;

use crate::helpers::{TestApp, both_backends};

/// A port free a moment ago, for the metrics listener (the API's own port is 0).
fn free_local_addr() -> SocketAddr {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a probe");
    probe.local_addr().expect("probe address")
}

fn with_metrics(figment: figment::Figment) -> figment::Figment {
    figment.merge(("server.metrics_addr", free_local_addr().to_string()))
}

async fn scrape(app: &TestApp) -> String {
    let address = app.settings.server.metrics_addr.expect("metrics are on");
    let response =
        app.client.get(format!("http://{address}/metrics")).send().await.expect("scrape");
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.expect("text")
}

/// The sample lines of `series` that carry every one of `labels`.
fn samples<'a>(scrape: &'a str, series: &str, labels: &[&str]) -> Vec<&'a str> {
    scrape
        .lines()
        .filter(|line| line.starts_with(series) && labels.iter().all(|label| line.contains(label)))
        .collect()
}

async fn the_scrape_has_every_series_with_route_patterns_not_paths(app: TestApp) {
    let (_, token) = app.signed_in_user().await;
    assert_eq!(app.me(&token).await.status(), StatusCode::OK);
    assert_eq!(app.me(&token).await.status(), StatusCode::OK);
    let session = uuid::Uuid::now_v7();
    let path = format!("/api/v1/no/such/{session}");
    assert_eq!(app.get(&path).await.status(), StatusCode::NOT_FOUND);

    let text = scrape(&app).await;

    let me = [r#"method="GET""#, r#"route="/api/v1/users/me""#, r#"status="200""#];
    assert!(!samples(&text, "warren_http_requests_total{", &me).is_empty(), "{text}");
    let signup = [r#"method="POST""#, r#"route="/api/v1/auth/signup""#, r#"status="201""#];
    assert!(!samples(&text, "warren_http_requests_total{", &signup).is_empty(), "{text}");
    let bucket = [r#"route="/api/v1/users/me""#, r#"status="200""#, r#"le="0.5""#];
    assert!(!samples(&text, "warren_http_request_duration_seconds_bucket{", &bucket).is_empty());
    let unmatched = [r#"route="unmatched""#, r#"status="404""#];
    assert!(!samples(&text, "warren_http_requests_total{", &unmatched).is_empty(), "{text}");
    assert!(!text.contains(&session.to_string()), "a raw path became a label");
    for kind in ["signup", "signin_success"] {
        let label = format!(r#"kind="{kind}""#);
        assert!(!samples(&text, "warren_auth_events_total{", &[&label]).is_empty(), "{text}");
    }
    for series in [
        "warren_password_hash_queue_depth ",
        "warren_password_hash_duration_seconds_bucket{",
        "warren_db_pool_connections{state=\"in_use\"}",
        "warren_db_pool_connections{state=\"idle\"}",
        "warren_outbox_backlog ",
        "warren_outbox_failures_total ",
        "warren_password_reset_requests_dropped_total ",
        "warren_open_sockets ",
        "warren_token_cache_lookups_total{result=\"hit\"}",
        "warren_token_cache_hit_ratio ",
    ] {
        assert!(text.lines().any(|line| line.starts_with(series)), "no {series}: {text}");
    }
}
both_backends!(the_scrape_has_every_series_with_route_patterns_not_paths, with_metrics);

async fn the_api_port_does_not_serve_metrics(app: TestApp) {
    let response = app.get("/metrics").await;

    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body = response.text().await.expect("body");
    assert!(!body.contains("warren_http_requests_total"), "{body}");
}
both_backends!(the_api_port_does_not_serve_metrics, with_metrics);
