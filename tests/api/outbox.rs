//! The outbox's guarantees: nothing is lost when a dispatcher dies holding a claim, and several
//! instances on one Postgres deliver each message exactly once.

use std::collections::HashMap;
use std::time::Duration;

use time::OffsetDateTime;
use warren::domain::OutgoingMail;
use warren::repositories::Database;
use warren::startup::Application;

use crate::helpers::{Backend, TestApp, both_backends};
use crate::mail_sink::{deliver_to, deliver_to_sink};

fn message_to(recipient: &str) -> OutgoingMail {
    OutgoingMail {
        kind: "outbox_test",
        recipient: Some(recipient.to_owned()),
        quiet_since: None,
        subject: format!("for {recipient}"),
        text: "hello".to_owned(),
        html: "<p>hello</p>".to_owned(),
    }
}

async fn open_database(app: &TestApp) -> Database {
    let settings = &app.settings;
    Database::connect(&settings.database_url(), &settings.database, &settings.data_dir)
        .await
        .expect("a second connection to the test database")
}

/// A dispatcher that claimed a message and was killed before settling it: the message goes
/// out after the claim's lease runs out, once.
async fn a_message_claimed_by_a_killed_dispatcher_is_delivered_after_its_lease(mut app: TestApp) {
    let sink = deliver_to_sink(&mut app).await;
    app.stop().await;
    let database = open_database(&app).await;
    let outbox = &database.repositories().email;
    let now = OffsetDateTime::now_utc();
    outbox.queue(message_to("orphan@example.com"), now).await.expect("queue");
    let claimed = outbox.claim(now, now + time::Duration::seconds(60), 16).await.expect("claim");
    assert_eq!(claimed.len(), 1, "the dying dispatcher held the message");
    database.close().await;

    deliver_to(&mut app, &sink.url()).await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert!(sink.to("orphan@example.com").is_empty(), "the lease still holds");
    app.clock.advance(time::Duration::seconds(61));
    sink.wait_for("orphan@example.com", 1).await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(sink.to("orphan@example.com").len(), 1, "delivered once");
}
both_backends!(a_message_claimed_by_a_killed_dispatcher_is_delivered_after_its_lease);

#[tokio::test]
async fn two_instances_on_one_postgres_deliver_each_of_200_messages_exactly_once() {
    let mut app = TestApp::spawn(Backend::Postgres).await;
    let sink = deliver_to_sink(&mut app).await;
    let mut second = app.settings.clone();
    second.server.port = 0;
    let other = Application::build(&second).await.expect("a second instance");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let other = tokio::spawn(other.run_until(async {
        let _ = stopped.await;
    }));

    let outbox = &app.database.repositories().email;
    let recipients: Vec<String> = (0..200).map(|i| format!("bulk-{i}@example.com")).collect();
    for recipient in &recipients {
        outbox.queue(message_to(recipient), OffsetDateTime::now_utc()).await.expect("queue");
    }
    for _ in 0..300 {
        if sink.received().len() >= 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = stop.send(());
    other.await.expect("second instance task").expect("second instance stopped cleanly");

    let mut counts: HashMap<String, usize> = HashMap::new();
    for message in sink.received() {
        for recipient in message.recipients {
            *counts.entry(recipient).or_default() += 1;
        }
    }
    assert_eq!(counts.len(), 200, "every message arrived");
    assert!(counts.values().all(|&n| n == 1), "each exactly once: {counts:?}");
}
