//! Uniform choices from OS randomness, drawn in batches.
//!
//! One `getrandom` call per batch keeps a whole password to a single system call in the
//! common case; rejection sampling keeps every choice exactly uniform (no modulo bias).

use rand::RngCore;
use zeroize::Zeroize;

/// Largest batch of random bytes drawn at once.
const BATCH: usize = 256;

/// A buffer of OS-random bytes, consumed front to back and zeroized when dropped
/// (the bytes determine the password, so they are as secret as the password).
pub(crate) struct RandomBytes {
    buf: [u8; BATCH],
    pos: usize,
    len: usize,
}

impl RandomBytes {
    /// Draws `expected` bytes now (capped at the batch size); more are drawn on demand.
    pub(crate) fn new(expected: usize) -> Self {
        let mut bytes = Self {
            buf: [0; BATCH],
            pos: 0,
            len: 0,
        };
        bytes.refill(expected);
        bytes
    }

    fn refill(&mut self, wanted: usize) {
        let len = wanted.clamp(1, BATCH);
        // Like `Id::generate`, a failing OS CSPRNG is not recoverable: `OsRng` panics,
        // which every binding turns into an error at its boundary.
        rand::rngs::OsRng.fill_bytes(&mut self.buf[..len]);
        self.pos = 0;
        self.len = len;
    }

    fn byte(&mut self) -> u8 {
        if self.pos >= self.len {
            self.refill(BATCH);
        }
        let b = self.buf[self.pos];
        self.buf[self.pos] = 0;
        self.pos += 1;
        b
    }

    /// A uniform integer in `0..n` (`n == 0` is treated as 1: callers pass list sizes).
    ///
    /// Draws the fewest whole bytes that cover `n` and rejects draws in the top partial
    /// block (`zone..`), so every result is exactly equally likely.
    pub(crate) fn below(&mut self, n: u32) -> u32 {
        let n = u64::from(n.max(1));
        let width: u32 = if n <= 0x100 {
            1
        } else if n <= 0x1_0000 {
            2
        } else {
            4
        };
        let range = 1u64 << (8 * width);
        let zone = range - range % n;
        loop {
            let v = (0..width).fold(0u64, |v, _| v << 8 | u64::from(self.byte()));
            if v < zone {
                // `v % n < n <= u32::MAX`, so the narrowing is exact.
                return (v % n) as u32;
            }
        }
    }

    /// A uniformly chosen element of a non-empty byte alphabet.
    pub(crate) fn pick(&mut self, alphabet: &[u8]) -> u8 {
        let n = u32::try_from(alphabet.len()).unwrap_or(1).max(1);
        alphabet
            .get(self.below(n) as usize)
            .copied()
            .unwrap_or_default()
    }
}

impl Drop for RandomBytes {
    fn drop(&mut self) {
        self.buf.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_stays_in_range_across_refills() {
        let mut rng = RandomBytes::new(4);
        for n in [
            0,
            1,
            2,
            3,
            10,
            83,
            255,
            256,
            257,
            630,
            1710,
            7772,
            65_536,
            65_537,
            17_576 * 1000,
            u32::MAX,
        ] {
            for _ in 0..500 {
                assert!(rng.below(n) < n.max(1));
            }
        }
    }

    #[test]
    fn two_byte_draws_reach_the_top_of_the_range() {
        let mut rng = RandomBytes::new(BATCH);
        let max = (0..20_000).map(|_| rng.below(7772)).max().unwrap();
        assert!(max > 7700, "max {max}");
    }
}
