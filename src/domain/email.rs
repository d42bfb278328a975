//! Email addresses in their canonical form, which is what uniqueness is decided on.

use std::fmt;

use unicode_normalization::UnicodeNormalization;
use validator::ValidateEmail;

use super::{ErrorCode, has_control_characters};

/// A syntactically valid email address in canonical form: trimmed, NFC, lowercased, with an
/// IDNA (punycode) domain. Two inputs that differ only in case or Unicode composition yield
/// the same `EmailAddress`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("email must not be empty")]
    Empty,
    #[error("email must be at most {max} characters", max = EmailAddress::MAX_LEN)]
    TooLong,
    #[error("email is not a valid address")]
    Invalid,
}

impl ErrorCode for EmailError {
    fn code(&self) -> &'static str {
        match self {
            Self::Empty => "required",
            Self::TooLong => "too_long",
            Self::Invalid => "invalid_email",
        }
    }
}

impl EmailAddress {
    /// RFC 5321's limit on a forward path, applied to the canonical form.
    pub const MAX_LEN: usize = 254;

    /// Normalises, then validates: a look-alike such as the fullwidth `＠` stays what it is and
    /// fails, rather than being folded into an `@` by a compatibility normalisation.
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if trimmed.len() > Self::MAX_LEN * 4 || has_control_characters(trimmed) {
            return Err(EmailError::Invalid);
        }
        let composed: String = trimmed.nfc().collect();
        let (local, domain) = composed.rsplit_once('@').ok_or(EmailError::Invalid)?;
        if domain.starts_with('[') || !domain.contains('.') {
            // IP literals and single-label hosts are legal in RFC 5321 but never a real
            // user's mailbox; refusing them keeps one canonical spelling per mailbox.
            return Err(EmailError::Invalid);
        }
        let domain = idna::domain_to_ascii_strict(domain).map_err(|_| EmailError::Invalid)?;
        let canonical = format!("{}@{domain}", local.to_lowercase());
        if canonical.len() > Self::MAX_LEN {
            return Err(EmailError::TooLong);
        }
        if !canonical.validate_email() {
            return Err(EmailError::Invalid);
        }
        Ok(Self(canonical))
    }

    /// Rebuilds an address read back from storage, where it was stored canonical.
    pub fn from_canonical(stored: &str) -> Result<Self, EmailError> {
        let parsed = Self::parse(stored)?;
        if parsed.0 == stored { Ok(parsed) } else { Err(EmailError::Invalid) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the `@`, used by the password policy.
    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(local, _)| local)
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fake::Fake;
    use fake::faker::internet::en::SafeEmail;

    #[test]
    fn valid_addresses_are_canonicalised() {
        let cases = [
            ("  Ursula@Example.COM ", "ursula@example.com"),
            ("first.last+tag@sub.example.org", "first.last+tag@sub.example.org"),
            ("user@BÜCHER.example", "user@xn--bcher-kva.example"),
            // "Ü" written as U+0055 U+0308 composes to the same domain.
            ("user@bu\u{0308}cher.example", "user@xn--bcher-kva.example"),
        ];
        for (raw, expected) in cases {
            let email = EmailAddress::parse(raw).unwrap_or_else(|e| panic!("{raw:?}: {e}"));
            assert_eq!(email.as_str(), expected, "input {raw:?}");
        }
    }

    #[test]
    fn invalid_addresses_are_refused_with_a_reason() {
        let long_local = format!("{}@example.com", "a".repeat(250));
        let cases = [
            ("", EmailError::Empty),
            ("   ", EmailError::Empty),
            ("no-at-sign.example.com", EmailError::Invalid),
            ("user\u{FF20}example.com", EmailError::Invalid),
            ("user@localhost", EmailError::Invalid),
            ("user@[127.0.0.1]", EmailError::Invalid),
            ("us er@example.com", EmailError::Invalid),
            ("user\u{0}@example.com", EmailError::Invalid),
            ("user@exa_mple.com", EmailError::Invalid),
            ("@example.com", EmailError::Invalid),
            (long_local.as_str(), EmailError::TooLong),
        ];
        for (raw, expected) in cases {
            assert_eq!(EmailAddress::parse(raw), Err(expected), "input {raw:?}");
        }
    }

    #[test]
    fn case_variants_are_the_same_address() {
        let a = EmailAddress::parse("Alice@Example.com").expect("valid");
        let b = EmailAddress::parse("aLiCe@eXaMpLe.CoM").expect("valid");
        assert_eq!(a, b);
    }

    #[test]
    fn canonicalisation_is_idempotent_on_generated_addresses() {
        for _ in 0..200 {
            let raw: String = SafeEmail().fake();
            let once = EmailAddress::parse(&raw).expect("faker gives valid emails");
            let twice = EmailAddress::parse(once.as_str()).expect("canonical stays valid");
            assert_eq!(once, twice);
            assert_eq!(EmailAddress::from_canonical(once.as_str()), Ok(once.clone()));
        }
    }

    #[test]
    fn local_part_is_what_precedes_the_at_sign() {
        let email = EmailAddress::parse("Grace.Hopper@navy.example").expect("valid");
        assert_eq!(email.local_part(), "grace.hopper");
    }

    proptest::proptest! {
        #[test]
        fn canonicalisation_never_panics_and_is_idempotent(raw in "\\PC{0,80}") {
            if let Ok(email) = EmailAddress::parse(&raw) {
                let again = EmailAddress::parse(email.as_str()).expect("canonical form parses");
                proptest::prop_assert_eq!(&again, &email);
                proptest::prop_assert!(email.as_str().len() <= EmailAddress::MAX_LEN);
                proptest::prop_assert!(!email.as_str().chars().any(char::is_uppercase));
            }
        }

        #[test]
        fn plausible_addresses_survive_case_and_whitespace_changes(
            local in "[a-z0-9._%+-]{1,20}", domain in "[a-z0-9-]{1,20}\\.[a-z]{2,6}",
        ) {
            let canonical = EmailAddress::parse(&format!("{local}@{domain}"));
            let shouted = EmailAddress::parse(&format!("  {}@{} ", local.to_uppercase(), domain.to_uppercase()));
            proptest::prop_assert_eq!(canonical, shouted);
        }
    }
}
