//! Record versions: every editable record carries one, and a stale update is refused, never
//! merged (policy section 7).

use serde::{Deserialize, Serialize};

/// A record's version, starting at 1 and rising by one with every accepted change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Version(i64);

impl Version {
    pub const FIRST: Version = Version(1);

    pub fn new(value: i64) -> Result<Self, String> {
        if value >= 1 {
            Ok(Self(value))
        } else {
            Err("A version is a whole number from 1 upwards".to_owned())
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }

    #[must_use]
    pub fn next(self) -> Self {
        Self(self.0.saturating_add(1))
    }

    /// Refuses an update made against anything but the current version.
    pub fn ensure_current(self, expected: Version) -> Result<(), StaleVersion> {
        if self == expected {
            Ok(())
        } else {
            Err(StaleVersion { current: self })
        }
    }
}

/// The update was made against an older (or unknown) version of the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the record has changed since it was read (it is now at version {})", .current.0)]
pub struct StaleVersion {
    pub current: Version,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_current_version_may_be_updated() {
        let v3 = Version::new(3).unwrap_or(Version::FIRST);
        assert_eq!(v3.ensure_current(v3), Ok(()));
        let stale = Version::new(2).unwrap_or(Version::FIRST);
        assert_eq!(v3.ensure_current(stale), Err(StaleVersion { current: v3 }));
        assert_eq!(v3.next().get(), 4);
    }

    #[test]
    fn versions_start_at_one() {
        assert!(Version::new(0).is_err());
        assert!(Version::new(-1).is_err());
        assert_eq!(Version::new(1), Ok(Version::FIRST));
    }
}
