//! `warren-verifier`: the claims of Warren's access tokens, and how a Rust service trusts those
//! tokens without calling Warren per request.
//!
//! The claim types and rules ([`WarrenClaims`], [`check_times`], [`validation`],
//! [`pinned_algorithm`]) are what Warren itself issues and verifies with. With the default
//! `fetch` feature, [`WarrenVerifier`] checks a token offline against a cached copy of Warren's
//! JWKS, with the same rules Warren applies minus the database-backed ones (token version,
//! session state): each published key verifies with its own `alg` only (`EdDSA` for Ed25519,
//! `ES256` for P-256), the header `typ` must be `at+jwt`, the `kid` must be a published key,
//! every claim Warren issues is required, `iss` and `aud` must match, `exp` and `nbf` hold with
//! 30 s of leeway, an `iat` in the future is refused and so is a lifetime (`exp - iat`) over
//! the configured maximum.
//!
//! Keys are cached. An unknown `kid` triggers a refetch at most once per
//! [`VerifierConfig::min_refetch_interval`], so forged kids cannot make a service hammer
//! Warren; while Warren is down the cached keys keep working. No lock is held during the HTTP
//! fetch: verifications with known keys never wait for it.
//!
//! ```no_run
//! # async fn demo(token: &str) -> Result<(), warren_verifier::Rejection> {
//! use warren_verifier::{VerifierConfig, WarrenVerifier};
//! let verifier = WarrenVerifier::new(VerifierConfig::new(
//!     "http://127.0.0.1:8000",
//!     "http://localhost:8000",
//!     "warren",
//! ));
//! let claims = verifier.verify(token).await?;
//! println!("user {}", claims.sub);
//! # Ok(()) }
//! ```

mod claims;
#[cfg(feature = "fetch")]
mod keys;
#[cfg(feature = "fetch")]
mod verifier;

pub use claims::{
    ACCESS_TOKEN_TYPE, LEEWAY_SECS, Rejection, SIGNING_ALGORITHMS, WarrenClaims, check_times,
    is_expired, pinned_algorithm, validation,
};
#[cfg(feature = "fetch")]
pub use verifier::{VerifierConfig, WarrenVerifier};
