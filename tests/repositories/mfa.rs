//! `MfaRepository`: enrolment states, single use of TOTP steps and recovery codes under
//! concurrency, challenges (expiry, wrong codes, single use) and what goes with the account.

use time::{Duration, OffsetDateTime};
use warren::domain::{OutgoingMail, SecretHash, User};
use warren::repositories::{MfaChange, NewChallenge, RepoError};

use crate::{TestDatabase, contract};

fn notice() -> OutgoingMail {
    OutgoingMail {
        kind: "mfa_notice",
        recipient: None,
        quiet_since: None,
        subject: "notice".to_owned(),
        text: "text".to_owned(),
        html: "<p>html</p>".to_owned(),
    }
}

fn change<'a>(user: &User, codes: &'a [SecretHash]) -> MfaChange<'a> {
    MfaChange {
        user: user.id,
        notice: notice(),
        now: OffsetDateTime::now_utc(),
        recovery_codes: codes,
    }
}

fn codes() -> Vec<SecretHash> {
    (0..10).map(|i| SecretHash::of(&format!("code-{i}-{}", uuid::Uuid::now_v7()))).collect()
}

/// A user with MFA on (confirmed at `step`) and the hashes of their recovery codes.
async fn enabled(t: &TestDatabase, step: i64) -> (User, Vec<SecretHash>) {
    let mfa = &t.db.repositories().mfa;
    let user = t.user().await;
    mfa.start_enrolment(user.id, b"sealed", OffsetDateTime::now_utc()).await.expect("enrol");
    let hashes = codes();
    assert!(mfa.confirm(change(&user, &hashes), step).await.expect("confirm"));
    (user, hashes)
}

async fn an_enrolment_is_pending_until_confirmed_and_then_refuses_a_second(t: TestDatabase) {
    let mfa = &t.db.repositories().mfa;
    let users = &t.db.repositories().users;
    let user = t.user().await;
    let now = OffsetDateTime::now_utc();

    mfa.start_enrolment(user.id, b"first", now).await.expect("enrol");
    mfa.start_enrolment(user.id, b"second", now).await.expect("a pending one is replaced");
    let pending = mfa.find_totp(user.id).await.expect("read").expect("pending");
    assert_eq!(pending.secret, b"second");
    assert!(pending.confirmed_at.is_none());
    assert!(!users.find_by_id(user.id).await.expect("read").expect("user").mfa_enabled);
    assert!(!mfa.use_step(user.id, 10).await.expect("use"), "a pending enrolment signs nobody in");

    let hashes = codes();
    assert!(mfa.confirm(change(&user, &hashes), 10).await.expect("confirm"));
    assert!(users.find_by_id(user.id).await.expect("read").expect("user").mfa_enabled);
    let status = mfa.status(user.id).await.expect("status");
    assert!(status.enabled_at.is_some());
    assert_eq!(status.recovery_codes_left, 10);
    let again = mfa.start_enrolment(user.id, b"third", now).await;
    assert!(matches!(again, Err(RepoError::Conflict)), "{again:?}");
    assert!(!mfa.confirm(change(&user, &hashes), 11).await.expect("confirm"), "not pending");
}
contract!(an_enrolment_is_pending_until_confirmed_and_then_refuses_a_second);

async fn a_step_is_accepted_once_and_never_an_older_one(t: TestDatabase) {
    let mfa = &t.db.repositories().mfa;
    let (user, _) = enabled(&t, 100).await;

    assert!(!mfa.use_step(user.id, 100).await.expect("use"), "the confirming step is spent");
    assert!(mfa.use_step(user.id, 101).await.expect("use"));
    assert!(!mfa.use_step(user.id, 101).await.expect("use"), "the same step twice");
    assert!(!mfa.use_step(user.id, 100).await.expect("use"), "an older step");
    let racing = futures_util::future::join_all((0..8).map(|_| mfa.use_step(user.id, 102))).await;
    let accepted = racing.into_iter().filter(|r| matches!(r, Ok(true))).count();
    assert_eq!(accepted, 1, "of racing uses of one step, one wins");
}
contract!(a_step_is_accepted_once_and_never_an_older_one);

async fn a_recovery_code_works_once_even_when_raced(t: TestDatabase) {
    let mfa = &t.db.repositories().mfa;
    let (user, hashes) = enabled(&t, 1).await;
    let (other, _) = enabled(&t, 1).await;

    assert!(!mfa.use_recovery_code(change(&other, &[]), &hashes[0]).await.expect("use"));
    let racing = futures_util::future::join_all(
        (0..8).map(|_| mfa.use_recovery_code(change(&user, &[]), &hashes[0])),
    )
    .await;
    let accepted = racing.into_iter().filter(|r| matches!(r, Ok(true))).count();
    assert_eq!(accepted, 1, "of racing uses of one code, one wins");
    assert_eq!(mfa.status(user.id).await.expect("status").recovery_codes_left, 9);
}
contract!(a_recovery_code_works_once_even_when_raced);

