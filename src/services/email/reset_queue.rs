//! The password-reset requests waiting for their lookup. `POST /auth/forgot-password` answers
//! before it looks the address up, so neither the answer nor its timing tells whether an
//! account exists; this bounds that after-work, so a flood of requests cannot take the
//! database pool from other requests or grow memory without limit.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::Semaphore;

/// Lookups running at once: plenty for real users, and leaves the pool to requests.
const RUNNING: usize = 2;
/// Requests accepted and not finished (running or waiting their turn); beyond it, dropped.
const BACKLOG: usize = 1024;

#[derive(Debug)]
pub(super) struct ResetQueue {
    backlog: Arc<Semaphore>,
    running: Arc<Semaphore>,
}

impl ResetQueue {
    pub(super) fn new() -> Self {
        Self {
            backlog: Arc::new(Semaphore::new(BACKLOG)),
            running: Arc::new(Semaphore::new(RUNNING)),
        }
    }

    /// Runs `work` in the background, at most [`RUNNING`] at a time; `false` when the backlog
    /// is full and `work` was dropped.
    pub(super) fn push(&self, work: impl Future<Output = ()> + Send + 'static) -> bool {
        let Ok(place) = Arc::clone(&self.backlog).try_acquire_owned() else {
            return false;
        };
        let running = Arc::clone(&self.running);
        tokio::spawn(async move {
            let _place = place;
            // The semaphore is never closed, so the turn always comes.
            if let Ok(_turn) = running.acquire_owned().await {
                work.await;
            }
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
        let queue = ResetQueue::new();
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
}
