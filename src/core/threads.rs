//! Fixed sets of low-priority OS threads for the CPU-heavy work requests cause: password
//! hashing and avatar decoding. Never on the async workers (a hash or a decode would stall
//! every request on that worker), and never on tokio's blocking pool: it rotates work over
//! many threads, and glibc gives each its own malloc arena that keeps what it was given (a
//! signin flood measured 1 GiB that way; see docs/performance.md).
//!
//! The threads run under Linux's `SCHED_IDLE` policy: any other thread that wakes on a core
//! running one of them takes the core at once, and a core running only them counts as free
//! when the scheduler places a waking thread. So a flood of signins or uploads barely moves
//! other requests' latency, and with nothing else to run the work still gets every cycle: its
//! own throughput is unchanged. Niceness 19 (weight 15 against 1024) is the fallback where the
//! policy is refused; it favours requests too, but leaves a hash holding a core until the next
//! scheduler tick (4 ms) when a request wakes beside it, which doubled `/users/me`'s p99 during
//! a flood on Postgres (see docs/performance.md).

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};

/// The lowest priority a thread can give itself without `SCHED_IDLE`.
const NICENESS: i32 = 19;

type Job = Box<dyn FnOnce() + Send>;

/// The threads stopped (they end when the last clone of their set is dropped).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the {0} threads are gone")]
pub struct ThreadsGone(&'static str);

/// `count` threads running jobs in arrival order.
#[derive(Debug, Clone)]
pub struct LowPriorityThreads {
    name: &'static str,
    jobs: mpsc::Sender<Job>,
    count: usize,
}

impl LowPriorityThreads {
    pub fn start(name: &'static str, count: usize) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..count.max(1) {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new().name(format!("{name}-{index}")).spawn(move || {
                lower_priority(name);
                loop {
                    // The lock is released before the job runs.
                    let next = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
                    let Ok(job) = next else { break };
                    // A panicking job must not take its thread with it.
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                }
            })?;
        }
        Ok(Self { name, jobs, count: count.max(1) })
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// Runs `work` on one of the threads. Work whose caller has gone away meanwhile (the
    /// client disconnected, or its time budget ran out) is dropped rather than done for
    /// nobody.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ThreadsGone> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            if !done.is_closed() {
                let _ = done.send(work());
            }
        });
        self.jobs.send(job).map_err(|_| ThreadsGone(self.name))?;
        result.await.map_err(|_| ThreadsGone(self.name))
    }
}

/// `SCHED_IDLE` for the calling thread, else niceness [`NICENESS`].
fn lower_priority(name: &str) {
    use thread_priority::{NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy};

    let idle = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
    let Err(refused) = thread_priority::set_thread_priority_and_policy(
        thread_priority::thread_native_id(),
        ThreadPriority::Min,
        idle,
    ) else {
        return;
    };
    let thread = rustix::thread::gettid();
    if let Err(error) = rustix::process::setpriority_process(Some(thread), NICENESS) {
        tracing::warn!(%error, threads = name, "could not lower the threads' priority");
    } else {
        tracing::info!(error = ?refused, threads = name, "SCHED_IDLE refused: niceness 19 instead");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_on_a_named_thread_and_a_panic_leaves_the_thread_working() {
        let threads = LowPriorityThreads::start("test", 1).expect("start");

        let name = threads.run(|| std::thread::current().name().map(str::to_owned)).await;
        let panicked = threads.run(|| panic!("a job panics")).await;
        let after = threads.run(|| 2 + 2).await;

        assert_eq!(name.expect("ran").as_deref(), Some("test-0"));
        assert!(panicked.is_err(), "the caller learns its job did not finish");
        assert_eq!(after.expect("the thread survived"), 4);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn the_work_runs_under_sched_idle() {
        use thread_priority::{NormalThreadSchedulePolicy, ThreadSchedulePolicy};
        let threads = LowPriorityThreads::start("test", 1).expect("start");

        let policy = threads.run(thread_priority::thread_schedule_policy).await;

        assert_eq!(
            policy.expect("ran").expect("the policy reads"),
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle),
            "any other thread takes the core from this work"
        );
    }
}
