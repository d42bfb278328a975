//! `warren prune`: one full retention pass now, printing what it deleted per table. On a
//! terminal the running tally is redrawn in place after every batch; otherwise (a script, a
//! cron job's log) only the summary line is printed.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Instant;

use crate::cli::Refused;
use crate::core::clock::SystemClock;
use crate::core::config::Settings;
use crate::preflight;
use crate::services::{PassOutcome, PruneTally, Pruner};

pub async fn run(settings: &Settings) -> anyhow::Result<()> {
    let database = preflight::connect_database(settings).await?;
    let retention = Arc::clone(&database.repositories().retention);
    let pruner = Pruner::new(retention, Arc::new(SystemClock), settings);
    let started = Instant::now();
    let terminal = std::io::stdout().is_terminal();
    let outcome = pruner
        .pass(|tally| {
            if terminal {
                redraw(&format!("pruning… {tally} ({:.1} s)", started.elapsed().as_secs_f64()));
            }
        })
        .await;
    database.close().await;
    if terminal {
        redraw("");
    }
    match outcome? {
        PassOutcome::Pruned(tally) => {
            println!("{}", summary(&tally, started.elapsed().as_secs_f64()));
            Ok(())
        }
        PassOutcome::Busy => {
            Err(Refused("another instance is pruning right now; nothing done".to_owned()).into())
        }
    }
}

fn summary(tally: &PruneTally, seconds: f64) -> String {
    format!("pruned {} rows in {seconds:.1} s: {tally}", tally.total())
}

/// Replaces the current terminal line with `line`.
fn redraw(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = write!(stdout, "\r\x1b[2K{line}");
    let _ = stdout.flush();
}
