//! Per-principal rate limits: fixed windows (one hour by default), separate read and
//! write budgets, in memory (each replica counts on its own).

use std::collections::HashMap;
use std::sync::Mutex;

use sesame_core::id::Id;

/// The state of one budget after a request was counted (or refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decision {
    /// Requests allowed per window.
    pub(crate) limit: u64,
    /// Requests left in this window.
    pub(crate) remaining: u64,
    /// Seconds until the window resets.
    pub(crate) reset: u64,
    /// Whether this request may proceed.
    pub(crate) allowed: bool,
}

#[derive(Debug, Default, Clone, Copy)]
struct Usage {
    window: u64,
    reads: u64,
    writes: u64,
}

/// Counts requests per principal.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    reads: u64,
    writes: u64,
    window_seconds: u64,
    usage: Mutex<HashMap<Id, Usage>>,
}

impl RateLimiter {
    pub(crate) fn new(reads: u64, writes: u64, window_seconds: u64) -> Self {
        Self {
            reads,
            writes,
            window_seconds: window_seconds.max(1),
            usage: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request of `principal` at unix time `now` against its read or write budget.
    pub(crate) fn check(&self, principal: &Id, write: bool, now: u64) -> Decision {
        let window = now / self.window_seconds;
        let reset = self.window_seconds - now % self.window_seconds;
        let limit = if write { self.writes } else { self.reads };
        // A poisoned lock only means another request panicked mid-count; the counts are
        // still plain integers, so keep using them.
        let mut usage = self
            .usage
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if usage.len() > 10_000 {
            usage.retain(|_, u| u.window == window);
        }
        let entry = usage.entry(*principal).or_default();
        if entry.window != window {
            *entry = Usage {
                window,
                reads: 0,
                writes: 0,
            };
        }
        let used = if write {
            &mut entry.writes
        } else {
            &mut entry.reads
        };
        let allowed = *used < limit;
        if allowed {
            *used += 1;
        }
        Decision {
            limit,
            remaining: limit - *used,
            reset,
            allowed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_are_separate_and_reset_with_the_window() {
        let limiter = RateLimiter::new(2, 1, 3600);
        let p = Id::generate();
        let t = 7200;
        assert!(limiter.check(&p, true, t).allowed);
        let refused = limiter.check(&p, true, t + 1);
        assert!(!refused.allowed);
        assert_eq!((refused.remaining, refused.reset), (0, 3599));
        assert!(limiter.check(&p, false, t).allowed);
        let second = limiter.check(&p, false, t);
        assert_eq!((second.allowed, second.remaining), (true, 0));
        assert!(!limiter.check(&p, false, t).allowed);
        assert!(limiter.check(&Id::generate(), false, t).allowed);
        assert!(limiter.check(&p, true, t + 3600).allowed);
    }
}
