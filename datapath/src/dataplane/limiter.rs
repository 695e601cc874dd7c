//! The PACKET_IN rate limit: a token bucket shared by every worker (and
//! PACKET_OUT callers), lock-free.
//!
//! Implemented as GCRA (the "virtual scheduling" form of a token bucket):
//! one atomic holds the theoretical arrival time `tat` of the next
//! conforming event. An event at `now` conforms if `tat - now ≤ τ`, where
//! `τ = (burst - 1) · interval`, and then moves `tat` to
//! `max(tat, now) + interval`. That is exactly a bucket of `burst` tokens
//! refilled at `rate` per second, in one compare-and-swap.
//!
//! Burst: a tenth of a second's worth (at least 1), so a controller sees
//! smooth traffic and a storm is cut within 100 ms. Rate 0 = no limit.

use crate::pipeline::{Nanos, NANOS_PER_SEC};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};

pub(crate) struct RateLimiter {
    rate: AtomicU32,
    tat: AtomicU64,
}

impl RateLimiter {
    pub fn new(rate: u32) -> RateLimiter {
        RateLimiter {
            rate: AtomicU32::new(rate),
            tat: AtomicU64::new(0),
        }
    }

    pub fn set_rate(&self, rate: u32) {
        self.rate.store(rate, Relaxed);
    }

    pub fn rate(&self) -> u32 {
        self.rate.load(Relaxed)
    }

    /// Takes a token at `now`; false = over the limit.
    pub fn allow(&self, now: Nanos) -> bool {
        let rate = u64::from(self.rate.load(Relaxed));
        if rate == 0 {
            return true;
        }
        let interval = (NANOS_PER_SEC / rate).max(1);
        let burst = (rate / 10).max(1);
        let tau = (burst - 1) * interval;
        let mut tat = self.tat.load(Relaxed);
        loop {
            if tat > now + tau {
                return false;
            }
            let next = tat.max(now) + interval;
            match self.tat.compare_exchange_weak(tat, next, Relaxed, Relaxed) {
                Ok(_) => return true,
                Err(t) => tat = t,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Nanos = NANOS_PER_SEC;

    #[test]
    fn rate_limiter_allows_a_burst_then_the_rate() {
        let l = RateLimiter::new(100); // burst 10, one per 10 ms
        let t0 = 1000 * S;
        let n = (0..1000).filter(|_| l.allow(t0)).count();
        assert_eq!(n, 10);
        // One second later: 100 more (the bucket refilled to its burst of
        // 10 only, then one per 10 ms).
        let mut ok = 0;
        for ms in 0..1000u64 {
            for _ in 0..5 {
                ok += usize::from(l.allow(t0 + S + ms * S / 1000));
            }
        }
        assert!((100..=111).contains(&ok), "{ok}");
    }

    #[test]
    fn rate_limiter_with_rate_zero_allows_everything() {
        let l = RateLimiter::new(0);
        assert!((0..10_000).all(|_| l.allow(5)));
    }
}
