//! `ThrottleRepository`: reservations are counted atomically, before any password check.

use time::{Duration, OffsetDateTime};
use warren::domain::{BackoffPolicy, EmailAddress};
use warren::repositories::Reservation;

use crate::{TestDatabase, contract};

fn email() -> EmailAddress {
    EmailAddress::parse(&format!("{}@example.com", uuid::Uuid::now_v7().simple())).expect("email")
}

async fn concurrent_reservations_beyond_the_threshold_are_refused(t: TestDatabase) {
    let throttles = &t.db.repositories().throttles;
    let policy = BackoffPolicy::default();
    let email = email();
    let now = OffsetDateTime::now_utc();

    let attempts = (0..9).map(|_| throttles.reserve(&email, now, &policy));
    let outcomes = futures_util::future::join_all(attempts).await;

    let granted = outcomes.iter().filter(|o| matches!(o, Ok(Reservation::Granted))).count();
    let locked = outcomes.iter().filter(|o| matches!(o, Ok(Reservation::Locked { .. }))).count();
    assert_eq!((granted, locked), (5, 4), "{outcomes:?}");
}
contract!(concurrent_reservations_beyond_the_threshold_are_refused);

async fn a_lock_ends_when_its_time_has_passed_and_clear_forgets_the_count(t: TestDatabase) {
    let throttles = &t.db.repositories().throttles;
    let policy = BackoffPolicy::default();
    let email = email();
    let now = OffsetDateTime::now_utc();
    for _ in 0..policy.threshold {
        assert_eq!(
            throttles.reserve(&email, now, &policy).await.expect("reserve"),
            Reservation::Granted
        );
    }

    let locked = throttles.reserve(&email, now, &policy).await.expect("reserve");
    let later = now + Duration::seconds(31);
    let after_lock = throttles.reserve(&email, later, &policy).await.expect("reserve");
    let relocked = throttles.reserve(&email, later, &policy).await.expect("reserve");
    throttles.clear(&email).await.expect("clear");
    let cleared = throttles.reserve(&email, later, &policy).await.expect("reserve");

    assert!(matches!(locked, Reservation::Locked { until } if until > now), "{locked:?}");
    assert_eq!(after_lock, Reservation::Granted);
    assert!(matches!(relocked, Reservation::Locked { .. }), "the 6th failure locks again");
    assert_eq!(cleared, Reservation::Granted);
}
contract!(a_lock_ends_when_its_time_has_passed_and_clear_forgets_the_count);

async fn a_released_reservation_gives_its_attempt_back(t: TestDatabase) {
    let throttles = &t.db.repositories().throttles;
    let policy = BackoffPolicy::default();
    let email = email();
    let now = OffsetDateTime::now_utc();

    for _ in 0..20 {
        assert_eq!(
            throttles.reserve(&email, now, &policy).await.expect("reserve"),
            Reservation::Granted
        );
        throttles.release(&email, &policy).await.expect("release");
    }
}
contract!(a_released_reservation_gives_its_attempt_back);
