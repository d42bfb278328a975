//! `RoomRepository`: the seeded rooms, creation, listing order and stored times.

use time::macros::datetime;
use uuid::Uuid;
use warren_chat::repositories::{RepoError, RoomRecord, StoredTime};

use crate::{SEEDED_ROOMS, TestDatabase, contract};

fn names(rooms: &[RoomRecord]) -> Vec<&str> {
    rooms.iter().map(|room| room.name.as_str()).collect()
}

async fn a_fresh_database_lists_the_seeded_rooms_then_new_ones_in_creation_order(t: TestDatabase) {
    let viewer = Uuid::now_v7();
    let created = t.room("Burrow", viewer, datetime!(2026-12-07 13:27:05 UTC)).await;

    let rooms = t.repos.rooms.list(viewer).await.expect("list");

    assert_eq!(names(&rooms), [SEEDED_ROOMS.as_slice(), &["Burrow"]].concat());
    assert!(rooms[..3].iter().all(|r| r.member_count == 0 && r.unread_count == 0), "{rooms:?}");
    assert_eq!(rooms[3].id, created);
}
contract!(a_fresh_database_lists_the_seeded_rooms_then_new_ones_in_creation_order);

async fn a_new_room_has_its_creator_as_only_member_and_a_whole_microsecond_time(t: TestDatabase) {
    let creator = Uuid::now_v7();
    let at = datetime!(2026-12-07 15:27:11.038_673_844 +02:00);

    let room = t.room("  Burrow  ", creator, at).await;

    let found = t.repos.rooms.find(room, creator).await.expect("find").expect("created");
    assert_eq!(found.name.as_str(), "Burrow");
    assert_eq!(found.created_at, datetime!(2026-12-07 13:27:11.038_673 UTC));
    assert_eq!(found.created_at, StoredTime::new(at).get());
    assert_eq!((found.member_count, found.unread_count), (1, 0));
    assert!(t.repos.members.is_member(room, creator).await.expect("is member"));
}
contract!(a_new_room_has_its_creator_as_only_member_and_a_whole_microsecond_time);

async fn rooms_created_within_one_second_are_listed_by_time_not_by_id(t: TestDatabase) {
    let creator = Uuid::now_v7();
    // The later room gets the smaller id, so only the times can order them; as text with
    // trailing zeros dropped, `…05.12Z` would sort after `…05.123Z`.
    let (later, earlier) = (Uuid::now_v7(), Uuid::now_v7());
    for (id, name, at) in [
        (earlier, "Earlier", datetime!(2026-12-07 13:27:05.12 UTC)),
        (later, "Later", datetime!(2026-12-07 13:27:05.123 UTC)),
    ] {
        let name = warren_chat::domain::RoomName::parse(name).expect("valid");
        t.repos.rooms.create(id, &name, creator, at).await.expect("create");
    }

    let rooms = t.repos.rooms.list(creator).await.expect("list");

    assert_eq!(names(&rooms)[3..], ["Earlier", "Later"]);
}
contract!(rooms_created_within_one_second_are_listed_by_time_not_by_id);

async fn an_unknown_room_is_not_found(t: TestDatabase) {
    let found = t.repos.rooms.find(Uuid::now_v7(), Uuid::now_v7()).await.expect("find");

    assert_eq!(found, None);
}
contract!(an_unknown_room_is_not_found);

async fn a_stored_room_name_that_no_longer_parses_is_reported_corrupt(t: TestDatabase) {
    t.execute("UPDATE rooms SET name = '   ' WHERE name = 'Random'").await;

    let listed = t.repos.rooms.list(Uuid::now_v7()).await;

    assert!(matches!(listed, Err(RepoError::Corrupt(_))), "{listed:?}");
}
contract!(a_stored_room_name_that_no_longer_parses_is_reported_corrupt);
