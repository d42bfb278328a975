//! Service clients: other services that authenticate with a client id and secret (OAuth 2.0
//! client credentials) and act within their scopes.

use time::OffsetDateTime;

use super::{ClientId, has_control_characters};

/// What a client token may do. The set is closed: anything else is refused where it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Read accounts and the audit trail through the admin API.
    AdminRead,
    /// Change, sign out and delete accounts through the admin API.
    AdminWrite,
    /// Ask whether a token is live (token introspection).
    Introspect,
}

impl Scope {
    pub const ALL: [Self; 3] = [Self::AdminRead, Self::AdminWrite, Self::Introspect];

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AdminRead => "admin:read",
            Self::AdminWrite => "admin:write",
            Self::Introspect => "introspect",
        }
    }
}

/// A set of scopes, in a fixed order, written space-separated as OAuth's `scope` parameter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(std::collections::BTreeSet<Scope>);

impl Scopes {
    /// Parses a space-separated list (RFC 6749 §3.3); `Err` names the first unknown scope.
    pub fn parse(text: &str) -> Result<Self, String> {
        text.split(' ')
            .filter(|name| !name.is_empty())
            .map(|name| Scope::parse(name).ok_or_else(|| name.to_owned()))
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn is_subset(&self, of: &Self) -> bool {
        self.0.is_subset(&of.0)
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.iter().map(Scope::as_str).collect()
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl std::fmt::Display for Scopes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.names().join(" "))
    }
}

/// A client's name, for people: 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientName(String);

impl ClientName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > Self::MAX_CHARS {
            return Err("a client name is 1 to 100 characters");
        }
        if has_control_characters(text) {
            return Err("a client name has no control characters");
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A registered client; its secret is never part of it (only its keyed hash is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceClient {
    pub id: ClientId,
    pub name: ClientName,
    pub scopes: Scopes,
    pub created_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_space_separated_and_refuse_unknown_names() {
        let scopes = Scopes::parse("introspect  admin:read").expect("known scopes");
        assert_eq!(scopes.to_string(), "admin:read introspect");
        assert_eq!(Scopes::parse("admin:read admin"), Err("admin".to_owned()));
        assert!(Scopes::parse("").expect("empty").is_empty());
    }

    #[test]
    fn client_names_are_short_printable_text() {
        assert_eq!(ClientName::parse(" billing ").expect("valid").as_str(), "billing");
        assert!(ClientName::parse("").is_err());
        assert!(ClientName::parse("a\nb").is_err());
        assert!(ClientName::parse(&"x".repeat(101)).is_err());
    }
}
