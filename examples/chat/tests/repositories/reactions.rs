//! `ReactionRepository`: idempotent adds and removes, and the counts history shows.

use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use warren_chat::domain::Emoji;
use warren_chat::repositories::{ReactionCount, RepoError};

use crate::{TestDatabase, contract};

fn emoji(raw: &str) -> Emoji {
    Emoji::parse(raw).expect("an emoji")
}

async fn adding_twice_counts_once_and_removing_twice_removes_once(t: TestDatabase) {
    let ada = Uuid::now_v7();
    let room = t.room("Burrow", ada, OffsetDateTime::now_utc()).await;
    let message = t.message(room, ada, b"hello").await.id;
    let (reactions, thumbs, now) = (&t.repos.reactions, emoji("👍"), OffsetDateTime::now_utc());

    assert!(reactions.add(message, ada, &thumbs, now).await.expect("add"), "first add");
    assert!(!reactions.add(message, ada, &thumbs, now).await.expect("add"), "second add");
    let counts = reactions.counts_between(room, message, message, ada).await.expect("counts");
    assert_eq!(counts.len(), 1, "{counts:?}");
    assert_eq!(counts[0].count, 1);

    assert!(reactions.remove(message, ada, &thumbs).await.expect("remove"), "first remove");
    assert!(!reactions.remove(message, ada, &thumbs).await.expect("remove"), "second remove");
    let counts = reactions.counts_between(room, message, message, ada).await.expect("counts");
    assert_eq!(counts, []);
}
contract!(adding_twice_counts_once_and_removing_twice_removes_once);

async fn counts_are_per_message_and_emoji_in_first_use_order_marking_the_viewers(t: TestDatabase) {
    let (ada, bob) = (Uuid::now_v7(), Uuid::now_v7());
    let room = t.room("Burrow", ada, OffsetDateTime::now_utc()).await;
    let (first, second) =
        (t.message(room, ada, b"1").await.id, t.message(room, ada, b"2").await.id);
    let after = t.message(room, ada, b"3").await.id;
    let start = OffsetDateTime::now_utc();
    let at = |seconds| start + Duration::seconds(seconds);
    let reactions = &t.repos.reactions;
    // By code point ❤️ comes before 👍; 👍 was used first on the message, and first use decides.
    for (message, user, raw, seconds) in [
        (first, bob, "👍", 0),
        (first, ada, "❤️", 1),
        (first, ada, "👍", 2),
        (second, bob, "🎉", 3),
        (after, bob, "🎉", 4),
    ] {
        assert!(reactions.add(message, user, &emoji(raw), at(seconds)).await.expect("add"));
    }

    let counts = reactions.counts_between(room, first, second, ada).await.expect("counts");

    let count = |message, raw: &str, count, mine| ReactionCount {
        message_id: message,
        emoji: emoji(raw),
        count,
        mine,
    };
    assert_eq!(
        counts,
        [count(first, "👍", 2, true), count(first, "❤️", 1, true), count(second, "🎉", 1, false)]
    );
}
contract!(counts_are_per_message_and_emoji_in_first_use_order_marking_the_viewers);

async fn a_stored_emoji_that_no_longer_parses_is_reported_corrupt(t: TestDatabase) {
    let ada = Uuid::now_v7();
    let room = t.room("Burrow", ada, OffsetDateTime::now_utc()).await;
    let message = t.message(room, ada, b"hello").await.id;
    let now = OffsetDateTime::now_utc();
    assert!(t.repos.reactions.add(message, ada, &emoji("👍"), now).await.expect("add"));
    t.execute("UPDATE reactions SET emoji = 'thumbs up'").await;

    let counts = t.repos.reactions.counts_between(room, message, message, ada).await;

    assert!(matches!(counts, Err(RepoError::Corrupt(_))), "{counts:?}");
}
contract!(a_stored_emoji_that_no_longer_parses_is_reported_corrupt);
