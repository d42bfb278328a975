//! `avatar.*`: how large an upload may be and the size avatars are stored at.

use serde::{Deserialize, Serialize};

use super::Problems;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvatarSettings {
    /// The largest upload accepted, multipart framing included; above it → 413.
    pub max_upload_bytes: u64,
    /// Stored avatars fit in a square of this many pixels a side.
    pub size: u32,
}

impl Default for AvatarSettings {
    fn default() -> Self {
        Self { max_upload_bytes: 5 * 1024 * 1024, size: 256 }
    }
}

impl AvatarSettings {
    pub(super) fn validate(&self, problems: &mut Problems) {
        // Bounded so a flood of maximal uploads stays within the memory budget.
        problems.within("avatar.max_upload_bytes", self.max_upload_bytes, 1024, 32 * 1024 * 1024);
        problems.within("avatar.size", self.size.into(), 16, 1024);
    }
}
