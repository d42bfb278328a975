//! Passwords as users type them: normalised once, checked against the policy, never logged.

use std::collections::HashSet;
use std::sync::LazyLock;

use secrecy::{ExposeSecret, SecretString};
use unicode_normalization::UnicodeNormalization;

use super::{EmailAddress, ErrorCode, has_control_characters};

/// The length rules; composition rules (digits, symbols…) are deliberately absent (NIST 800-63B).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    min_length: usize,
}

impl PasswordPolicy {
    /// No configuration may go below this.
    pub const FLOOR: usize = 8;
    pub const DEFAULT_MIN_LENGTH: usize = 12;
    pub const MAX_LENGTH: usize = 128;
    /// Shorter local parts ("al", "jo") would forbid too many innocent passwords.
    const MIN_LOCAL_PART_CHECKED: usize = 4;

    /// `None` when `min_length` is outside `FLOOR..=MAX_LENGTH`.
    pub fn new(min_length: usize) -> Option<Self> {
        (Self::FLOOR..=Self::MAX_LENGTH).contains(&min_length).then_some(Self { min_length })
    }

    pub fn min_length(&self) -> usize {
        self.min_length
    }
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self { min_length: Self::DEFAULT_MIN_LENGTH }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("password must be at least {0} characters")]
    TooShort(usize),
    #[error("password must be at most {max} characters", max = PasswordPolicy::MAX_LENGTH)]
    TooLong,
    #[error("password must not contain control characters")]
    ControlCharacters,
    #[error("password must not contain the email address")]
    ContainsEmail,
    #[error("password is too common; choose one that is harder to guess")]
    Common,
}

impl ErrorCode for PasswordError {
    fn code(&self) -> &'static str {
        match self {
            Self::TooShort(_) => "too_short",
            Self::TooLong => "too_long",
            Self::ControlCharacters => "invalid_characters",
            Self::ContainsEmail => "contains_email",
            Self::Common => "too_common",
        }
    }
}

/// 19,640 common passwords (Django's list; see `common-passwords.LICENSE`), compared
/// case-insensitively after NFKC. Built on first use.
static COMMON_PASSWORDS: LazyLock<HashSet<String>> =
    LazyLock::new(|| include_str!("common-passwords.txt").lines().map(str::to_lowercase).collect());

/// A new password that satisfies the policy, NFKC-normalised so that the same visible password
/// typed on different keyboards hashes the same. Never trimmed or truncated.
pub struct Password(SecretString);

impl Password {
    pub fn parse(
        raw: &str,
        policy: PasswordPolicy,
        email: Option<&EmailAddress>,
    ) -> Result<Self, PasswordError> {
        let normalised = normalise(raw);
        let length = normalised.chars().count();
        if length < policy.min_length {
            return Err(PasswordError::TooShort(policy.min_length));
        }
        if length > PasswordPolicy::MAX_LENGTH {
            return Err(PasswordError::TooLong);
        }
        if has_control_characters(&normalised) {
            return Err(PasswordError::ControlCharacters);
        }
        let lowercase = normalised.to_lowercase();
        if COMMON_PASSWORDS.contains(lowercase.as_str()) {
            return Err(PasswordError::Common);
        }
        if let Some(email) = email {
            let local = email.local_part();
            if local.chars().count() >= PasswordPolicy::MIN_LOCAL_PART_CHECKED
                && lowercase.contains(local)
            {
                return Err(PasswordError::ContainsEmail);
            }
        }
        Ok(Self(normalised.into()))
    }

    /// A password that has just verified against a stored hash, to be rehashed with stronger
    /// parameters. It is not re-checked: it predates the current policy and remains valid.
    pub fn rehashable(verified: &CandidatePassword) -> Self {
        Self(verified.expose().into())
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([REDACTED])")
    }
}

/// A password offered to prove identity (signin, re-authentication). No policy applies — it
/// may predate the current policy — but it is normalised exactly like a new password.
pub struct CandidatePassword(SecretString);

