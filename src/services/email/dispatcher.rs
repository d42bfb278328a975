//! The outbox dispatcher: every instance runs one. It claims due messages (a lease, so a
//! dispatcher that dies mid-delivery leaves them to be retried), delivers them and settles each:
//! sent (body deleted), retried later with exponential backoff and jitter, or failed for good.
//! Delivery is at least once: a crash between the SMTP server's "250" and the commit that
//! records it sends that message again after the lease.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use tokio::sync::{Notify, watch};

use super::transport::{MailTransport, SendError};
use crate::core::clock::Clock;
use crate::domain::ClaimedMail;
use crate::repositories::EmailRepository;

/// Other instances' messages are found by polling at least this often (each is first tried
/// within 2 s of its commit).
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How long a claim lasts; longer than any one delivery (the SMTP timeout is 15 s).
const LEASE: time::Duration = time::Duration::seconds(60);
const BATCH: u32 = 16;
/// No retry waits longer than this, however many attempts.
const MAX_RETRY_DELAY_SECS: u64 = 6 * 3_600;

#[derive(Debug)]
pub struct Dispatcher {
    pub(super) outbox: Arc<dyn EmailRepository>,
    pub(super) transport: MailTransport,
    pub(super) from: Mailbox,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) wake: Arc<Notify>,
    pub(super) max_attempts: u32,
    pub(super) retry_initial_secs: u64,
}

impl Dispatcher {
    /// Runs until `stop` turns true: then claims nothing more, finishes the delivery in hand
    /// and gives the rest of its batch back.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            let now = self.clock.now();
            let batch = match self.outbox.claim(now, now + LEASE, BATCH).await {
                Ok(batch) => batch,
                Err(error) => {
                    tracing::warn!(%error, "email outbox: cannot claim messages");
                    Vec::new()
                }
            };
            let idle = batch.is_empty();
            for mail in batch {
                if *stop.borrow() {
                    self.give_back(&mail).await;
                } else {
                    self.deliver(&mail).await;
                }
            }
            if idle {
                tokio::select! {
                    () = self.wake.notified() => {}
                    () = tokio::time::sleep(POLL_INTERVAL) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    }

    async fn deliver(&self, mail: &ClaimedMail) {
        let outcome = self.transport.send(&self.from, mail).await;
        let settled = match outcome {
            Ok(()) => {
                tracing::info!(message_id = %mail.id, attempts = mail.attempts, "email delivered");
                self.outbox.mark_sent(mail.id, self.clock.now()).await
            }
            Err(SendError::Transient(reason)) if mail.attempts < self.max_attempts => {
                let delay = self.retry_delay(mail.attempts);
                tracing::warn!(message_id = %mail.id, attempts = mail.attempts, %reason,
                    retry_in_secs = delay.whole_seconds(), "email delivery failed; will retry");
                metrics::counter!(crate::core::metrics::OUTBOX_FAILURES).increment(1);
                let at = self.clock.now() + delay;
                self.outbox.settle_failure(mail.id, Some(at), &bounded(&reason)).await
            }
            Err(error) => {
                tracing::error!(message_id = %mail.id, attempts = mail.attempts, %error,
                    counter.email_failed = 1_u64, "email delivery failed for good");
                metrics::counter!(crate::core::metrics::OUTBOX_FAILURES).increment(1);
                self.outbox.settle_failure(mail.id, None, &bounded(&error.to_string())).await
            }
        };
        if let Err(error) = settled {
            // The lease runs out and the message is tried again: at least once, never lost.
            tracing::warn!(message_id = %mail.id, %error, "email outbox: cannot record outcome");
        }
    }

    async fn give_back(&self, mail: &ClaimedMail) {
        if let Err(error) = self.outbox.release(mail.id).await {
            tracing::warn!(message_id = %mail.id, %error, "email outbox: cannot release claim");
        }
    }

    /// `retry_initial_secs × 2^(attempt−1)`, capped, times a random factor in [0.5, 1]: the
    /// ceiling doubles per attempt and instances that failed together do not retry together.
    fn retry_delay(&self, attempts: u32) -> time::Duration {
        let exponent = attempts.saturating_sub(1).min(20);
        let ceiling =
            self.retry_initial_secs.saturating_mul(1 << exponent).min(MAX_RETRY_DELAY_SECS);
        let ceiling_ms = ceiling * 1_000;
        let jitter = getrandom::u64().unwrap_or(0) % (ceiling_ms / 2 + 1);
        let millis = i64::try_from(ceiling_ms - jitter).unwrap_or(i64::MAX);
        time::Duration::milliseconds(millis)
    }
}

/// An SMTP server's reply can be long; the column keeps a bounded excerpt.
fn bounded(reason: &str) -> String {
    reason.chars().take(500).collect()
}
