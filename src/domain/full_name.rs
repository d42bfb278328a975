//! A person's display name.

use std::fmt;

use super::{ErrorCode, has_control_characters};

/// Trimmed, 1..=100 code points, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullName(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FullNameError {
    #[error("full_name must not be blank (send null to clear it)")]
    Blank,
    #[error("full_name must be at most {max} characters", max = FullName::MAX_LEN)]
    TooLong,
    #[error("full_name must not contain control characters")]
    ControlCharacters,
}

impl ErrorCode for FullNameError {
    fn code(&self) -> &'static str {
        match self {
            Self::Blank => "blank",
            Self::TooLong => "too_long",
            Self::ControlCharacters => "invalid_characters",
        }
    }
}

impl FullName {
    pub const MAX_LEN: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, FullNameError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(FullNameError::Blank);
        }
        if trimmed.chars().count() > Self::MAX_LEN {
            return Err(FullNameError::TooLong);
        }
        if has_control_characters(trimmed) {
            return Err(FullNameError::ControlCharacters);
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FullName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fake::Fake;
    use fake::faker::name::en::Name;

    #[test]
    fn names_are_trimmed() {
        let name = FullName::parse("  Ada Lovelace \n").expect("valid");
        assert_eq!(name.as_str(), "Ada Lovelace");
    }

    #[test]
    fn generated_names_parse_unchanged() {
        for _ in 0..100 {
            let raw: String = Name().fake();
            assert_eq!(FullName::parse(&raw).map(|n| n.0), Ok(raw));
        }
    }

    #[test]
    fn bad_names_are_refused_with_a_reason() {
        let cases = [
            (String::new(), FullNameError::Blank),
            ("   ".to_owned(), FullNameError::Blank),
            ("ä".repeat(101), FullNameError::TooLong),
            ("Ada\u{0}Lovelace".to_owned(), FullNameError::ControlCharacters),
            ("Ada\u{7}".to_owned(), FullNameError::ControlCharacters),
        ];
        for (raw, expected) in cases {
            assert_eq!(FullName::parse(&raw), Err(expected), "input {raw:?}");
        }
        assert!(FullName::parse(&"ä".repeat(100)).is_ok());
    }
}
