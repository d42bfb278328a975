//! Data retention: every instance runs a [`Pruner`] that deletes what has served its purpose
//! (ended sessions, expired tokens and ceremonies, settled outbox rows, old audit events) and
//! erases old audit events' IP addresses, so the database stays the same size under a steady
//! workload and personal data is not kept longer than it is needed. `warren prune` runs one
//! pass by hand.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::watch;

use crate::core::clock::Clock;
use crate::core::config::Settings;
use crate::core::metrics::{RETENTION_DELETED_ROWS, RETENTION_ERASED_ROWS};
use crate::repositories::{
    EXPIRING_TABLES, MAX_PRUNE_BATCH, OUTBOX_TABLES, Prune, RepoError, RetentionRepository,
};

/// The pause between two batches: other writers (SQLite has one write connection) get their
/// turn, so a large backlog never holds requests up for long.
const BATCH_PAUSE: Duration = Duration::from_millis(25);
/// The first pass after start comes this soon (or after the interval, if that is shorter).
const FIRST_PASS_AFTER: Duration = Duration::from_secs(60);
/// An event notice nobody read in this long never will be.
const NOTICE_LIFETIME: time::Duration = time::Duration::minutes(1);

/// What one pass touched: rows per table (or column, for erasures), in pass order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneTally {
    pub rows: Vec<(&'static str, u64)>,
}

impl PruneTally {
    fn add(&mut self, label: &'static str, count: u64) {
        match self.rows.iter_mut().find(|(name, _)| *name == label) {
            Some((_, total)) => *total += count,
            None => self.rows.push((label, count)),
        }
    }

    /// Rows touched under `label` (0 when the pass never reached it).
    pub fn get(&self, label: &str) -> u64 {
        self.rows.iter().find(|(name, _)| *name == label).map_or(0, |(_, count)| *count)
    }

    pub fn total(&self) -> u64 {
        self.rows.iter().map(|(_, count)| count).sum()
    }
}

impl std::fmt::Display for PruneTally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> =
            self.rows.iter().map(|(label, count)| format!("{label}={count}")).collect();
        f.write_str(&parts.join(" "))
    }
}

/// Whether a pass ran: on Postgres another instance may hold the lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PassOutcome {
    Pruned(PruneTally),
    /// Another instance is pruning; this one did nothing.
    Busy,
}

#[derive(Debug, Clone)]
pub struct Pruner {
    repository: Arc<dyn RetentionRepository>,
    clock: Arc<dyn Clock>,
    sessions: time::Duration,
    outbox: time::Duration,
    audit: time::Duration,
    addresses: time::Duration,
    interval: Duration,
}

fn days(days: u32) -> time::Duration {
    time::Duration::days(days.into())
}

impl Pruner {
    pub fn new(
        repository: Arc<dyn RetentionRepository>,
        clock: Arc<dyn Clock>,
        settings: &Settings,
    ) -> Self {
        let retention = &settings.retention;
        // The resend interval looks at recent outbox rows: none may go while they still count.
        let resend = i64::try_from(settings.email.resend_interval_secs).unwrap_or(i64::MAX);
        Self {
            repository,
            clock,
            sessions: days(retention.sessions_days),
            outbox: days(retention.outbox_days).max(time::Duration::seconds(resend)),
            audit: days(retention.audit_days),
            addresses: days(retention.ip_days),
            interval: Duration::from_secs(retention.interval_secs),
        }
    }

    /// Every rule with its cutoff at `now`, in the order a pass applies them (a session's
    /// tokens before the session, so no delete cascades past its batch).
    fn rules(&self, now: OffsetDateTime) -> Vec<(Prune, OffsetDateTime)> {
        let mut rules = vec![
            (Prune::EndedSessionTokens, now - self.sessions),
            (Prune::EndedSessions, now - self.sessions),
        ];
        rules.extend(EXPIRING_TABLES.iter().map(|&table| (Prune::Expired(table), now)));
        rules.extend(OUTBOX_TABLES.iter().map(|&table| (Prune::Settled(table), now - self.outbox)));
        rules.push((Prune::AuditEvents, now - self.audit));
        rules.push((Prune::AuditAddresses, now - self.addresses));
        rules.push((Prune::EventNotices, now - NOTICE_LIFETIME));
        rules
    }

    /// One full pass, unless another instance is pruning. `progress` hears the running tally
    /// after every batch.
    pub async fn pass(
        &self,
        mut progress: impl FnMut(&PruneTally) + Send,
    ) -> Result<PassOutcome, RepoError> {
        let Some(lock) = self.repository.try_lock().await? else {
            return Ok(PassOutcome::Busy);
        };
        let pruned = self.prune_all(&mut progress).await;
        if let Err(error) = lock.release().await {
            tracing::warn!(%error, "retention: lock not released cleanly; its session ends");
        }
        pruned.map(PassOutcome::Pruned)
    }

    async fn prune_all(
        &self,
        progress: &mut (impl FnMut(&PruneTally) + Send),
    ) -> Result<PruneTally, RepoError> {
        let mut tally = PruneTally::default();
        for (rule, cutoff) in self.rules(self.clock.now()) {
            tally.add(rule.label(), 0);
            loop {
                let touched = self.repository.prune(rule, cutoff, MAX_PRUNE_BATCH).await?;
                tally.add(rule.label(), touched);
                let series =
                    if rule.erases() { RETENTION_ERASED_ROWS } else { RETENTION_DELETED_ROWS };
                metrics::counter!(series, "table" => rule.label()).increment(touched);
                progress(&tally);
                if touched < u64::from(MAX_PRUNE_BATCH) {
                    break;
                }
                tokio::time::sleep(BATCH_PAUSE).await;
            }
        }
        Ok(tally)
    }

    /// Prunes every interval until `stop` turns true; a pass in progress is abandoned then
    /// (its open batch rolls back, its lock goes with its connection).
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut wait = FIRST_PASS_AFTER.min(self.interval);
        loop {
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = stop.changed() => return,
            }
            tokio::select! {
                outcome = self.pass(|_| {}) => log_outcome(&outcome),
                _ = stop.changed() => return,
            }
            wait = self.interval;
        }
    }
}

fn log_outcome(outcome: &Result<PassOutcome, RepoError>) {
    match outcome {
        Ok(PassOutcome::Pruned(tally)) if tally.total() > 0 => {
            tracing::info!(rows = tally.total(), %tally, "retention: pruned");
        }
        Ok(PassOutcome::Pruned(_)) => tracing::debug!("retention: nothing to prune"),
        Ok(PassOutcome::Busy) => tracing::debug!("retention: another instance is pruning"),
        Err(error) => tracing::warn!(%error, "retention: pass failed; trying again next time"),
    }
}
