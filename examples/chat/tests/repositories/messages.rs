//! `MessageRepository`: sealed messages, their senders' names, and history pages.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::{TestDatabase, contract};

async fn a_message_reads_back_as_inserted_with_its_senders_remembered_name(t: TestDatabase) {
    let ada = Uuid::now_v7();
    let room = t.room("Burrow", ada, OffsetDateTime::now_utc()).await;
    let inserted = t.message(room, ada, b"sealed bytes").await;

    let unnamed = t.repos.messages.find(room, inserted.id).await.expect("find");
    t.repos.names.save(ada, "Ada Lovelace", OffsetDateTime::now_utc()).await.expect("save name");
    let named = t.repos.messages.find(room, inserted.id).await.expect("find").expect("stored");

    assert_eq!(unnamed.as_ref(), Some(&inserted), "every column, the time to the microsecond");
    assert_eq!(named.sender_name.as_deref(), Some("Ada Lovelace"));
}
contract!(a_message_reads_back_as_inserted_with_its_senders_remembered_name);

async fn a_message_is_found_only_in_its_own_room(t: TestDatabase) {
    let ada = Uuid::now_v7();
    let room = t.room("Burrow", ada, OffsetDateTime::now_utc()).await;
    let elsewhere = t.room("Warren", ada, OffsetDateTime::now_utc()).await;
    let message = t.message(room, ada, b"here").await;

    let found = t.repos.messages.find(elsewhere, message.id).await.expect("find");

    assert_eq!(found, None);
}
contract!(a_message_is_found_only_in_its_own_room);

async fn pages_are_newest_first_and_strictly_older_than_the_cursor(t: TestDatabase) {
    let ada = Uuid::now_v7();
    let room = t.room("Burrow", ada, OffsetDateTime::now_utc()).await;
    let elsewhere = t.room("Warren", ada, OffsetDateTime::now_utc()).await;
    let mut sent = Vec::new();
    for n in 0..5u8 {
        sent.push(t.message(room, ada, &[n]).await.id);
        t.message(elsewhere, ada, &[n]).await;
    }
    let messages = &t.repos.messages;

    let newest = messages.page_before(room, None, 3).await.expect("first page");
    let older = messages.page_before(room, Some(sent[2]), 10).await.expect("second page");
    let oldest = messages.page_before(room, Some(sent[0]), 10).await.expect("past the end");

    let ids = |page: &[warren_chat::repositories::StoredMessage]| {
        page.iter().map(|m| m.id).collect::<Vec<_>>()
    };
    assert_eq!(ids(&newest), [sent[4], sent[3], sent[2]]);
    assert_eq!(ids(&older), [sent[1], sent[0]]);
    assert!(oldest.is_empty(), "{oldest:?}");
}
contract!(pages_are_newest_first_and_strictly_older_than_the_cursor);
