//! Data retention: what a pruning pass deletes (and what it must keep), run through the same
//! `Pruner` every instance runs in the background, and `warren prune` on a live database.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::Duration;
use warren::repositories::Backend as Storage;
use warren::services::{PassOutcome, PruneTally, Pruner};

use crate::admin_cli::{stderr, stdout, warren_with};
use crate::helpers::{TestApp, TestUser, both_backends};

/// Every retention at 0: rows go as soon as they qualify.
fn keep_nothing(figment: figment::Figment) -> figment::Figment {
    figment
        .merge(("retention.sessions_days", 0))
        .merge(("retention.outbox_days", 0))
        .merge(("retention.audit_days", 0))
        .merge(("retention.ip_days", 0))
}

/// Keeps audit events (their addresses still go), so the erasure can be seen.
fn keep_audit_events(figment: figment::Figment) -> figment::Figment {
    keep_nothing(figment).merge(("retention.audit_days", 365))
}

pub(crate) async fn count(app: &TestApp, sql: &'static str) -> i64 {
    let counted = match app.database.backend() {
        Storage::Sqlite(pools) => sqlx::query_scalar(sql).fetch_one(&pools.read).await,
        Storage::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    };
    counted.expect("count rows")
}

async fn prune(app: &TestApp) -> PruneTally {
    let retention = Arc::clone(&app.database.repositories().retention);
    let pruner = Pruner::new(retention, Arc::new(app.clock.clone()), &app.settings);
    match pruner.pass(|_| {}).await.expect("a pass runs") {
        PassOutcome::Pruned(tally) => tally,
        PassOutcome::Busy => panic!("nobody else prunes this database"),
    }
}

fn field<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name].as_str().unwrap_or_else(|| panic!("{name} in {body}"))
}

async fn signed_up(app: &TestApp) -> TestUser {
    let user = TestUser::generate();
    assert_eq!(app.signup(&user).await.status(), StatusCode::CREATED);
    user
}

async fn refreshed(app: &TestApp, token: &str) -> Value {
    let response = app.refresh(token).await;
    assert_eq!(response.status(), StatusCode::OK, "refresh");
    response.json().await.expect("json")
}

/// Waits for the dispatcher to deliver every queued message (the file transport, in tests).
async fn outbox_delivered(app: &TestApp) {
    for _ in 0..100 {
        let pending = "SELECT count(*) FROM email_outbox WHERE status <> 'sent'";
        if count(app, pending).await == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the outbox was not delivered");
}

async fn a_pass_removes_ended_sessions_but_keeps_live_ones_and_their_reuse_detection(app: TestApp) {
    let user = signed_up(&app).await;
    let live = app.signin_body(&user, "live").await;
    let ended = app.signin_body(&user, "ended").await;
    let rotated = field(&live, "refresh_token").to_owned();
    let current = refreshed(&app, &rotated).await;
    let signout = json!({"refresh_token": field(&ended, "refresh_token")});
    let signed_out = app.post_json("/api/v1/auth/signout", &signout).await;
    assert_eq!(signed_out.status(), StatusCode::NO_CONTENT);
    app.clock.advance(Duration::seconds(61)); // past the reuse grace and the resend interval
    assert_eq!(count(&app, "SELECT count(*) FROM sessions").await, 2);
    assert_eq!(count(&app, "SELECT count(*) FROM refresh_tokens").await, 3);

    let tally = prune(&app).await;

    assert_eq!(tally.get("sessions"), 1, "{tally}");
    assert_eq!(count(&app, "SELECT count(*) FROM sessions").await, 1, "the live one stays");
    assert_eq!(count(&app, "SELECT count(*) FROM refresh_tokens").await, 2, "rotated one stays");
    let reused = app.refresh(&rotated).await;
    assert_eq!(reused.status(), StatusCode::UNAUTHORIZED, "reuse of the rotated token");
    let after_reuse = app.refresh(field(&current, "refresh_token")).await;
    assert_eq!(after_reuse.status(), StatusCode::UNAUTHORIZED, "its family was revoked");
}
both_backends!(
    a_pass_removes_ended_sessions_but_keeps_live_ones_and_their_reuse_detection,
    keep_nothing
);

async fn a_pass_erases_audit_addresses_and_deletes_delivered_mail(app: TestApp) {
    let user = signed_up(&app).await;
    app.signin_body(&user, "here").await;
    outbox_delivered(&app).await;
    app.clock.advance(Duration::seconds(61)); // past the resend interval, which needs the rows
    let with_ip = "SELECT count(*) FROM auth_events WHERE ip IS NOT NULL";
    assert!(count(&app, with_ip).await > 0, "signin events carry the client's address");
    assert!(count(&app, "SELECT count(*) FROM email_outbox").await > 0, "a verification mail");

    let tally = prune(&app).await;

    assert_eq!(count(&app, with_ip).await, 0, "{tally}");
    assert!(count(&app, "SELECT count(*) FROM auth_events").await > 0, "the events stay");
    assert_eq!(count(&app, "SELECT count(*) FROM email_outbox").await, 0, "{tally}");
    assert!(tally.get("auth_events.ip") > 0 && tally.get("email_outbox") > 0, "{tally}");
}
both_backends!(a_pass_erases_audit_addresses_and_deletes_delivered_mail, keep_audit_events);

async fn mail_inside_the_resend_interval_stays_so_the_interval_still_holds(app: TestApp) {
    signed_up(&app).await;
    outbox_delivered(&app).await;

    prune(&app).await;

    assert_eq!(count(&app, "SELECT count(*) FROM email_outbox").await, 1);
}
both_backends!(mail_inside_the_resend_interval_stays_so_the_interval_still_holds, keep_nothing);

async fn warren_prune_prints_one_summary_line_per_pass(app: TestApp) {
    let user = signed_up(&app).await;
    let body = app.signin_body(&user, "gone soon").await;
    let signout = json!({"refresh_token": field(&body, "refresh_token")});
    app.post_json("/api/v1/auth/signout", &signout).await;

    let output = warren_with(&app, &["prune"], &[("WARREN_RETENTION__SESSIONS_DAYS", "0")]).await;

    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let printed = stdout(&output);
    assert_eq!(printed.lines().count(), 1, "not a terminal: one line: {printed}");
    assert!(printed.starts_with("pruned "), "{printed}");
    assert!(printed.contains(" sessions=1 "), "the signed-out session: {printed}");
    assert!(printed.contains(" auth_events.ip="), "{printed}");
    assert_eq!(count(&app, "SELECT count(*) FROM sessions").await, 0);
}
both_backends!(warren_prune_prints_one_summary_line_per_pass, keep_nothing);
