//! Per-principal rate limits: fixed windows (one hour by default), separate read and
//! write budgets, counted across every replica that shares the database.
//!
//! Every principal gets the server's default budgets unless the owner set its own
//! (`PUT /v1/principals/{id}/rate-limit`). Those overrides live in the database and are
//! copied into this limiter at start, after every change made through this replica, and
//! every [`SYNC_INTERVAL`] from the database (so a change made through another replica
//! applies here within that time). Counting a request takes one uncontended lock and no
//! database query: each replica counts in memory and, every [`SYNC_INTERVAL`], adds its
//! new counts to the database's and learns the other replicas' (see [`sync`]). A budget
//! is therefore shared by all replicas, and a burst can exceed it by at most what the
//! other replicas admit within one interval.

use std::collections::HashMap;
use std::sync::Mutex;

use sesame_core::api::{PrincipalRateLimit, RateLimitSettings};
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

/// How often a replica shares its counts and reloads the overrides.
pub(crate) const SYNC_INTERVAL: std::time::Duration = std::time::Duration::from_millis(250);

/// A principal's use of its budgets in one window.
#[derive(Debug, Default, Clone, Copy)]
struct Usage {
    window: u64,
    /// Requests this replica admitted.
    reads: u64,
    writes: u64,
    /// How many of them the database already has.
    pushed_reads: u64,
    pushed_writes: u64,
    /// Requests the other replicas admitted, as of the last sync.
    others_reads: u64,
    others_writes: u64,
}

/// One principal's new counts in a window, to add to the database's.
pub(crate) type Counts = (Id, u64, u64);

#[derive(Debug, Default)]
struct State {
    usage: HashMap<Id, Usage>,
    overrides: HashMap<Id, RateLimitSettings>,
}

/// Counts requests per principal.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    reads: u64,
    writes: u64,
    window_seconds: u64,
    state: Mutex<State>,
    /// Held across the database write and the update of `overrides`, so that concurrent
    /// changes land in memory in the order they were committed.
    updates: tokio::sync::Mutex<()>,
    /// Whether the store shares counts between replicas (until it says it does not).
    shared: std::sync::atomic::AtomicBool,
}

