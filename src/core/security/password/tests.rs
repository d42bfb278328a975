//! Unit tests of Argon2id hashing: round trips, interoperability, and the bounds and upgrade
//! rules for stored hashes.

use super::*;
use crate::domain::PasswordPolicy;

fn hasher() -> PasswordHasher {
    PasswordHasher::new(PasswordHasher::recommended_params(), 2).expect("hasher")
}

fn password(raw: &str) -> Password {
    Password::parse(raw, PasswordPolicy::default(), None).expect("valid password")
}

#[tokio::test]
async fn a_hash_verifies_its_own_password_only() {
    let hasher = hasher();
    let hash = hasher.hash(&password("correct horse battery")).await.expect("hash");
    assert!(hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    let (right, wrong) = (
        CandidatePassword::new("correct horse battery"),
        CandidatePassword::new("correct horse battery!"),
    );
    let outcome = hasher.verify(&right, Some(&hash)).await.expect("verify");
    assert_eq!(outcome, Verification::Valid { needs_rehash: false });
    let outcome = hasher.verify(&wrong, Some(&hash)).await.expect("verify");
    assert_eq!(outcome, Verification::Invalid);
}

#[tokio::test]
async fn hashes_are_standard_phc_strings_any_argon2_library_verifies() {
    use argon2::PasswordVerifier as _;
    let hash = hasher().hash(&password("interoperable phrase")).await.expect("hash");
    let parsed = PasswordHash::new(hash.as_str()).expect("PHC string");
    let standard = Argon2::default();
    assert!(standard.verify_password(b"interoperable phrase", &parsed).is_ok());
    assert!(standard.verify_password(b"another phrase", &parsed).is_err());
    // And the other way round: a hash the library made verifies here.
    let theirs = standard.hash_password(b"made elsewhere, ok").expect("hash").to_string();
    let (candidate, stored) =
        (CandidatePassword::new("made elsewhere, ok"), StoredHash::new(theirs));
    let outcome = hasher().verify(&candidate, Some(&stored)).await.expect("verify");
    assert_eq!(outcome, Verification::Valid { needs_rehash: false });
}

#[tokio::test]
async fn salts_are_random() {
    let hasher = hasher();
    let first = hasher.hash(&password("same password here")).await.expect("hash");
    let second = hasher.hash(&password("same password here")).await.expect("hash");
    assert_ne!(first, second);
}

#[tokio::test]
async fn absent_accounts_never_verify() {
    let outcome = hasher().verify(&CandidatePassword::new("anything at all"), None).await;
    assert_eq!(outcome.expect("verify"), Verification::Invalid);
}

#[tokio::test]
async fn hashes_outside_policy_are_refused_before_verifying() {
    let tampered = StoredHash::new(
        "$argon2id$v=19$m=2000000,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
         AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
            .to_owned(),
    );
    // Verifying with m=2000000 would allocate ~2 GiB: the policy check must refuse first.
    let parsed = PasswordHash::new(tampered.as_str()).expect("well-formed PHC");
    assert!(accepted_params(&parsed).is_none());
    let outcome = hasher().verify(&CandidatePassword::new("whatever"), Some(&tampered)).await;
    assert_eq!(outcome.expect("verify"), Verification::Invalid);
}

/// A hash of `raw` made with `(m, t, p)`, as a hasher configured that way would store it.
async fn hash_with(m: u32, t: u32, p: u32, raw: &str) -> StoredHash {
    let params = Params::new(m, t, p, None).expect("params");
    PasswordHasher::new(params, 1).expect("hasher").hash(&password(raw)).await.expect("hash")
}

#[tokio::test]
async fn a_weaker_but_valid_hash_verifies_and_asks_for_an_upgrade() {
    for (m, t) in [(7_168, 1), (19_456, 1), (8_192, 2)] {
        let hash = hash_with(m, t, 1, "an older password").await;
        let candidate = CandidatePassword::new("an older password");
        let outcome = hasher().verify(&candidate, Some(&hash)).await.expect("verify");
        assert_eq!(outcome, Verification::Valid { needs_rehash: true }, "m={m} t={t}");
    }
}

#[tokio::test]
async fn a_hash_stronger_than_policy_is_never_rewritten_weaker() {
    for (m, t, p) in [(32_768, 3, 1), (19_456, 2, 2), (65_536, 2, 1)] {
        let hash = hash_with(m, t, p, "a stronger password").await;
        let candidate = CandidatePassword::new("a stronger password");
        let outcome = hasher().verify(&candidate, Some(&hash)).await.expect("verify");
        assert_eq!(outcome, Verification::Valid { needs_rehash: false }, "m={m} t={t} p={p}");
    }
}

#[test]
fn stored_parameters_are_accepted_exactly_within_the_spec_bounds() {
    let phc = |m: u32, t: u32, p: u32| {
        format!(
            "$argon2id$v=19$m={m},t={t},p={p}$c29tZXNhbHRzb21lc2FsdA$\
             AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        )
    };
    let accepted = |m, t, p| {
        let hash = phc(m, t, p);
        accepted_params(&PasswordHash::new(&hash).expect("well-formed PHC")).is_some()
    };
    for (m, t, p) in [(7_168, 1, 1), (262_144, 10, 4), (19_456, 2, 1), (65_536, 1, 2)] {
        assert!(accepted(m, t, p), "m={m} t={t} p={p} is within bounds");
    }
    for (m, t, p) in [(7_167, 1, 1), (262_145, 2, 1), (19_456, 11, 1), (19_456, 2, 5)] {
        assert!(!accepted(m, t, p), "m={m} t={t} p={p} is outside bounds");
    }
}

#[tokio::test]
async fn garbage_hashes_do_not_verify() {
    let garbage = StoredHash::new("not a hash".to_owned());
    let outcome = hasher().verify(&CandidatePassword::new("whatever"), Some(&garbage)).await;
    assert_eq!(outcome.expect("verify"), Verification::Invalid);
}
