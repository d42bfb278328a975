//! A bounded pool for image work: at most one decode per core at a time, each on a blocking
//! thread, so an upload flood neither starves the async runtime nor multiplies the decoders'
//! memory; excess uploads wait their turn.

use std::sync::Arc;

use tokio::sync::Semaphore;

#[derive(Debug, Clone)]
pub struct ImagePool {
    permits: Arc<Semaphore>,
}

impl ImagePool {
    pub fn new(workers: usize) -> Self {
        Self { permits: Arc::new(Semaphore::new(workers.max(1))) }
    }

    /// Runs `work` on a blocking thread once a worker is free. The permit travels with the
    /// work, so a request abandoned mid-decode still counts until the decode ends.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, anyhow::Error> {
        let permit = Arc::clone(&self.permits).acquire_owned().await?;
        let task = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        });
        Ok(task.await?)
    }
}