impl RateLimiter {
    pub(crate) fn new(reads: u64, writes: u64, window_seconds: u64) -> Self {
        Self {
            reads,
            writes,
            window_seconds: window_seconds.max(1),
            state: Mutex::new(State::default()),
            updates: tokio::sync::Mutex::new(()),
            shared: std::sync::atomic::AtomicBool::new(true),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock only means another request panicked mid-count; the counts are
        // still plain integers, so keep using them.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Replaces every override (at start, from the database).
    pub(crate) fn load(&self, overrides: impl IntoIterator<Item = (Id, RateLimitSettings)>) {
        self.state().overrides = overrides.into_iter().collect();
    }

    /// Serializes changes of overrides: hold the guard across the database write and
    /// [`set_override`](Self::set_override).
    pub(crate) async fn lock_updates(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.updates.lock().await
    }

    /// Sets (or, with both budgets `None`, removes) a principal's own budgets. Requests
    /// already counted in this window stay counted.
    pub(crate) fn set_override(&self, principal: Id, settings: RateLimitSettings) {
        let mut state = self.state();
        if settings == RateLimitSettings::default() {
            state.overrides.remove(&principal);
        } else {
            state.overrides.insert(principal, settings);
        }
    }

    /// A principal's own budgets and the ones that apply to it.
    pub(crate) fn describe(&self, principal: &Id) -> PrincipalRateLimit {
        let own = self
            .state()
            .overrides
            .get(principal)
            .copied()
            .unwrap_or_default();
        PrincipalRateLimit {
            principal_id: *principal,
            reads: own.reads,
            writes: own.writes,
            effective_reads: own.reads.unwrap_or(self.reads),
            effective_writes: own.writes.unwrap_or(self.writes),
            window_seconds: self.window_seconds,
        }
    }

    /// Counts one request of `principal` at unix time `now` against its read or write budget.
    pub(crate) fn check(&self, principal: &Id, write: bool, now: u64) -> Decision {
        let window = now / self.window_seconds;
        let reset = self.window_seconds - now % self.window_seconds;
        let mut state = self.state();
        let own = state.overrides.get(principal).copied().unwrap_or_default();
        let limit = if write {
            own.writes.unwrap_or(self.writes)
        } else {
            own.reads.unwrap_or(self.reads)
        };
        if state.usage.len() > 10_000 {
            state.usage.retain(|_, u| u.window == window);
        }
        let entry = state.usage.entry(*principal).or_default();
        if entry.window != window {
            *entry = Usage {
                window,
                ..Usage::default()
            };
        }
        let (mine, others) = if write {
            (&mut entry.writes, entry.others_writes)
        } else {
            (&mut entry.reads, entry.others_reads)
        };
        let allowed = *mine + others < limit;
        if allowed {
            *mine += 1;
        }
        Decision {
            limit,
            // A budget lowered below what was already used this window has nothing left.
            remaining: limit.saturating_sub(*mine + others),
            reset,
            allowed,
        }
    }

    /// The counts of window `now / window_seconds` not yet in the database, marked as
    /// pushed (give them back with [`unpush`](Self::unpush) if the push fails), for every
    /// principal this replica saw in the window: a zero count still asks for the other
    /// replicas' totals.
    fn take_unpushed(&self, now: u64) -> (u64, Vec<Counts>) {
        let window = now / self.window_seconds;
        let mut state = self.state();
        let counts = state
            .usage
            .iter_mut()
            .filter(|(_, u)| u.window == window)
            .map(|(id, u)| {
                let new = (*id, u.reads - u.pushed_reads, u.writes - u.pushed_writes);
                u.pushed_reads = u.reads;
                u.pushed_writes = u.writes;
                new
            })
            .collect();
        (window, counts)
    }

    /// Counts whose push failed: they go with the next one.
    fn unpush(&self, window: u64, counts: &[Counts]) {
        let mut state = self.state();
        for (id, reads, writes) in counts {
            if let Some(u) = state.usage.get_mut(id).filter(|u| u.window == window) {
                u.pushed_reads -= reads;
                u.pushed_writes -= writes;
            }
        }
    }

    /// The database's totals for `counts`' principals: whatever this replica did not
    /// push is the other replicas'.
    fn learn(&self, window: u64, counts: &[Counts], totals: &[(u64, u64)]) {
        let mut state = self.state();
        for ((id, _, _), (reads, writes)) in counts.iter().zip(totals) {
            if let Some(u) = state.usage.get_mut(id).filter(|u| u.window == window) {
                u.others_reads = reads.saturating_sub(u.pushed_reads);
                u.others_writes = writes.saturating_sub(u.pushed_writes);
            }
        }
    }

    /// [`check`](Self::check), after learning the other replicas' counts first when this
    /// replica has not counted `principal` in the current window yet: otherwise a replica
    /// would start each principal's window believing the others had used nothing, until
    /// its next sync. One query per principal and window; none once the store said it
    /// shares no counts (SQLite).
    pub(crate) async fn check_shared<S: crate::store::Store>(
        &self,
        store: &S,
        principal: &Id,
        write: bool,
        now: u64,
    ) -> Decision {
        let window = now / self.window_seconds;
        let seen = || {
            self.state()
                .usage
                .get(principal)
                .is_some_and(|u| u.window == window)
        };
        if self.shared.load(std::sync::atomic::Ordering::Relaxed) && !seen() {
            let first = [(*principal, 0, 0)];
            match store
                .add_rate_usage(window, self.window_seconds, &first)
                .await
            {
                Ok(Some(totals)) => {
                    let mut state = self.state();
                    let entry = state.usage.entry(*principal).or_default();
                    if entry.window != window {
                        *entry = Usage {
                            window,
                            ..Usage::default()
                        };
                    }
                    drop(state);
                    self.learn(window, &first, &totals);
                }
                Ok(None) => self
                    .shared
                    .store(false, std::sync::atomic::Ordering::Relaxed),
                Err(e) => tracing::warn!(error = %e, "cannot read shared rate-limit counts"),
            }
        }
        self.check(principal, write, now)
    }
}

/// Every [`SYNC_INTERVAL`], until the store closes: adds this replica's new counts to the
/// database's and learns the others', and reloads the overrides. A database that only one
/// process serves (SQLite) shares no counts; the overrides are still reloaded, which keeps
/// one code path for both backends. Failures are logged and retried at the next tick; the
/// replica keeps counting on its own meanwhile.
pub(crate) async fn sync<S: crate::store::Store>(limiter: &RateLimiter, store: &S) {
    let mut ticks = tokio::time::interval(SYNC_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if limiter.shared.load(std::sync::atomic::Ordering::Relaxed) {
            let (window, counts) = limiter.take_unpushed(crate::auth::unix_now());
            match store
                .add_rate_usage(window, limiter.window_seconds, &counts)
                .await
            {
                Ok(Some(totals)) => limiter.learn(window, &counts, &totals),
                Ok(None) => limiter
                    .shared
                    .store(false, std::sync::atomic::Ordering::Relaxed),
                Err(e) => {
                    limiter.unpush(window, &counts);
                    tracing::warn!(error = %e, "cannot share rate-limit counts; retrying");
                }
            }
        }
        let ordered = limiter.lock_updates().await;
        match store.rate_limits().await {
            Ok(overrides) => limiter.load(overrides),
            Err(e) => tracing::warn!(error = %e, "cannot reload rate limits; retrying"),
        }
        drop(ordered);
    }
}

// Point 6 (server-floods): requests without a valid credential, per source address.

/// How many distinct sources the per-source limiter tracks per minute; sources beyond
/// share one budget, so the table stays bounded whatever addresses a flood comes from.
const MAX_TRACKED_SOURCES: usize = 10_000;

/// How many distinct sources get their own aggregate audit event per minute; failures of
/// the others are counted in one event for "other sources". So unauthenticated failures
/// add at most `MAX_AUDITED_SOURCES + 1` events to the audit trail per minute.
pub(crate) const MAX_AUDITED_SOURCES: usize = 64;

/// A source address as rate limits and the audit trail see it: an IPv4 address, or the
/// /64 of an IPv6 address (one host usually holds a whole /64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Source(std::net::IpAddr);

impl Source {
    pub(crate) fn of(addr: std::net::IpAddr) -> Self {
        match addr {
            std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self(v4.into()),
                None => {
                    let bits = u128::from(v6) & !((1u128 << 64) - 1);
                    Self(std::net::Ipv6Addr::from(bits).into())
                }
            },
            v4 => Self(v4),
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            std::net::IpAddr::V6(v6) => write!(f, "{v6}/64"),
            v4 => write!(f, "{v4}"),
        }
    }
}

#[derive(Debug, Default)]
struct SourceWindow {
    minute: u64,
    used: HashMap<Source, u64>,
    /// Requests of sources beyond `MAX_TRACKED_SOURCES` this minute.
    overflow: u64,
}

/// Counts requests without a valid credential per source and minute.
#[derive(Debug)]
pub(crate) struct SourceLimiter {
    per_minute: u64,
    window: Mutex<SourceWindow>,
}

impl SourceLimiter {
    pub(crate) fn new(per_minute: u64) -> Self {
        Self {
            per_minute,
            window: Mutex::new(SourceWindow::default()),
        }
    }

