//! The password-reset requests waiting for their lookup. `POST /auth/forgot-password` answers
//! before it looks the address up, so neither the answer nor its timing tells whether an
//! account exists; this bounds that after-work, so a flood of requests cannot take the
//! database from other requests or grow memory without limit.
//!
//! The bound is a rate, not only a concurrency: each of the [`RUNNING`] turns is taken at most
//! once per [`SPACING`], so at most 200 lookups a second per instance — far above what real
//! users ask for, and little enough that a flood's lookups cost other requests almost nothing.
//! Two lookups back to back without pause kept two Postgres server processes busy, and
//! `/users/me`'s p99 during a forgot-password flood went over 10 ms (see docs/performance.md).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

/// Lookups running at once.
const RUNNING: usize = 2;
/// The least time between the starts of two lookups in one turn.
const SPACING: Duration = Duration::from_millis(10);
/// Requests accepted and not finished (running or waiting their turn); beyond it, dropped.
/// At the full rate the last one waits about five seconds.
const BACKLOG: usize = 1024;

#[derive(Debug)]
pub(super) struct ResetQueue {
    backlog: Arc<Semaphore>,
    running: Arc<Semaphore>,
    spacing: Duration,
}

impl ResetQueue {
    pub(super) fn new() -> Self {
        Self::with_spacing(SPACING)
    }

    fn with_spacing(spacing: Duration) -> Self {
        Self {
            backlog: Arc::new(Semaphore::new(BACKLOG)),
            running: Arc::new(Semaphore::new(RUNNING)),
            spacing,
        }
    }

    /// Runs `work` in the background, at most [`RUNNING`] at a time and each turn at most once
    /// per [`SPACING`]; `false` when the backlog is full and `work` was dropped.
    pub(super) fn push(&self, work: impl Future<Output = ()> + Send + 'static) -> bool {
        let Ok(place) = Arc::clone(&self.backlog).try_acquire_owned() else {
            return false;
        };
        let running = Arc::clone(&self.running);
        let spacing = self.spacing;
        tokio::spawn(async move {
            // The semaphore is never closed, so the turn always comes.
            let Ok(_turn) = running.acquire_owned().await else { return };
            let started = tokio::time::Instant::now();
            work.await;
            // The request is done and leaves the backlog; its turn waits out the spacing.
            drop(place);
            tokio::time::sleep_until(started + spacing).await;
        });
        true
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_full_backlog_drops_new_work_and_at_most_two_run_at_once() {
        let queue = ResetQueue::with_spacing(Duration::ZERO);
        let (running, peak, done) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
        );
        let (release, released) = tokio::sync::watch::channel(false);
        let accepted = (0..BACKLOG + 10)
            .filter(|_| {
                let (running, peak, done) = (running.clone(), peak.clone(), done.clone());
                let mut released = released.clone();
                queue.push(async move {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    let _ = released.wait_for(|released| *released).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    done.fetch_add(1, Ordering::SeqCst);
                })
            })
            .count();
        assert_eq!(accepted, BACKLOG);
        while running.load(Ordering::SeqCst) < RUNNING {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await; // room for a third to start, wrongly
        release.send(true).expect("the workers are waiting");
        while done.load(Ordering::SeqCst) < BACKLOG {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(peak.load(Ordering::SeqCst), RUNNING);
        assert!(queue.push(async {}), "room again once the backlog drained");
    }

    #[tokio::test]
    async fn each_turn_starts_at_most_one_lookup_per_spacing() {
        let spacing = Duration::from_millis(100);
        let queue = ResetQueue::with_spacing(spacing);
        let starts = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (finished, mut all_finished) = tokio::sync::mpsc::channel(4);
        for _ in 0..4 {
            let (starts, finished) = (starts.clone(), finished.clone());
            assert!(queue.push(async move {
                starts.lock().expect("not poisoned").push(tokio::time::Instant::now());
                finished.send(()).await.expect("the test waits");
            }));
        }
        for _ in 0..4 {
            all_finished.recv().await.expect("every lookup runs");
        }

        let mut starts = starts.lock().expect("not poisoned").clone();
        starts.sort();
        // Two turns: the third and fourth lookups wait for the first two turns' spacing. A turn
        // counts from just before its lookup records its start, hence a millisecond less.
        let at_least = Duration::from_millis(99);
        assert!(
            starts[2] - starts[0] >= at_least,
            "third started {:?} after the first",
            starts[2] - starts[0]
        );
        assert!(
            starts[3] - starts[1] >= at_least,
            "fourth started {:?} after the second",
            starts[3] - starts[1]
        );
    }
}
