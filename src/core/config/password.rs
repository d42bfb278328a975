//! `password.*`: the password policy's configurable part.

use serde::{Deserialize, Serialize};

use super::Problems;
use crate::domain::PasswordPolicy;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordSettings {
    pub min_length: usize,
}

impl Default for PasswordSettings {
    fn default() -> Self {
        Self { min_length: PasswordPolicy::DEFAULT_MIN_LENGTH }
    }
}

impl PasswordSettings {
    pub(super) fn validate(&self, problems: &mut Problems) {
        if PasswordPolicy::new(self.min_length).is_none() {
            problems.refuse("password.min_length", "must be between 8 and 128");
        }
    }
}
