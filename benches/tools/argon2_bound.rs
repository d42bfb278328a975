//! Measures one signin's Argon2id verification, exactly as Warren runs it (its own hashing
//! thread, reused working memory), and prints the signin throughput bound:
//! cores ÷ single-verification time. `make bench` compares signin throughput against it.
//!
//! ```sh
//! cargo run --release --example argon2_bound
//! ```

use std::time::Instant;

use warren::core::security::PasswordHasher;
use warren::domain::{CandidatePassword, Password, PasswordPolicy};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let hasher = PasswordHasher::new(PasswordHasher::recommended_params(), 1)?;
    let password = Password::parse("argon2 bound measurement", PasswordPolicy::default(), None)?;
    let stored = hasher.hash(&password).await?; // also pages the working memory in
    let candidate = CandidatePassword::new("argon2 bound measurement");
    let rounds = 40;
    let started = Instant::now();
    for _ in 0..rounds {
        hasher.verify(&candidate, Some(&stored)).await?;
    }
    let single_ms = started.elapsed().as_secs_f64() * 1000.0 / f64::from(rounds);
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    #[allow(clippy::cast_precision_loss)] // a core count is far below 2^52
    let bound = cores as f64 * 1000.0 / single_ms;
    println!("single_hash_ms={single_ms:.2} cores={cores} bound_per_sec={bound:.1}");
    Ok(())
}
