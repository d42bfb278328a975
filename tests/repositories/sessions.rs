//! `SessionRepository`: sessions, rotation races, expiry, revocation.

use time::{Duration, OffsetDateTime};
use warren::domain::{Amr, SessionId, UserId};
use warren::repositories::{RepoError, Rotation};

use crate::{TestDatabase, contract, new_session, token, token_hash};

async fn a_session_for_a_deleted_user_is_gone(t: TestDatabase) {
    let user = t.user().await;
    let repos = t.db.repositories();
    assert!(repos.users.delete(user.id).await.expect("delete"));
    let now = OffsetDateTime::now_utc();

    let session = new_session(SessionId::generate(), user.id, now + Duration::days(1));
    let created = repos.sessions.create(session, token(token_hash(), now, Duration::days(1))).await;

    assert!(matches!(created, Err(RepoError::Gone)), "{created:?}");
}
contract!(a_session_for_a_deleted_user_is_gone);

async fn a_token_rotates_once_and_reports_its_session_and_user(t: TestDatabase) {
    let user = t.user().await;
    let root = token_hash();
    let session = t.session(user.id, root).await;
    let sessions = &t.db.repositories().sessions;
    let now = OffsetDateTime::now_utc();

    let first = sessions.rotate(&root, token(token_hash(), now, Duration::days(1))).await;
    let second = sessions.rotate(&root, token(token_hash(), now, Duration::days(1))).await;

    assert_eq!(
        first.expect("rotate"),
        Rotation::Rotated { session_id: session, user_id: user.id, amr: Amr::Password }
    );
    assert_eq!(second.expect("rotate"), Rotation::Refused);
    let state = sessions.find_refresh_token(&root).await.expect("read").expect("known");
    assert!(state.rotated_at.is_some());
}
contract!(a_token_rotates_once_and_reports_its_session_and_user);

async fn of_many_concurrent_rotations_of_one_token_exactly_one_wins(t: TestDatabase) {
    let user = t.user().await;
    let root = token_hash();
    t.session(user.id, root).await;
    let sessions = &t.db.repositories().sessions;
    let now = OffsetDateTime::now_utc();

    let racers =
        (0..8).map(|_| sessions.rotate(&root, token(token_hash(), now, Duration::days(1))));
    let outcomes = futures_util::future::join_all(racers).await;

    let rotated = outcomes.iter().filter(|o| matches!(o, Ok(Rotation::Rotated { .. }))).count();
    let refused = outcomes.iter().filter(|o| matches!(o, Ok(Rotation::Refused))).count();
    assert_eq!((rotated, refused), (1, 7), "{outcomes:?}");
}
contract!(of_many_concurrent_rotations_of_one_token_exactly_one_wins);

async fn expired_tokens_and_revoked_sessions_do_not_rotate(t: TestDatabase) {
    let user = t.user().await;
    let (root, revoked_root) = (token_hash(), token_hash());
    t.session(user.id, root).await;
    let revoked = t.session(user.id, revoked_root).await;
    let sessions = &t.db.repositories().sessions;
    let now = OffsetDateTime::now_utc();
    assert!(sessions.revoke(revoked, now).await.expect("revoke"));

    let idle_expired = now + Duration::days(15);
    let expired =
        sessions.rotate(&root, token(token_hash(), idle_expired, Duration::days(1))).await;
    let of_revoked =
        sessions.rotate(&revoked_root, token(token_hash(), now, Duration::days(1))).await;
    let unknown = sessions.rotate(&token_hash(), token(token_hash(), now, Duration::days(1))).await;

    assert_eq!(expired.expect("rotate"), Rotation::Refused);
    assert_eq!(of_revoked.expect("rotate"), Rotation::Refused);
    assert_eq!(unknown.expect("rotate"), Rotation::Refused);
}
contract!(expired_tokens_and_revoked_sessions_do_not_rotate);

async fn revoking_twice_reports_that_nothing_changed(t: TestDatabase) {
    let user = t.user().await;
    let session = t.session(user.id, token_hash()).await;
    let sessions = &t.db.repositories().sessions;
    let now = OffsetDateTime::now_utc();

    assert!(sessions.revoke(session, now).await.expect("revoke"));
    assert!(!sessions.revoke(session, now).await.expect("revoke again"));
    assert!(!sessions.revoke(SessionId::generate(), now).await.expect("revoke unknown"));
}
contract!(revoking_twice_reports_that_nothing_changed);