impl CandidatePassword {
    pub fn new(raw: &str) -> Self {
        Self(normalise(raw).into())
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for CandidatePassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CandidatePassword([REDACTED])")
    }
}

/// A password hash in PHC string format, as stored. Opaque outside the hasher.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredHash(String);

impl StoredHash {
    pub fn new(phc: String) -> Self {
        Self(phc)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for StoredHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoredHash([REDACTED])")
    }
}

fn normalise(raw: &str) -> String {
    raw.nfkc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<Password, PasswordError> {
        Password::parse(raw, PasswordPolicy::default(), None)
    }

    #[test]
    fn length_is_counted_in_code_points_after_nfkc() {
        // Twelve two-byte characters are twelve characters, not twenty-four.
        assert!(parse(&"é".repeat(12)).is_ok());
        assert_eq!(parse(&"é".repeat(11)).err(), Some(PasswordError::TooShort(12)));
        // The ligature "ﬁ" (one code point) becomes "fi" (two) under NFKC.
        assert!(parse(&"ﬁ".repeat(6)).is_ok());
    }

    #[test]
    fn bounds_are_enforced() {
        assert!(parse(&"x".repeat(128)).is_ok());
        assert_eq!(parse(&"x".repeat(129)).err(), Some(PasswordError::TooLong));
        assert_eq!(parse("short").err(), Some(PasswordError::TooShort(12)));
    }

    #[test]
    fn passwords_are_never_trimmed() {
        let password = parse("  twelve chars  ").expect("valid");
        assert_eq!(password.expose(), "  twelve chars  ");
    }

    #[test]
    fn control_characters_are_refused() {
        let error = parse("correct horse\u{0}battery").err();
        assert_eq!(error, Some(PasswordError::ControlCharacters));
    }

    #[test]
    fn a_password_containing_the_email_local_part_is_refused() {
        let email = EmailAddress::parse("Margaret@example.com").expect("valid");
        let policy = PasswordPolicy::default();
        let result = Password::parse("xxMARGARET2024xx", policy, Some(&email));
        assert_eq!(result.err(), Some(PasswordError::ContainsEmail));
        assert!(Password::parse("entirely unrelated", policy, Some(&email)).is_ok());
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        assert!(COMMON_PASSWORDS.len() >= 10_000);
        let policy = PasswordPolicy::new(8).expect("policy");
        // At the default minimum length too: the list holds 12-character entries.
        for common in ["Q1w2e3r4t5y6", "q1w2e3r4t5y6", "1QAZ2WSX3EDC"] {
            let result = Password::parse(common, PasswordPolicy::default(), None);
            assert_eq!(result.err(), Some(PasswordError::Common), "{common}");
        }
        assert_eq!(Password::parse("baseball", policy, None).err(), Some(PasswordError::Common));
        assert_eq!(Password::parse("BaseBall", policy, None).err(), Some(PasswordError::Common));
        assert!(Password::parse("baseball and a tram ticket", policy, None).is_ok());
    }

    #[test]
    fn policy_minimum_has_a_floor() {
        assert!(PasswordPolicy::new(7).is_none());
        assert!(PasswordPolicy::new(129).is_none());
        assert_eq!(PasswordPolicy::new(8).map(|p| p.min_length()), Some(8));
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let password = parse("a secret phrase").expect("valid");
        assert!(!format!("{password:?}").contains("secret"));
        assert!(!format!("{:?}", CandidatePassword::new("a secret")).contains("secret"));
    }

    proptest::proptest! {
        #[test]
        fn normalisation_never_panics_and_is_stable(raw in "\\PC{0,140}") {
            let candidate = CandidatePassword::new(&raw);
            // Normalising twice changes nothing: what was hashed is what verification sees.
            let twice = CandidatePassword::new(candidate.expose());
            proptest::prop_assert_eq!(twice.expose(), candidate.expose());
            if let Ok(password) = Password::parse(&raw, PasswordPolicy::default(), None) {
                proptest::prop_assert_eq!(password.expose(), candidate.expose());
                let length = password.expose().chars().count();
                proptest::prop_assert!((12..=128).contains(&length));
            }
        }
    }
}
