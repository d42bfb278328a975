//! `events.*`: the live account events WebSocket.

use serde::{Deserialize, Serialize};

use super::Problems;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsSettings {
    /// Open sockets one user may hold on one instance; the next one is refused with 429.
    pub max_sockets_per_user: u32,
}

impl Default for EventsSettings {
    fn default() -> Self {
        Self { max_sockets_per_user: 16 }
    }
}

impl EventsSettings {
    pub(super) fn validate(&self, problems: &mut Problems) {
        problems.within("events.max_sockets_per_user", self.max_sockets_per_user.into(), 1, 1000);
    }
}