    /// Counts one request of `source` at unix time `now`; `Err(seconds)` until the next
    /// minute when its budget is used up.
    pub(crate) fn check(&self, source: Source, now: u64) -> Result<(), u64> {
        let minute = now / 60;
        let retry = 60 - now % 60;
        let mut window = self
            .window
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if window.minute != minute {
            *window = SourceWindow {
                minute,
                ..SourceWindow::default()
            };
        }
        let tracked = window.used.len() < MAX_TRACKED_SOURCES || window.used.contains_key(&source);
        let used = if tracked {
            window.used.entry(source).or_default()
        } else {
            &mut window.overflow
        };
        if *used >= self.per_minute {
            return Err(retry);
        }
        *used += 1;
        Ok(())
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct FailureCounts {
    failed: u64,
    refused: u64,
}

/// Failed authentications, counted per source and minute and written to the audit trail
/// as one event per source-minute (instead of one synced row per failure).
#[derive(Debug, Default)]
pub(crate) struct AuthFailures {
    /// (minute, source or `None` for "other sources") → counts.
    counts: Mutex<HashMap<(u64, Option<Source>), FailureCounts>>,
}

impl AuthFailures {
    /// Counts a failed authentication (`refused`: refused by the per-source limit).
    pub(crate) fn record(&self, source: Source, refused: bool, now: u64) {
        let minute = now / 60;
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = if counts.contains_key(&(minute, Some(source)))
            || counts
                .keys()
                .filter(|(m, s)| *m == minute && s.is_some())
                .count()
                < MAX_AUDITED_SOURCES
        {
            (minute, Some(source))
        } else {
            (minute, None)
        };
        let entry = counts.entry(key).or_default();
        if refused {
            entry.refused += 1;
        } else {
            entry.failed += 1;
        }
    }

    /// Takes the counts of minutes before `now`'s (all of them with `all`) as audit
    /// events, oldest minute first.
    pub(crate) fn take(&self, now: u64, all: bool) -> Vec<crate::store::EventRecord> {
        let minute = now / 60;
        let mut taken: Vec<_> = {
            let mut counts = self
                .counts
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let keys: Vec<_> = counts
                .keys()
                .filter(|(m, _)| all || *m < minute)
                .copied()
                .collect();
            keys.into_iter()
                .filter_map(|k| counts.remove(&k).map(|c| (k, c)))
                .collect()
        };
        taken.sort_by_key(|((m, s), _)| (*m, s.map(|s| s.to_string())));
        taken
            .into_iter()
            .map(|((minute, source), c)| {
                let start = time::OffsetDateTime::from_unix_timestamp(
                    i64::try_from(minute * 60).unwrap_or(0),
                )
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
                let start = start
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default();
                crate::store::EventRecord {
                    principal_id: None,
                    action: "auth.failures".to_owned(),
                    vault_id: None,
                    item_id: None,
                    outcome: sesame_core::ErrorCode::Unauthenticated.as_str().to_owned(),
                    integration_name: source
                        .map_or_else(|| "other sources".to_owned(), |s| format!("source {s}")),
                    integration_version: format!(
                        "{} failed, {} refused in the minute from {start}",
                        c.failed, c.refused
                    ),
                    requires: 0,
                }
            })
            .collect()
    }

    /// Appends the finished minutes' events (every minute's with `all`) to the trail.
    pub(crate) async fn flush<S: crate::store::Store>(&self, store: &S, now: u64, all: bool) {
        for event in self.take(now, all) {
            if let Err(err) = store.append_event(&event).await {
                tracing::error!(%err, "could not record failed authentications in the audit trail");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two replicas sharing counts through a database that adds them up (what
    /// `Store::add_rate_usage` does on PostgreSQL).
    #[test]
    fn replicas_share_one_budget() {
        let (a, b) = (
            RateLimiter::new(10, 10, 3600),
            RateLimiter::new(10, 10, 3600),
        );
        let p = Id::generate();
        let t = 7200;
        let mut database: HashMap<Id, (u64, u64)> = HashMap::new();
        let mut sync = |limiter: &RateLimiter| {
            let (window, counts) = limiter.take_unpushed(t);
            let totals: Vec<_> = counts
                .iter()
                .map(|(id, r, w)| {
                    let total = database.entry(*id).or_default();
                    *total = (total.0 + r, total.1 + w);
                    *total
                })
                .collect();
            limiter.learn(window, &counts, &totals);
        };
        for _ in 0..6 {
            assert!(a.check(&p, false, t).allowed);
        }
        assert!(b.check(&p, false, t).allowed);
        sync(&a);
        sync(&b);
        // b learned a's 6: 3 left for both together.
        for _ in 0..3 {
            assert!(b.check(&p, false, t).allowed);
        }
        assert!(!b.check(&p, false, t).allowed);
        sync(&b);
        sync(&a);
        let refused = a.check(&p, false, t);
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 0);
        // A failed push is given back and goes with the next one.
        let c = RateLimiter::new(10, 10, 3600);
        assert!(c.check(&p, true, t).allowed);
        let (window, counts) = c.take_unpushed(t);
        assert_eq!(counts, vec![(p, 0, 1)]);
        c.unpush(window, &counts);
        assert_eq!(c.take_unpushed(t).1, vec![(p, 0, 1)]);
        assert_eq!(c.take_unpushed(t).1, vec![(p, 0, 0)]);
    }

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

    #[test]
    fn overrides_apply_to_their_principal_only_and_can_be_removed() {
        let limiter = RateLimiter::new(5, 5, 3600);
        let (p, other) = (Id::generate(), Id::generate());
        let t = 7200;
        limiter.set_override(
            p,
            RateLimitSettings {
                reads: None,
                writes: Some(1),
            },
        );
        let first = limiter.check(&p, true, t);
        assert_eq!((first.allowed, first.limit, first.remaining), (true, 1, 0));
        assert!(!limiter.check(&p, true, t).allowed);
        assert_eq!(
            limiter.check(&p, false, t).limit,
            5,
            "reads keep the default"
        );
        assert_eq!(limiter.check(&other, true, t).limit, 5);
        let described = limiter.describe(&p);
        assert_eq!(
            (
                described.reads,
                described.writes,
                described.effective_reads,
                described.effective_writes,
                described.window_seconds
            ),
            (None, Some(1), 5, 1, 3600)
        );

        // Lowered below what was used: refused, nothing remaining (no underflow).
        for _ in 0..3 {
            assert!(limiter.check(&other, false, t).allowed);
        }
        limiter.set_override(
            other,
            RateLimitSettings {
                reads: Some(2),
                writes: None,
            },
        );
        let lowered = limiter.check(&other, false, t);
        assert_eq!((lowered.allowed, lowered.remaining), (false, 0));

        limiter.set_override(p, RateLimitSettings::default());
        assert_eq!(limiter.describe(&p).writes, None);
        let reset = limiter.check(&p, true, t);
        assert_eq!((reset.allowed, reset.limit), (true, 5));

        limiter.load([(
            p,
            RateLimitSettings {
                reads: Some(9),
                writes: None,
            },
        )]);
        assert_eq!(limiter.describe(&p).effective_reads, 9);
        assert_eq!(limiter.describe(&other).reads, None, "load replaces all");
    }
}
