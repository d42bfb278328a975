//! `EmailRepository`: link tokens (single use, bound to purpose and address, superseded, ended
//! by a reset) and the outbox (resend interval, leases, settling).

use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use warren::domain::{LinkPurpose, LinkTokenHash, NewLink, OutgoingMail, StoredHash, User};
use warren::repositories::{LinkUse, PasswordReset, RepoError};

use crate::{TestDatabase, contract, new_user};

fn mail(kind: &'static str, recipient: Option<&str>) -> OutgoingMail {
    OutgoingMail {
        kind,
        recipient: recipient.map(str::to_owned),
        quiet_since: None,
        subject: kind.to_owned(),
        text: "text".to_owned(),
        html: "<p>html</p>".to_owned(),
    }
}

fn link(user: &User, purpose: LinkPurpose, byte: u8, email: &str) -> NewLink {
    NewLink {
        hash: LinkTokenHash::from_bytes([byte; 32]),
        user_id: user.id,
        purpose,
        email: email.to_owned(),
        expires_at: OffsetDateTime::now_utc() + Duration::hours(1),
    }
}

async fn issue(t: &TestDatabase, link: NewLink, now: OffsetDateTime) -> bool {
    let outbox = &t.db.repositories().email;
    let recipient = link.email.clone();
    let mut mail = mail(link.purpose.as_str(), Some(&recipient));
    mail.quiet_since = Some(now - Duration::seconds(60));
    outbox.issue_link(LinkUse { link, mail }, now).await.expect("issue")
}

async fn links_work_once_for_their_purpose_and_newer_ones_supersede_older(t: TestDatabase) {
    let outbox = &t.db.repositories().email;
    let user = t.user().await;
    let now = OffsetDateTime::now_utc();
    let email = user.email.as_str().to_owned();
    assert!(issue(&t, link(&user, LinkPurpose::VerifyEmail, 1, &email), now).await);
    assert!(
        !issue(&t, link(&user, LinkPurpose::VerifyEmail, 2, &email), now).await,
        "within the resend interval nothing is issued"
    );
    let later = now + Duration::seconds(61);
    assert!(issue(&t, link(&user, LinkPurpose::VerifyEmail, 3, &email), later).await);

    let first = LinkTokenHash::from_bytes([1; 32]);
    assert_eq!(outbox.verify_email(&first, later).await.expect("verify"), None, "superseded");
    let third = LinkTokenHash::from_bytes([3; 32]);
    let expired = later + Duration::hours(2);
    assert_eq!(outbox.verify_email(&third, expired).await.expect("verify"), None, "expired");
    let reset = PasswordReset { hash: StoredHash::new("x".into()), notice: mail("n", None) };
    let wrong = outbox.reset_password(&third, reset, later).await.expect("reset");
    assert!(wrong.is_none(), "wrong purpose");
    let verified = outbox.verify_email(&third, later).await.expect("verify").expect("user");
    assert!(verified.email_verified);
    assert_eq!(outbox.verify_email(&third, later).await.expect("verify"), None, "used");
}
contract!(links_work_once_for_their_purpose_and_newer_ones_supersede_older);

async fn a_reset_bumps_the_token_version_and_ends_links_and_a_taken_address_conflicts(
    t: TestDatabase,
) {
    let repositories = t.db.repositories();
    let user = t.user().await;
    let now = OffsetDateTime::now_utc();
    let email = user.email.as_str().to_owned();
    assert!(issue(&t, link(&user, LinkPurpose::ResetPassword, 4, &email), now).await);
    let taken = repositories.users.insert(new_user("taken@example.com")).await.expect("insert");
    assert!(
        issue(&t, link(&user, LinkPurpose::ConfirmEmailChange, 5, "taken@example.com"), now).await
    );

    let change = LinkTokenHash::from_bytes([5; 32]);
    let conflict = repositories.email.confirm_email_change(&change, mail("n", None), now).await;
    assert!(matches!(conflict, Err(RepoError::Conflict)), "{conflict:?}");
    repositories.users.delete(taken.id).await.expect("delete");

    let hash = StoredHash::new("$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3".to_owned());
    let reset = PasswordReset { hash, notice: mail("password_changed", None) };
    let reset_link = LinkTokenHash::from_bytes([4; 32]);
    let after = repositories.email.reset_password(&reset_link, reset, now).await.expect("reset");
    let after = after.expect("the user");
    assert_eq!(after.token_version, user.token_version + 1);
    let gone = repositories.email.confirm_email_change(&change, mail("n", None), now).await;
    assert!(gone.expect("confirm").is_none(), "a reset ends every link");
}
contract!(a_reset_bumps_the_token_version_and_ends_links_and_a_taken_address_conflicts);

