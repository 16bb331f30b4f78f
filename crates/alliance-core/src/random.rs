//! Randomness is an input too: the binary supplies the operating system's, tests a seeded one.

pub trait Random: Send + Sync {
    /// Fills `buf` with unpredictable bytes.
    fn fill(&self, buf: &mut [u8]);
}

/// `N` random bytes from any source (also through `dyn Random`).
pub fn random_bytes<const N: usize>(random: &dyn Random) -> [u8; N] {
    let mut out = [0u8; N];
    random.fill(&mut out);
    out
}
