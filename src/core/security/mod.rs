//! Security primitives: password hashing, signing keys and access tokens.

pub mod keys;
pub mod password;
pub mod refresh;
pub mod tokens;

pub use keys::{KeyError, KeyRing};
pub use password::{HashError, PasswordHasher, Verification};
pub use refresh::{RefreshToken, RefreshTokens};
pub use tokens::{AccessTokenClaims, AccessTokens, IssuedAccessToken, TokenError};