async fn claims_are_leased_and_settled(t: TestDatabase) {
    let outbox = &t.db.repositories().email;
    let now = OffsetDateTime::now_utc();
    outbox.queue(mail("a", Some("a@example.com")), now).await.expect("queue");
    let lease = now + Duration::seconds(60);
    let claimed = outbox.claim(now, lease, 10).await.expect("claim");
    assert_eq!((claimed.len(), claimed[0].attempts), (1, 1));
    assert!(outbox.claim(now, lease, 10).await.expect("claim").is_empty(), "leased");

    outbox.release(claimed[0].id).await.expect("release");
    let again = outbox.claim(now, lease, 10).await.expect("claim");
    assert_eq!(again[0].attempts, 1, "a released claim was no attempt");
    let retry_at = now + Duration::seconds(10);
    outbox.settle_failure(again[0].id, Some(retry_at), "451 later").await.expect("retry");
    assert!(outbox.claim(now, lease, 10).await.expect("claim").is_empty(), "not yet due");
    let due = outbox.claim(retry_at, lease, 10).await.expect("claim");
    assert_eq!((due.len(), due[0].attempts, due[0].text.as_str()), (1, 2, "text"));
    outbox.mark_sent(due[0].id, retry_at).await.expect("sent");
    let later = retry_at + Duration::hours(1);
    assert!(outbox.claim(later, later, 10).await.expect("claim").is_empty(), "sent once");

    outbox.queue(mail("b", Some("b@example.com")), now).await.expect("queue");
    let doomed = outbox.claim(now, lease, 10).await.expect("claim");
    outbox.settle_failure(doomed[0].id, None, "550 no").await.expect("fail");
    assert!(outbox.claim(later, later, 10).await.expect("claim").is_empty(), "failed for good");
}
contract!(claims_are_leased_and_settled);

async fn the_backlog_counts_messages_still_to_be_delivered(t: TestDatabase) {
    let outbox = &t.db.repositories().email;
    let now = OffsetDateTime::now_utc();
    assert_eq!(outbox.backlog().await.expect("backlog"), 0);
    for recipient in ["a@example.com", "b@example.com", "c@example.com"] {
        outbox.queue(mail("backlog", Some(recipient)), now).await.expect("queue");
    }
    let lease = now + Duration::seconds(60);
    let claimed = outbox.claim(now, lease, 2).await.expect("claim");
    assert_eq!(claimed.len(), 2);
    assert_eq!(outbox.backlog().await.expect("backlog"), 3, "claimed messages still count");

    outbox.mark_sent(claimed[0].id, now).await.expect("sent");
    outbox.settle_failure(claimed[1].id, None, "550 no").await.expect("fail");

    assert_eq!(outbox.backlog().await.expect("backlog"), 1, "sent and failed ones left it");
}
contract!(the_backlog_counts_messages_still_to_be_delivered);

async fn confirming_an_email_change_ends_every_other_link_of_the_account(t: TestDatabase) {
    let outbox = &t.db.repositories().email;
    let user = t.user().await;
    let now = OffsetDateTime::now_utc();
    let old_address = user.email.as_str().to_owned();
    assert!(issue(&t, link(&user, LinkPurpose::ResetPassword, 6, &old_address), now).await);
    assert!(issue(&t, link(&user, LinkPurpose::VerifyEmail, 7, &old_address), now).await);
    let new_address = format!("new-{old_address}");
    assert!(issue(&t, link(&user, LinkPurpose::ConfirmEmailChange, 8, &new_address), now).await);

    let change = LinkTokenHash::from_bytes([8; 32]);
    let changed = outbox.confirm_email_change(&change, mail("n", None), now).await;
    assert_eq!(changed.expect("confirm").expect("user").email.as_str(), new_address);

    let hash = StoredHash::new("$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3".to_owned());
    let reset = PasswordReset { hash, notice: mail("password_changed", None) };
    let reset_link = LinkTokenHash::from_bytes([6; 32]);
    let reset = outbox.reset_password(&reset_link, reset, now).await.expect("reset");
    assert!(reset.is_none(), "a reset link mailed to the old address died with the change");
    let verify_link = LinkTokenHash::from_bytes([7; 32]);
    let verified = outbox.verify_email(&verify_link, now).await.expect("verify");
    assert!(verified.is_none(), "so did the old address's verification link");
}
contract!(confirming_an_email_change_ends_every_other_link_of_the_account);

async fn one_address_gets_one_message_of_a_kind_per_interval_however_many_ask_at_once(
    t: TestDatabase,
) {
    let outbox = Arc::clone(&t.db.repositories().email);
    let now = OffsetDateTime::now_utc();
    let user = t.user().await;
    let address = user.email.as_str().to_owned();
    let attempts = (0..30u8).map(|byte| {
        let outbox = Arc::clone(&outbox);
        let link = link(&user, LinkPurpose::VerifyEmail, 100 + byte, &address);
        let mut mail = mail("verify_email", Some(&address));
        mail.quiet_since = Some(now - Duration::seconds(60));
        tokio::spawn(async move { outbox.issue_link(LinkUse { link, mail }, now).await })
    });
    let mut issued = 0;
    for attempt in attempts.collect::<Vec<_>>() {
        issued += usize::from(attempt.await.expect("joined").expect("issue"));
    }
    assert_eq!(issued, 1, "one link message in the interval, whatever the race");

    let mut notice = mail("password_changed", Some(&address));
    notice.quiet_since = Some(now - Duration::seconds(60));
    let mut other = mail("email_changed", Some(&address));
    other.quiet_since = notice.quiet_since;
    for message in [notice.clone(), notice, other] {
        outbox.queue(message, now).await.expect("queue");
    }
    let claimed = outbox.claim(now, now + Duration::seconds(60), 10).await.expect("claim");
    let mut kinds: Vec<_> = claimed.iter().map(|mail| mail.subject.as_str()).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["email_changed", "password_changed", "verify_email"]);
}
contract!(one_address_gets_one_message_of_a_kind_per_interval_however_many_ask_at_once);