async fn regenerating_replaces_every_code_and_disabling_removes_everything(t: TestDatabase) {
    let mfa = &t.db.repositories().mfa;
    let users = &t.db.repositories().users;
    let (user, old) = enabled(&t, 1).await;
    let fresh = codes();

    assert!(mfa.replace_recovery_codes(change(&user, &fresh)).await.expect("replace"));
    assert!(!mfa.use_recovery_code(change(&user, &[]), &old[1]).await.expect("use"), "old died");
    assert!(mfa.use_recovery_code(change(&user, &[]), &fresh[1]).await.expect("use"));
    let now = OffsetDateTime::now_utc();
    let challenge = SecretHash::of("challenge");
    let new = NewChallenge {
        hash: challenge,
        user_id: user.id,
        created_at: now,
        expires_at: now + Duration::minutes(5),
    };
    mfa.create_challenge(new).await.expect("challenge");

    assert!(mfa.disable(change(&user, &[])).await.expect("disable"));
    assert!(!mfa.disable(change(&user, &[])).await.expect("disable"), "already off");
    assert!(!mfa.replace_recovery_codes(change(&user, &fresh)).await.expect("replace"), "off");
    assert!(mfa.find_totp(user.id).await.expect("read").is_none());
    assert_eq!(mfa.find_challenge(&challenge, now, 5).await.expect("read"), None);
    let status = mfa.status(user.id).await.expect("status");
    assert_eq!((status.enabled_at, status.recovery_codes_left), (None, 0));
    assert!(!users.find_by_id(user.id).await.expect("read").expect("user").mfa_enabled);
}
contract!(regenerating_replaces_every_code_and_disabling_removes_everything);

async fn a_challenge_is_spent_once_and_dies_of_age_or_wrong_codes(t: TestDatabase) {
    let mfa = &t.db.repositories().mfa;
    let (user, _) = enabled(&t, 1).await;
    let now = OffsetDateTime::now_utc();
    let challenge = |name: &str| NewChallenge {
        hash: SecretHash::of(name),
        user_id: user.id,
        created_at: now,
        expires_at: now + Duration::minutes(5),
    };
    for name in ["spent", "aged", "wrong"] {
        mfa.create_challenge(challenge(name)).await.expect("challenge");
    }
    let (spent, aged, wrong) =
        (SecretHash::of("spent"), SecretHash::of("aged"), SecretHash::of("wrong"));

    assert_eq!(mfa.find_challenge(&spent, now, 5).await.expect("read"), Some(user.id));
    let racing =
        futures_util::future::join_all((0..6).map(|_| mfa.spend_challenge(&spent, now, 5))).await;
    let spends = racing.into_iter().filter(|r| matches!(r, Ok(Some(_)))).count();
    assert_eq!(spends, 1, "one of racing completions spends it");
    assert_eq!(mfa.find_challenge(&spent, now, 5).await.expect("read"), None);

    let later = now + Duration::minutes(5);
    assert_eq!(mfa.find_challenge(&aged, later, 5).await.expect("read"), None, "expired");
    assert_eq!(mfa.spend_challenge(&aged, later, 5).await.expect("spend"), None);

    for _ in 0..4 {
        mfa.fail_challenge(&wrong).await.expect("fail");
    }
    assert_eq!(mfa.find_challenge(&wrong, now, 5).await.expect("read"), Some(user.id));
    mfa.fail_challenge(&wrong).await.expect("fail");
    assert_eq!(mfa.find_challenge(&wrong, now, 5).await.expect("read"), None, "fifth wrong code");
    assert_eq!(mfa.spend_challenge(&wrong, now, 5).await.expect("spend"), None);
}
contract!(a_challenge_is_spent_once_and_dies_of_age_or_wrong_codes);

async fn everything_goes_with_the_account(t: TestDatabase) {
    let repos = t.db.repositories();
    let (user, hashes) = enabled(&t, 1).await;
    let now = OffsetDateTime::now_utc();
    let hash = SecretHash::of("challenge");
    let new = NewChallenge {
        hash,
        user_id: user.id,
        created_at: now,
        expires_at: now + Duration::minutes(5),
    };
    repos.mfa.create_challenge(new).await.expect("challenge");

    assert!(repos.users.delete(user.id).await.expect("delete"));

    assert!(repos.mfa.find_totp(user.id).await.expect("read").is_none());
    assert_eq!(repos.mfa.find_challenge(&hash, now, 5).await.expect("read"), None);
    assert!(!repos.mfa.use_recovery_code(change(&user, &[]), &hashes[0]).await.expect("use"));
    assert_eq!(repos.mfa.status(user.id).await.expect("status").recovery_codes_left, 0);
}
contract!(everything_goes_with_the_account);
