//! The one place the system clock is read.

use alliance_core::Clock;
use jiff::Timestamp;

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}
