//! Time is an input: the core never reads the system clock.

use jiff::Timestamp;
use std::sync::Mutex;

/// Where "now" comes from. The binary supplies the system clock; tests supply a fixed one.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// A clock that stands still until it is moved; for tests and deterministic generation.
#[derive(Debug)]
pub struct FixedClock {
    now: Mutex<Timestamp>,
}

impl FixedClock {
    pub fn new(now: Timestamp) -> Self {
        Self {
            now: Mutex::new(now),
        }
    }

    pub fn set(&self, now: Timestamp) {
        *self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = now;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_moves_only_when_set() {
        let start = Timestamp::from_second(1_800_000_000).unwrap_or(Timestamp::UNIX_EPOCH);
        let clock = FixedClock::new(start);
        assert_eq!(clock.now(), start);
        let later = Timestamp::from_second(1_800_000_060).unwrap_or(Timestamp::UNIX_EPOCH);
        clock.set(later);
        assert_eq!(clock.now(), later);
    }
}
