//! The time and the randomness the sender reads, passed to [`crate::Sender::handle`] rather than
//! read inside it, as the core takes them: the Lambda and `hookline dev` pass [`SystemClock`],
//! tests pass a [`FixedClock`] and can then assert exact signing timestamps and retry delays.

use hookline_core::time::Timestamp;

/// The sender's clock and its source of retry jitter.
pub trait Clock: Send + Sync {
    /// The current time: the `webhook-timestamp` of a delivery, the base of `Retry-After`
    /// dates, the time of metrics.
    fn now(&self) -> Timestamp;
    /// A uniform sample in `[0, 1)`, the jitter of a retry delay (`RetryPolicy::decide`).
    fn jitter(&self) -> f64;
}

/// The system clock and a fresh random sample for each retry.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        // A system clock set before 1970 reads as the epoch: timestamps are then stale and the
        // endpoint refuses the signature, which is retried and visible, not silently wrong.
        hookline_api::system_now()
    }

    fn jitter(&self) -> f64 {
        fastrand::f64()
    }
}

/// A clock stopped at `now` that always draws `jitter`: for tests.
#[derive(Clone, Copy, Debug)]
pub struct FixedClock {
    /// The time it always reads.
    pub now: Timestamp,
    /// The sample it always draws, in `[0, 1)` (0.5 is the scheduled delay itself).
    pub jitter: f64,
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.now
    }

    fn jitter(&self) -> f64 {
        self.jitter
    }
}
