//! Security primitives: password hashing, signing keys, access tokens and second factors.

pub mod client_secrets;
pub mod keys;
pub mod mfa;
pub mod password;
pub mod refresh;
pub mod tokens;

pub use client_secrets::{ClientSecret, ClientSecrets};
pub use keys::{KeyError, KeyRing};
pub use mfa::{MfaKeyError, SecretBox, Unsealable};
pub use password::{HashError, PasswordHasher, Verification};
pub use refresh::{RefreshToken, RefreshTokens};
pub use tokens::{
    AccessTokenClaims, AccessTokens, ClientTokenClaims, IssuedAccessToken, TokenError,
};
