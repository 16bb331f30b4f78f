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
