//! `MemberRepository`: joining, leaving, and read markers as the unread counts show them.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::{TestDatabase, contract};

async fn joining_twice_adds_once_and_leaving_twice_removes_once(t: TestDatabase) {
    let (ada, bob) = (Uuid::now_v7(), Uuid::now_v7());
    let room = t.room("Burrow", ada, OffsetDateTime::now_utc()).await;
    let members = &t.repos.members;
    let now = OffsetDateTime::now_utc();

    assert!(!members.is_member(room, bob).await.expect("is member"));
    assert!(members.join(room, bob, now).await.expect("join"), "first join adds");
    assert!(!members.join(room, bob, now).await.expect("join"), "second join changes nothing");
    assert!(members.is_member(room, bob).await.expect("is member"));
    let found = t.repos.rooms.find(room, bob).await.expect("find").expect("room");
    assert_eq!(found.member_count, 2);

    assert!(members.leave(room, bob).await.expect("leave"), "first leave removes");
    assert!(!members.leave(room, bob).await.expect("leave"), "second leave changes nothing");
    assert!(!members.is_member(room, bob).await.expect("is member"));
    assert!(members.is_member(room, ada).await.expect("is member"), "others stay");
}
contract!(joining_twice_adds_once_and_leaving_twice_removes_once);

/// The room's unread count for `viewer`, by both the single and the listing statement.
async fn unread(t: &TestDatabase, room: Uuid, viewer: Uuid) -> i64 {
    let found = t.repos.rooms.find(room, viewer).await.expect("find").expect("room");
    let listed = t.repos.rooms.list(viewer).await.expect("list");
    let listed = listed.iter().find(|r| r.id == room).expect("listed");
    assert_eq!(found.unread_count, listed.unread_count, "both statements agree");
    found.unread_count
}

async fn unread_counts_messages_by_others_after_the_marker_for_members_only(t: TestDatabase) {
    let (ada, bob, carol) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let room = t.room("Burrow", ada, OffsetDateTime::now_utc()).await;
    assert!(t.repos.members.join(room, bob, OffsetDateTime::now_utc()).await.expect("join"));
    let first = t.message(room, ada, b"one").await;
    let second = t.message(room, ada, b"two").await;
    t.message(room, bob, b"three").await;

    assert_eq!(unread(&t, room, bob).await, 2, "his own message is not unread");
    assert_eq!(unread(&t, room, ada).await, 1);
    assert_eq!(unread(&t, room, carol).await, 0, "not a member");

    t.repos.members.mark_read(room, bob, first.id).await.expect("mark read");
    assert_eq!(unread(&t, room, bob).await, 1);
    t.repos.members.mark_read(room, bob, second.id).await.expect("mark read");
    assert_eq!(unread(&t, room, bob).await, 0);
    t.repos.members.mark_read(room, bob, first.id).await.expect("mark read");
    assert_eq!(unread(&t, room, bob).await, 0, "the marker never moves backwards");
}
contract!(unread_counts_messages_by_others_after_the_marker_for_members_only);