async fn the_live_list_hides_revoked_expired_and_idle_sessions(t: TestDatabase) {
    let user = t.user().await;
    let live = t.session(user.id, token_hash()).await;
    let revoked = t.session(user.id, token_hash()).await;
    let repos = t.db.repositories();
    let now = OffsetDateTime::now_utc();
    let short = SessionId::generate();
    let expiring = new_session(short, user.id, now + Duration::minutes(5));
    repos
        .sessions
        .create(expiring, token(token_hash(), now, Duration::minutes(5)))
        .await
        .expect("create");
    let idle = SessionId::generate();
    let idle_session = new_session(idle, user.id, now + Duration::days(30));
    repos
        .sessions
        .create(idle_session, token(token_hash(), now, Duration::minutes(5)))
        .await
        .expect("create");
    repos.sessions.revoke(revoked, now).await.expect("revoke");

    let now_listed = repos.sessions.list_live(user.id, now).await.expect("list");
    let later_listed =
        repos.sessions.list_live(user.id, now + Duration::minutes(6)).await.expect("list");

    let ids =
        |list: Vec<warren::domain::Session>| list.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(ids(now_listed), vec![live, short, idle]);
    assert_eq!(ids(later_listed), vec![live], "past the absolute expiry, or its token idle");
    assert!(repos.sessions.list_live(UserId::generate(), now).await.expect("list").is_empty());
}
contract!(the_live_list_hides_revoked_expired_and_idle_sessions);

async fn signing_out_everywhere_revokes_all_and_bumps_the_version_together(t: TestDatabase) {
    let user = t.user().await;
    t.session(user.id, token_hash()).await;
    t.session(user.id, token_hash()).await;
    let repos = t.db.repositories();
    let now = OffsetDateTime::now_utc();

    let revoked = repos.sessions.revoke_all(user.id, now).await.expect("revoke all");

    assert_eq!(revoked, 2);
    assert!(repos.sessions.list_live(user.id, now).await.expect("list").is_empty());
    let after = repos.users.find_by_id(user.id).await.expect("read").expect("user");
    assert_eq!(after.token_version, user.token_version + 1);
}
contract!(signing_out_everywhere_revokes_all_and_bumps_the_version_together);

async fn audit_events_are_listed_per_user_oldest_first(t: TestDatabase) {
    use warren::domain::{AuthEvent, AuthEventKind};
    let user = t.user().await;
    let audit = &t.db.repositories().audit;
    let event = |kind| AuthEvent {
        kind,
        user_id: Some(user.id),
        session_id: None,
        ip: Some("192.0.2.1".to_owned()),
        request_id: Some("req-1".to_owned()),
        occurred_at: OffsetDateTime::now_utc(),
        client_id: None,
    };

    audit.record(&event(AuthEventKind::Signup)).await.expect("record");
    audit.record(&event(AuthEventKind::SigninSuccess)).await.expect("record");

    let kinds: Vec<_> =
        audit.for_user(user.id).await.expect("list").into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![AuthEventKind::Signup, AuthEventKind::SigninSuccess]);
    assert!(audit.for_user(UserId::generate()).await.expect("list").is_empty());
}
contract!(audit_events_are_listed_per_user_oldest_first);

/// The authentication read runs on connections kept between requests (no ping on their way
/// back): none of them may go on answering from before a revocation committed.
async fn the_authentication_read_sees_a_revocation_at_once_on_every_connection(t: TestDatabase) {
    let user = t.user().await;
    let session = t.session(user.id, token_hash()).await;
    let users = &t.db.repositories().users;
    let read_all = || {
        futures_util::future::join_all((0..8).map(|_| users.find_with_session(user.id, session)))
    };
    for read in read_all().await {
        let (_, liveness) = read.expect("read").expect("found");
        assert!(!liveness.revoked);
    }

    let revoked = t.db.repositories().sessions.revoke(session, OffsetDateTime::now_utc()).await;

    assert!(revoked.expect("revoke"));
    for read in read_all().await {
        let (_, liveness) = read.expect("read").expect("found");
        assert!(liveness.revoked, "a connection answered from before the revocation");
    }
}
contract!(the_authentication_read_sees_a_revocation_at_once_on_every_connection);

/// Concurrent authentication reads are answered together by one query: each must still get
/// the answer for its own user and session, whatever else shares its batch.
async fn concurrent_authentication_reads_each_get_their_own_answer(t: TestDatabase) {
    let (ada, grace) = (t.user().await, t.user().await);
    let ada_session = t.session(ada.id, token_hash()).await;
    let grace_session = t.session(grace.id, token_hash()).await;
    let revoked = t.session(grace.id, token_hash()).await;
    let repos = t.db.repositories();
    assert!(repos.sessions.revoke(revoked, OffsetDateTime::now_utc()).await.expect("revoke"));
    // (user, session, expected: None = no match, Some(revoked?))
    let cases = [
        (ada.id, ada_session, Some(false)),
        (grace.id, grace_session, Some(false)),
        (grace.id, revoked, Some(true)),
        (ada.id, grace_session, None), // someone else's session
        (grace.id, SessionId::generate(), None),
        (UserId::generate(), ada_session, None),
    ];

    let reads = (0..200).map(|n| {
        let (user, session, expected) = cases[n % cases.len()];
        async move { (user, expected, repos.users.find_with_session(user, session).await) }
    });
    let outcomes = futures_util::future::join_all(reads).await;

    for (user, expected, outcome) in outcomes {
        let found = outcome.expect("read");
        assert_eq!(found.as_ref().map(|(_, liveness)| liveness.revoked), expected);
        if let Some((found, _)) = found {
            assert_eq!(found.id, user, "the answer of another lookup in the batch");
        }
    }
}
contract!(concurrent_authentication_reads_each_get_their_own_answer);
