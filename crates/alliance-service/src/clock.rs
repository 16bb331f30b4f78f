//! The one place the system clock and the operating system's randomness are read.

use alliance_core::Clock;
use alliance_core::random::Random;
use jiff::Timestamp;
use rand::TryRngCore;

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// The system clock moved to start at a chosen instant and run on from there: for rehearsing
/// and testing what happens at 02:00 on a Sunday, never for a live service (the server says
/// so loudly when it starts with one).
#[derive(Debug, Clone, Copy)]
pub struct ShiftedClock {
    offset: jiff::SignedDuration,
}

impl ShiftedClock {
    pub fn starting_at(start: Timestamp) -> Self {
        Self {
            offset: start.duration_since(Timestamp::now()),
        }
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
            .checked_add(self.offset)
            .unwrap_or_else(|_| Timestamp::now())
    }
}

/// The operating system's random number generator.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        // The OS generator failing is not something the application can recover from.
        if rand::rngs::OsRng.try_fill_bytes(buf).is_err() {
            std::process::abort();
        }
    }
}
