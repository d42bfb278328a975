//! Chat's domain types: input parsed once at the edge, so invalid values cannot exist further in.

use serde::Serialize;
use unicode_segmentation::UnicodeSegmentation;
use utoipa::ToSchema;
use uuid::Uuid;

/// Why a value was refused, as `{field, code, message}` in a 422.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    fn new(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self { field, code, message: message.into() }
    }
}

/// A room name: 1..=64 characters after trimming surrounding whitespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomName(String);

impl RoomName {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim();
        match name.chars().count() {
            0 => Err(FieldError::new("name", "required", "name must not be empty")),
            n if n > Self::MAX_CHARS => {
                Err(FieldError::new("name", "too_long", "name must be at most 64 characters"))
            }
            _ => Ok(Self(name.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A message body: 1..=4000 characters, kept exactly as sent (never trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageContent(String);

impl MessageContent {
    pub const MAX_CHARS: usize = 4000;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if raw.trim().is_empty() {
            return Err(FieldError::new("content", "required", "content must not be empty"));
        }
        if raw.chars().count() > Self::MAX_CHARS {
            let message = "content must be at most 4000 characters";
            return Err(FieldError::new("content", "too_long", message));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One emoji: a single extended grapheme cluster that is an emoji.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emoji(String);

impl Emoji {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let one_grapheme = raw.graphemes(true).count() == 1;
        if one_grapheme && emojis::get(raw).is_some() {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new("emoji", "not_an_emoji", "emoji must be exactly one emoji"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user as other members see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UserRef {
    pub id: Uuid,
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_names_are_trimmed_and_bounded() {
        assert_eq!(RoomName::parse("  Burrow  ").expect("valid").as_str(), "Burrow");
        assert_eq!(RoomName::parse(&"é".repeat(64)).map(|n| n.0.chars().count()), Ok(64));
        for bad in ["", "   ", &"x".repeat(65)] {
            assert!(RoomName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn message_content_is_bounded_by_characters_not_bytes() {
        assert!(MessageContent::parse(&"é".repeat(4000)).is_ok());
        assert_eq!(MessageContent::parse(&"a".repeat(4001)).map_err(|e| e.code), Err("too_long"));
        assert_eq!(MessageContent::parse(" \n ").map_err(|e| e.code), Err("required"));
        assert_eq!(MessageContent::parse(" hi ").expect("valid").as_str(), " hi ");
    }

    #[test]
    fn an_emoji_is_one_emoji_grapheme() {
        for good in ["👍", "❤️", "👩‍👩‍👧", "🇫🇷", "👍🏽"] {
            assert!(Emoji::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "a", "ok", "👍👍", "👍 ", ":+1:", "1"] {
            assert!(Emoji::parse(bad).is_err(), "{bad:?}");
        }
    }
}
