//! Identifiers: UUID v7, time-ordered (good index locality) and never reused.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh identifier; v7 embeds the time so ids never collide with old ones.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

uuid_id!(
    /// Identifies a user account.
    UserId
);
uuid_id!(
    /// Identifies one signed-in session (one device or browser).
    SessionId
);
uuid_id!(
    /// Identifies a service client (OAuth 2.0 client credentials): its `client_id`.
    ClientId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_version_7_and_increasing() {
        let first = UserId::generate();
        let second = UserId::generate();
        assert_eq!(first.as_uuid().get_version_num(), 7);
        assert!(second.as_uuid() > first.as_uuid());
    }
}
