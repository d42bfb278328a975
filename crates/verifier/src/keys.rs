//! The cached JWKS: Warren's public keys by `kid`, refetched on demand at a bounded rate.

use std::collections::HashMap;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::sync::Notify;

use crate::VerifierConfig;

/// When the JWKS was last fetched and whether a fetch is running now.
#[derive(Default)]
struct FetchState {
    last_started: Option<Instant>,
    in_flight: bool,
}

/// What a caller missing a key should do.
enum Plan {
    Fetch,
    WaitForRunningFetch,
    GiveUp,
}

pub(crate) struct KeyCache {
    jwks_url: String,
    min_refetch_interval: Duration,
    fetch_timeout: Duration,
    http: reqwest::Client,
    /// Each key with the one algorithm it verifies.
    keys: RwLock<HashMap<String, (DecodingKey, Algorithm)>>,
    state: Mutex<FetchState>,
    fetched: Notify,
    fetches: AtomicUsize,
}

impl KeyCache {
    pub(crate) fn new(config: VerifierConfig) -> Self {
        let http = reqwest::Client::builder()
            .timeout(config.fetch_timeout)
            .build()
            .expect("a client without TLS options always builds");
        Self {
            jwks_url: config.jwks_url,
            min_refetch_interval: config.min_refetch_interval,
            fetch_timeout: config.fetch_timeout,
            http,
            keys: RwLock::default(),
            state: Mutex::default(),
            fetched: Notify::new(),
            fetches: AtomicUsize::new(0),
        }
    }

    pub(crate) fn fetch_count(&self) -> usize {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The key for `kid`, refetching the JWKS once if it is unknown and the rate limit allows.
    pub(crate) async fn key(&self, kid: &str) -> Option<(DecodingKey, Algorithm)> {
        if let Some(key) = self.cached(kid) {
            return Some(key);
        }
        self.refetch().await;
        self.cached(kid)
    }

    fn cached(&self, kid: &str) -> Option<(DecodingKey, Algorithm)> {
        self.keys.read().unwrap_or_else(PoisonError::into_inner).get(kid).cloned()
    }

    /// Fetches the JWKS unless one was started within the interval; joins a running fetch.
    pub(crate) async fn refetch(&self) {
        // Registered before looking at the state, so a fetch finishing in between still wakes us.
        let mut notified = pin!(self.fetched.notified());
        notified.as_mut().enable();
        match self.plan() {
            Plan::Fetch => {}
            Plan::WaitForRunningFetch => {
                let _ = tokio::time::timeout(self.fetch_timeout, notified).await;
                return;
            }
            Plan::GiveUp => return,
        }
        let _finished = FetchFinished(self);
        self.fetches.fetch_add(1, Ordering::Relaxed);
        match self.fetch().await {
            Ok(keys) => *self.keys.write().unwrap_or_else(PoisonError::into_inner) = keys,
            Err(error) => tracing::warn!(%error, "JWKS fetch failed; keeping the cached keys"),
        }
    }

    fn plan(&self) -> Plan {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.in_flight {
            return Plan::WaitForRunningFetch;
        }
        if state.last_started.is_some_and(|at| at.elapsed() < self.min_refetch_interval) {
            return Plan::GiveUp;
        }
        state.last_started = Some(Instant::now());
        state.in_flight = true;
        Plan::Fetch
    }

    /// The published keys Warren signs with; a key without a fitting `alg` is skipped.
    async fn fetch(&self) -> Result<HashMap<String, (DecodingKey, Algorithm)>, reqwest::Error> {
        let jwks: JwkSet =
            self.http.get(&self.jwks_url).send().await?.error_for_status()?.json().await?;
        Ok(jwks
            .keys
            .iter()
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                let algorithm = crate::pinned_algorithm(jwk)?;
                DecodingKey::from_jwk(jwk).ok().map(|key| (kid, (key, algorithm)))
            })
            .collect())
    }
}

/// Ends a fetch even when its caller is cancelled mid-request, so waiters never hang.
struct FetchFinished<'a>(&'a KeyCache);

impl Drop for FetchFinished<'_> {
    fn drop(&mut self) {
        self.0.state.lock().unwrap_or_else(PoisonError::into_inner).in_flight = false;
        self.0.fetched.notify_waiters();
    }
}
