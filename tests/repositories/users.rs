//! `UserRepository`: inserts, lookups, changes, deletion.

use time::OffsetDateTime;
use warren::domain::{FullName, StoredHash, UserId};
use warren::repositories::{PasswordChange, RepoError, UserChanges};

use crate::{TestDatabase, contract, new_user, token_hash};

async fn an_inserted_user_is_found_by_id_and_by_email(t: TestDatabase) {
    let users = &t.db.repositories().users;
    let record = new_user("Found@Example.com");
    let id = record.id;
    let inserted = users.insert(record).await.expect("insert");

    assert_eq!(users.find_by_id(id).await.expect("by id"), Some(inserted.clone()));
    let credentials = users.find_credentials_by_email(&inserted.email).await.expect("by email");
    assert_eq!(credentials.expect("found").user, inserted);
    assert!(users.find_by_id(UserId::generate()).await.expect("lookup").is_none());
}
contract!(an_inserted_user_is_found_by_id_and_by_email);

async fn a_second_user_with_the_same_email_is_a_conflict(t: TestDatabase) {
    let users = &t.db.repositories().users;
    users.insert(new_user("twice@example.com")).await.expect("first insert");

    let second = users.insert(new_user("TWICE@example.com")).await;

    assert!(matches!(second, Err(RepoError::Conflict)), "{second:?}");
}
contract!(a_second_user_with_the_same_email_is_a_conflict);

async fn a_password_change_bumps_the_version_and_revokes_every_other_session(t: TestDatabase) {
    let user = t.user().await;
    let kept = t.session(user.id, token_hash()).await;
    let other = t.session(user.id, token_hash()).await;
    let repos = t.db.repositories();
    let now = OffsetDateTime::now_utc();
    let password =
        PasswordChange { hash: StoredHash::new("new".to_owned()), keep_session: Some(kept) };
    let change = UserChanges { password: Some(password), ..UserChanges::default() };

    let updated = repos.users.update(user.id, change, now).await.expect("update").expect("user");

    assert_eq!(updated.token_version, user.token_version + 1);
    let live: Vec<_> = repos
        .sessions
        .list_live(user.id, now)
        .await
        .expect("list")
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(live, vec![kept]);
    assert!(!live.contains(&other));
    let credentials =
        repos.users.find_credentials_by_id(user.id).await.expect("read").expect("user");
    assert_eq!(credentials.password_hash.as_str(), "new");
}
contract!(a_password_change_bumps_the_version_and_revokes_every_other_session);

async fn a_name_change_leaves_version_and_sessions_alone(t: TestDatabase) {
    let user = t.user().await;
    t.session(user.id, token_hash()).await;
    let repos = t.db.repositories();
    let now = OffsetDateTime::now_utc();
    let name = FullName::parse("Ada Lovelace").expect("name");
    let change = UserChanges { full_name: Some(Some(name.clone())), ..UserChanges::default() };

    let updated = repos.users.update(user.id, change, now).await.expect("update").expect("user");

    assert_eq!(updated.full_name, Some(name));
    assert_eq!(updated.token_version, user.token_version);
    assert_eq!(repos.sessions.list_live(user.id, now).await.expect("list").len(), 1);
    let gone = repos.users.update(UserId::generate(), UserChanges::default(), now).await;
    assert!(gone.expect("update of nobody").is_none());
}
contract!(a_name_change_leaves_version_and_sessions_alone);

async fn changing_to_a_taken_email_is_a_conflict_and_changes_nothing(t: TestDatabase) {
    let taken = t.user().await;
    let user = t.user().await;
    let users = &t.db.repositories().users;
    let changes = UserChanges { email: Some(taken.email.clone()), ..UserChanges::default() };

    let result = users.update(user.id, changes, OffsetDateTime::now_utc()).await;

    assert!(matches!(result, Err(RepoError::Conflict)), "{result:?}");
    assert_eq!(users.find_by_id(user.id).await.expect("read"), Some(user));
}
contract!(changing_to_a_taken_email_is_a_conflict_and_changes_nothing);

async fn a_hash_upgrade_applies_only_over_the_hash_it_replaces(t: TestDatabase) {
    let user = t.user().await;
    let users = &t.db.repositories().users;
    let stale = StoredHash::new("not the stored hash".to_owned());
    let stored =
        users.find_credentials_by_id(user.id).await.expect("read").expect("user").password_hash;

    users
        .upgrade_password_hash(user.id, &stale, &StoredHash::new("a".to_owned()))
        .await
        .expect("noop");
    users
        .upgrade_password_hash(user.id, &stored, &StoredHash::new("b".to_owned()))
        .await
        .expect("upgrade");

    let now_stored = users.find_credentials_by_id(user.id).await.expect("read").expect("user");
    assert_eq!(now_stored.password_hash.as_str(), "b");
}
contract!(a_hash_upgrade_applies_only_over_the_hash_it_replaces);

async fn deactivation_is_stored_and_reported(t: TestDatabase) {
    let user = t.user().await;
    let users = &t.db.repositories().users;
    let now = OffsetDateTime::now_utc();

    let inactive = users.set_active(user.id, false, now).await.expect("update").expect("user");
    let active = users.set_active(user.id, true, now).await.expect("update").expect("user");

    assert!(!inactive.is_active);
    assert!(active.is_active);
    assert!(users.set_active(UserId::generate(), false, now).await.expect("nobody").is_none());
}
contract!(deactivation_is_stored_and_reported);

async fn deletion_removes_sessions_tokens_and_the_email_backoff(t: TestDatabase) {
    let user = t.user().await;
    let root = token_hash();
    t.session(user.id, root).await;
    let repos = t.db.repositories();
    let policy = warren::domain::BackoffPolicy::default();
    let now = OffsetDateTime::now_utc();
    for _ in 0..policy.threshold {
        repos.throttles.reserve(&user.email, now, &policy).await.expect("reserve");
    }

    assert!(repos.users.delete(user.id).await.expect("delete"));

    assert!(!repos.users.delete(user.id).await.expect("second delete"));
    assert!(repos.sessions.find_refresh_token(&root).await.expect("read").is_none());
    assert!(repos.sessions.list_live(user.id, now).await.expect("list").is_empty());
    let next_owner = repos.throttles.reserve(&user.email, now, &policy).await.expect("reserve");
    assert_eq!(next_owner, warren::repositories::Reservation::Granted);
}
contract!(deletion_removes_sessions_tokens_and_the_email_backoff);
