//! `AvatarRepository`: replacing, removing and finding, and the avatar going with its user.

use time::OffsetDateTime;
use warren::domain::UserId;
use warren::repositories::{NewAvatar, StoredAvatar};

use crate::{TestDatabase, contract};

fn avatar(name: &str, bytes: &[u8]) -> NewAvatar {
    NewAvatar {
        name: name.to_owned(),
        content_type: "image/png".to_owned(),
        etag: format!("\"{name}\""),
        bytes: bytes.to_vec(),
    }
}

async fn a_replaced_avatar_is_found_by_its_new_name_only(t: TestDatabase) {
    let user = t.user().await;
    let avatars = &t.db.repositories().avatars;
    let now = OffsetDateTime::now_utc();

    let first = avatars.replace(user.id, avatar("first", b"one"), now).await.expect("replace");
    assert_eq!(first.expect("user").avatar_name.as_deref(), Some("first"));
    let second = avatars.replace(user.id, avatar("second", b"two"), now).await.expect("replace");

    assert_eq!(second.expect("user").avatar_name.as_deref(), Some("second"));
    assert!(avatars.find("first").await.expect("find").is_none());
    let StoredAvatar { content_type, etag, bytes } =
        avatars.find("second").await.expect("find").expect("stored");
    assert_eq!(
        (content_type.as_str(), etag.as_str(), bytes.as_slice()),
        ("image/png", "\"second\"", &b"two"[..])
    );
    let stored = t.db.repositories().users.find_by_id(user.id).await.expect("user");
    assert_eq!(stored.expect("user").avatar_name.as_deref(), Some("second"));
}
contract!(a_replaced_avatar_is_found_by_its_new_name_only);

async fn a_removed_avatar_is_gone_and_the_user_points_nowhere(t: TestDatabase) {
    let user = t.user().await;
    let avatars = &t.db.repositories().avatars;
    let now = OffsetDateTime::now_utc();
    avatars.replace(user.id, avatar("gone", b"x"), now).await.expect("replace").expect("user");

    let removed = avatars.remove(user.id, now).await.expect("remove").expect("user");

    assert_eq!(removed.avatar_name, None);
    assert!(avatars.find("gone").await.expect("find").is_none());
}
contract!(a_removed_avatar_is_gone_and_the_user_points_nowhere);

async fn an_avatar_for_a_missing_user_is_refused_without_a_row(t: TestDatabase) {
    let avatars = &t.db.repositories().avatars;
    let now = OffsetDateTime::now_utc();

    let stored = avatars.replace(UserId::generate(), avatar("orphan", b"x"), now).await;

    assert!(stored.expect("no error").is_none());
    assert!(avatars.find("orphan").await.expect("find").is_none());
    assert!(avatars.remove(UserId::generate(), now).await.expect("remove").is_none());
}
contract!(an_avatar_for_a_missing_user_is_refused_without_a_row);

async fn deleting_the_user_deletes_their_avatar(t: TestDatabase) {
    let user = t.user().await;
    let repos = t.db.repositories();
    let now = OffsetDateTime::now_utc();
    repos
        .avatars
        .replace(user.id, avatar("theirs", b"x"), now)
        .await
        .expect("replace")
        .expect("user");

    assert!(repos.users.delete(user.id).await.expect("delete"));

    assert!(repos.avatars.find("theirs").await.expect("find").is_none());
}
contract!(deleting_the_user_deletes_their_avatar);
