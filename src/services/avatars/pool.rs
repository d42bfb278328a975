//! Where image work runs: a few low-priority threads ([`LowPriorityThreads`]; one core fewer
//! than the machine has, see `startup/wiring.rs`), so an upload flood neither starves the
//! async runtime nor multiplies the decoders' memory over many threads' malloc arenas; excess
//! uploads wait their turn in arrival order.

use crate::core::threads::LowPriorityThreads;

#[derive(Debug, Clone)]
pub struct ImagePool {
    threads: LowPriorityThreads,
}

impl ImagePool {
    pub fn new(workers: usize) -> anyhow::Result<Self> {
        Ok(Self { threads: LowPriorityThreads::start("image", workers)? })
    }

    /// Runs `work` on an image thread once one is free.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, anyhow::Error> {
        Ok(self.threads.run(work).await?)
    }
}
