//! The delivery retry policy: after each attempt, deliver, retry after a delay, or give up.
//!
//! The sender retries on SQS itself: after a failed attempt it sets the message's visibility
//! timeout to the next delay, and the attempt number is SQS's `ApproximateReceiveCount`. The
//! policy is data (a [`RetryPolicy`] from config) and the decision is a pure function of it, the
//! attempt number, the [`Outcome`] and a caller-drawn jitter sample, so every delay is exactly
//! testable to the millisecond.
//!
//! `Retry-After` is a floor, not a replacement: the delay is the larger of the jittered scheduled
//! delay and the server's `Retry-After` (capped at `max_retry_after`). A server cannot make us
//! wait longer than the bound, nor, by answering `Retry-After: 0`, burn through the attempts
//! faster than the schedule allows; and we never come back sooner than it asked (up to the
//! bound). The server's value is used without jitter: it picked the time.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// SQS's visibility-timeout ceiling: no delay may exceed it.
pub const MAX_DELAY: Duration = Duration::from_secs(12 * 60 * 60);

const MAX_DELAY_MILLIS: u64 = 12 * 60 * 60 * 1_000;

/// How a delivery is retried; deserialises from config with every field optional.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryPolicy {
    /// Delay before retry n (1-based): default ["1s","10s","60s","300s"] => at most 5 attempts.
    ///
    /// Empty means a single attempt and no retries.
    #[serde(with = "crate::time::duration_serde::vec")]
    pub schedule: Vec<Duration>,
    /// Jitter as a fraction of each delay, default 0.2 (=> delay * [0.8, 1.2)).
    ///
    /// It spreads the retries of a burst that failed together so they do not return together.
    pub jitter: f64,
    /// Upper bound for a server's Retry-After, default "1h" (and never above MAX_DELAY).
    #[serde(with = "crate::time::duration_serde")]
    pub max_retry_after: Duration,
    /// What a 4xx other than 408/409/410/425/429 means.
    pub on_client_error: ClientErrorPolicy,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            schedule: [1, 10, 60, 300].map(Duration::from_secs).to_vec(),
            jitter: 0.2,
            max_retry_after: Duration::from_secs(60 * 60),
            on_client_error: ClientErrorPolicy::Retry,
        }
    }
}

/// What a 4xx other than 408/409/410/425/429 means; serialised as `"retry"` or `"give_up"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientErrorPolicy {
    /// Retry it like a server error (like Stripe and Svix: endpoints mid-deploy answer 404 or 401).
    #[default]
    Retry,
    /// Give up at once: the endpoint has rejected the request and will again.
    GiveUp,
}

impl RetryPolicy {
    /// Checks every delay <= [`MAX_DELAY`], jitter in `0.0..=1.0`, and `max_retry_after` <= [`MAX_DELAY`]; reports the first problem.
    pub fn validate(&self) -> Result<(), RetryPolicyError> {
        if let Some((index, &delay)) = self
            .schedule
            .iter()
            .enumerate()
            .find(|(_, d)| **d > MAX_DELAY)
        {
            return Err(RetryPolicyError::DelayTooLong { index, delay });
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            return Err(RetryPolicyError::JitterOutOfRange {
                jitter: self.jitter,
            });
        }
        if self.max_retry_after > MAX_DELAY {
            return Err(RetryPolicyError::RetryAfterBoundTooLong {
                bound: self.max_retry_after,
            });
        }
        Ok(())
    }

    /// The most attempts a message gets: the first plus one per scheduled delay.
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.schedule.len())
            .unwrap_or(u32::MAX)
            .saturating_add(1)
    }

    /// The delays before retries 1, 2, ... (before jitter).
    pub fn schedule(&self) -> &[Duration] {
        &self.schedule
    }

    /// The pure decision after attempt number `attempt` (1-based, SQS's `ApproximateReceiveCount`; 0 counts as 1) came to `outcome`.
    ///
    /// `jitter_sample` is a caller-drawn uniform sample in `[0, 1)`; values above are clamped
    /// to just below 1, values below to 0, and NaN counts as 0.5 (no jitter). The policy is
    /// used as is, without [`Self::validate`]: an out-of-range jitter is clamped to `0..=1`
    /// (NaN as 0) and every returned delay is capped at [`MAX_DELAY`] all the same.
    pub fn decide(&self, attempt: u32, outcome: &Outcome, jitter_sample: f64) -> Decision {
        let attempt = attempt.max(1);
        let (reason, retry_after) = match *outcome {
            Outcome::Status { code, retry_after } => match code {
                200..=299 => return Decision::Delivered,
                410 => {
                    return Decision::GiveUp {
                        reason: GiveUpReason::Gone,
                    };
                }
                429 => (RetryReason::TooManyRequests, retry_after),
                // Timeout, conflict and too-early are transient by definition.
                408 | 409 | 425 => (RetryReason::ClientError(code), retry_after),
                400..=499 => match self.on_client_error {
                    ClientErrorPolicy::Retry => (RetryReason::ClientError(code), retry_after),
                    ClientErrorPolicy::GiveUp => {
                        return Decision::GiveUp {
                            reason: GiveUpReason::ClientError(code),
                        };
                    }
                },
                500..=599 => (RetryReason::ServerError(code), retry_after),
                // 1xx, 3xx (redirects are not followed) and codes outside 100..=599.
                _ => (RetryReason::UnexpectedStatus(code), retry_after),
            },
            Outcome::Timeout => (RetryReason::Timeout, None),
            Outcome::Connect => (RetryReason::Connect, None),
            Outcome::Blocked => {
                return Decision::GiveUp {
                    reason: GiveUpReason::Blocked,
                };
            }
        };
        let exhausted = Decision::GiveUp {
            reason: GiveUpReason::Exhausted {
                attempts: attempt,
                last: reason,
            },
        };
        let Some(scheduled) = usize::try_from(attempt - 1)
            .ok()
            .and_then(|i| self.schedule.get(i))
        else {
            return exhausted;
        };
        let mut delay = jittered_millis(capped_millis(*scheduled), self.jitter, jitter_sample);
        if let Some(requested) = retry_after {
            let bound = capped_millis(self.max_retry_after);
            delay = delay.max(capped_millis(requested).min(bound));
        }
        Decision::Retry {
            delay: Duration::from_millis(delay.min(MAX_DELAY_MILLIS)),
            reason,
        }
    }
}

/// `d` in whole milliseconds, capped at [`MAX_DELAY`].
fn capped_millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis())
        .unwrap_or(u64::MAX)
        .min(MAX_DELAY_MILLIS)
}

/// `base * (1 - jitter + 2 * jitter * sample)` in whole milliseconds, within `[base - span, base + span)` where `span = round(base * jitter)`.
///
/// The span is rounded once and the sample picks one of its `2 * span` milliseconds, so a
/// sample of 0.5 gives exactly `base` and the upper bound stays exclusive despite float rounding.
fn jittered_millis(base: u64, jitter: f64, sample: f64) -> u64 {
    let jitter = if jitter.is_nan() {
        0.0
    } else {
        jitter.clamp(0.0, 1.0)
    };
    let sample = if sample.is_nan() {
        0.5
    } else {
        sample.clamp(0.0, 1.0)
    };
    // base <= MAX_DELAY_MILLIS (< 2^53), so these conversions are exact and cannot saturate.
    let span = (base as f64 * jitter).round() as u64;
    if span == 0 {
        return base;
    }
    let width = 2 * span;
    let pick = ((width as f64 * sample).floor() as u64).min(width - 1);
    base - span + pick
}

/// Why a [`RetryPolicy`] is invalid; `Display` names the field, e.g. `schedule[2]: 13h exceeds SQS's 12h visibility ceiling`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum RetryPolicyError {
    /// A scheduled delay exceeds [`MAX_DELAY`].
    DelayTooLong {
        /// Its index in `schedule`.
        index: usize,
        /// The delay as configured.
        delay: Duration,
    },
    /// `jitter` is NaN or outside `0.0..=1.0`.
    JitterOutOfRange {
        /// The jitter as configured.
        jitter: f64,
    },
    /// `max_retry_after` exceeds [`MAX_DELAY`].
    RetryAfterBoundTooLong {
        /// The bound as configured.
        bound: Duration,
    },
}

impl RetryPolicyError {
    /// The offending field's path within the policy, such as `schedule[2]`, for error locations in config.
    pub fn field(&self) -> String {
        match self {
            Self::DelayTooLong { index, .. } => format!("schedule[{index}]"),
            Self::JitterOutOfRange { .. } => "jitter".to_owned(),
            Self::RetryAfterBoundTooLong { .. } => "max_retry_after".to_owned(),
        }
    }
}

impl fmt::Display for RetryPolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = self.field();
        let ceiling = crate::time::format_duration(MAX_DELAY);
        match self {
            Self::DelayTooLong { delay: d, .. } | Self::RetryAfterBoundTooLong { bound: d } => {
                let d = crate::time::format_duration(*d);
                write!(f, "{field}: {d} exceeds SQS's {ceiling} visibility ceiling")
            }
            Self::JitterOutOfRange { jitter } => {
                write!(f, "{field}: {jitter} is not a fraction between 0.0 and 1.0")
            }
        }
    }
}

impl std::error::Error for RetryPolicyError {}

/// What one delivery attempt came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The endpoint answered with an HTTP status.
    Status {
        /// The status code.
        code: u16,
        /// The response's `Retry-After`, parsed with [`parse_retry_after`]; honoured on any retryable status.
        retry_after: Option<Duration>,
    },
    /// No response within the request timeout.
    Timeout,
    /// No connection: refused, reset, DNS or TLS failure.
    Connect,
    /// The SSRF guard refused the endpoint's address.
    Blocked,
}

/// What to do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The endpoint accepted the message (2xx): done.
    Delivered,
    /// Make the message visible again after `delay` and try again.
    Retry {
        /// At most [`MAX_DELAY`], in whole milliseconds.
        delay: Duration,
        /// Why this attempt failed.
        reason: RetryReason,
    },
    /// Stop and dead-letter the message.
    GiveUp {
        /// Why.
        reason: GiveUpReason,
    },
}

/// Why an attempt failed in a way worth retrying.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RetryReason {
    /// A 5xx status.
    ServerError(u16),
    /// 429.
    TooManyRequests,
    /// A 4xx other than 410 and 429: always for 408, 409 and 425, otherwise per [`ClientErrorPolicy`].
    ClientError(u16),
    /// 1xx, 3xx (redirects are not followed) or a code outside 100..=599.
    UnexpectedStatus(u16),
    /// No response in time.
    Timeout,
    /// No connection.
    Connect,
}

impl RetryReason {
    /// A stable snake_case code for logs and DLQ attributes.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ServerError(_) => "server_error",
            Self::TooManyRequests => "too_many_requests",
            Self::ClientError(_) => "client_error",
            Self::UnexpectedStatus(_) => "unexpected_status",
            Self::Timeout => "timeout",
            Self::Connect => "connect",
        }
    }
}

impl fmt::Display for RetryReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ServerError(code) => write!(f, "server error (HTTP {code})"),
            Self::TooManyRequests => f.write_str("too many requests (HTTP 429)"),
            Self::ClientError(code) => write!(f, "client error (HTTP {code})"),
            Self::UnexpectedStatus(code) => write!(f, "unexpected status (HTTP {code})"),
            Self::Timeout => f.write_str("timed out"),
            Self::Connect => f.write_str("connection failed"),
        }
    }
}

/// Why delivery stopped for good.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GiveUpReason {
    /// 410: the endpoint says it is gone for good.
    Gone,
    /// A 4xx under [`ClientErrorPolicy::GiveUp`].
    ClientError(u16),
    /// The SSRF guard refused the endpoint's address.
    Blocked,
    /// Every attempt failed.
    Exhausted {
        /// The attempt number that failed last.
        attempts: u32,
        /// How it failed.
        last: RetryReason,
    },
}

impl GiveUpReason {
    /// A stable snake_case code for logs and DLQ attributes.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Gone => "gone",
            Self::ClientError(_) => "client_error",
            Self::Blocked => "blocked",
            Self::Exhausted { .. } => "exhausted",
        }
    }
}

impl fmt::Display for GiveUpReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Gone => f.write_str("endpoint is gone (HTTP 410)"),
            Self::ClientError(code) => write!(f, "client error (HTTP {code})"),
            Self::Blocked => f.write_str("address blocked by the SSRF guard"),
            Self::Exhausted { attempts, last } => {
                write!(f, "gave up after {attempts} attempts; last: {last}")
            }
        }
    }
}

/// Parses a Retry-After header value: delta-seconds ("120") or an HTTP date (relative to `now`, a past date => zero).
///
/// `None` when malformed, including surrounding whitespace (callers pass the trimmed field
/// value). Delta-seconds too large for a `Duration` saturate; the policy's bound applies after.
pub fn parse_retry_after(value: &str, now: Timestamp) -> Option<Duration> {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        let secs = value.bytes().fold(0u64, |acc, b| {
            acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
        });
        return Some(Duration::from_secs(secs));
    }
    let date = Timestamp::parse_http_date(value)?;
    Some(date.checked_duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;
    const S: fn(u64) -> Duration = Duration::from_secs;
    /// The largest f64 below 1.0.
    const ALMOST_ONE: f64 = 1.0 - f64::EPSILON / 2.0;

    fn status(code: u16) -> Outcome {
        Outcome::Status {
            code,
            retry_after: None,
        }
    }

    fn with_retry_after(code: u16, d: Duration) -> Outcome {
        Outcome::Status {
            code,
            retry_after: Some(d),
        }
    }

    fn retry(delay: Duration, reason: RetryReason) -> Decision {
        Decision::Retry { delay, reason }
    }

    fn give_up(reason: GiveUpReason) -> Decision {
        Decision::GiveUp { reason }
    }

    fn delay_of(d: Decision) -> Duration {
        match d {
            Decision::Retry { delay, .. } => delay,
            other => panic!("expected a retry, got {other:?}"),
        }
    }

    #[test]
    fn default_policy() {
        let p = RetryPolicy::default();
        assert_eq!(p.schedule(), [S(1), S(10), S(60), S(300)]);
        assert_eq!(p.jitter, 0.2);
        assert_eq!(p.max_retry_after, S(3_600));
        assert_eq!(p.on_client_error, ClientErrorPolicy::Retry);
        assert_eq!(p.max_attempts(), 5);
        assert_eq!(p.validate(), Ok(()));
    }

    #[test]
    fn default_schedule_is_exact_at_the_midpoint_and_bounded_by_the_jitter() {
        let p = RetryPolicy::default();
        let reason = RetryReason::ServerError(500);
        let cases: &[(u32, u64, u64, u64)] = &[
            // attempt, low (sample 0), mid (0.5), high (just below 1, exclusive bound)
            (1, 800, 1_000, 1_199),
            (2, 8_000, 10_000, 11_999),
            (3, 48_000, 60_000, 71_999),
            (4, 240_000, 300_000, 359_999),
        ];
        for &(attempt, low, mid, high) in cases {
            let d = |sample| p.decide(attempt, &status(500), sample);
            assert_eq!(d(0.0), retry(MS(low), reason), "attempt {attempt}");
            assert_eq!(d(0.5), retry(MS(mid), reason), "attempt {attempt}");
            assert_eq!(d(ALMOST_ONE), retry(MS(high), reason), "attempt {attempt}");
            assert_eq!(d(0.999_999), retry(MS(high), reason), "attempt {attempt}");
            assert_eq!(
                d(0.25),
                retry(MS((low + mid) / 2), reason),
                "attempt {attempt}"
            );
        }
        assert_eq!(
            p.decide(5, &status(500), 0.5),
            give_up(GiveUpReason::Exhausted {
                attempts: 5,
                last: reason
            })
        );
        assert_eq!(
            p.decide(9, &Outcome::Timeout, 0.5),
            give_up(GiveUpReason::Exhausted {
                attempts: 9,
                last: RetryReason::Timeout
            })
        );
    }

    #[test]
    fn odd_samples_and_attempt_zero_never_panic() {
        let p = RetryPolicy::default();
        let d = |attempt, sample| delay_of(p.decide(attempt, &Outcome::Connect, sample));
        assert_eq!(d(0, 0.5), S(1), "attempt 0 counts as 1");
        assert_eq!(d(1, f64::NAN), S(1));
        assert_eq!(d(1, -3.0), MS(800));
        assert_eq!(d(1, f64::NEG_INFINITY), MS(800));
        assert_eq!(d(1, 1.0), MS(1_199));
        assert_eq!(d(1, 7.5), MS(1_199));
        assert_eq!(d(1, f64::INFINITY), MS(1_199));
        assert_eq!(d(1, f64::MIN_POSITIVE), MS(800));
        assert!(matches!(
            p.decide(u32::MAX, &Outcome::Connect, 0.5),
            Decision::GiveUp { .. }
        ));
    }

    #[test]
    fn every_status_class_under_both_client_error_policies() {
        use GiveUpReason as G;
        use RetryReason as R;
        let retry_policy = RetryPolicy::default();
        let give_up_policy = RetryPolicy {
            on_client_error: ClientErrorPolicy::GiveUp,
            ..RetryPolicy::default()
        };
        // (code, under "retry", under "give_up"); None means Delivered.
        let cases: &[(u16, Option<Decision>, Option<Decision>)] = &[
            (
                100,
                Some(retry(S(1), R::UnexpectedStatus(100))),
                Some(retry(S(1), R::UnexpectedStatus(100))),
            ),
            (200, None, None),
            (204, None, None),
            (299, None, None),
            (
                301,
                Some(retry(S(1), R::UnexpectedStatus(301))),
                Some(retry(S(1), R::UnexpectedStatus(301))),
            ),
            (
                304,
                Some(retry(S(1), R::UnexpectedStatus(304))),
                Some(retry(S(1), R::UnexpectedStatus(304))),
            ),
            (
                400,
                Some(retry(S(1), R::ClientError(400))),
                Some(give_up(G::ClientError(400))),
            ),
            (
                401,
                Some(retry(S(1), R::ClientError(401))),
                Some(give_up(G::ClientError(401))),
            ),
            (
                404,
                Some(retry(S(1), R::ClientError(404))),
                Some(give_up(G::ClientError(404))),
            ),
            (
                408,
                Some(retry(S(1), R::ClientError(408))),
                Some(retry(S(1), R::ClientError(408))),
            ),
            (
                409,
                Some(retry(S(1), R::ClientError(409))),
                Some(retry(S(1), R::ClientError(409))),
            ),
            (410, Some(give_up(G::Gone)), Some(give_up(G::Gone))),
            (
                425,
                Some(retry(S(1), R::ClientError(425))),
                Some(retry(S(1), R::ClientError(425))),
            ),
            (
                429,
                Some(retry(S(1), R::TooManyRequests)),
                Some(retry(S(1), R::TooManyRequests)),
            ),
            (
                499,
                Some(retry(S(1), R::ClientError(499))),
                Some(give_up(G::ClientError(499))),
            ),
            (
                500,
                Some(retry(S(1), R::ServerError(500))),
                Some(retry(S(1), R::ServerError(500))),
            ),
            (
                503,
                Some(retry(S(1), R::ServerError(503))),
                Some(retry(S(1), R::ServerError(503))),
            ),
            (
                599,
                Some(retry(S(1), R::ServerError(599))),
                Some(retry(S(1), R::ServerError(599))),
            ),
            (
                0,
                Some(retry(S(1), R::UnexpectedStatus(0))),
                Some(retry(S(1), R::UnexpectedStatus(0))),
            ),
            (
                600,
                Some(retry(S(1), R::UnexpectedStatus(600))),
                Some(retry(S(1), R::UnexpectedStatus(600))),
            ),
            (
                u16::MAX,
                Some(retry(S(1), R::UnexpectedStatus(u16::MAX))),
                Some(retry(S(1), R::UnexpectedStatus(u16::MAX))),
            ),
        ];
        for (code, under_retry, under_give_up) in cases {
            for (policy, expected) in [
                (&retry_policy, under_retry),
                (&give_up_policy, under_give_up),
            ] {
                let expected = expected.unwrap_or(Decision::Delivered);
                assert_eq!(
                    policy.decide(1, &status(*code), 0.5),
                    expected,
                    "{code} {:?}",
                    policy.on_client_error
                );
                // On the last attempt only retries turn into Exhausted.
                let last = match expected {
                    Decision::Retry { reason, .. } => give_up(GiveUpReason::Exhausted {
                        attempts: 5,
                        last: reason,
                    }),
                    other => other,
                };
                assert_eq!(
                    policy.decide(5, &status(*code), 0.5),
                    last,
                    "{code} last attempt"
                );
            }
        }
    }

    #[test]
    fn transport_outcomes() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.decide(2, &Outcome::Timeout, 0.5),
            retry(S(10), RetryReason::Timeout)
        );
        assert_eq!(
            p.decide(3, &Outcome::Connect, 0.5),
            retry(S(60), RetryReason::Connect)
        );
        for attempt in [0, 1, 5, 100] {
            assert_eq!(
                p.decide(attempt, &Outcome::Blocked, 0.5),
                give_up(GiveUpReason::Blocked)
            );
            assert_eq!(
                p.decide(attempt, &status(410), 0.5),
                give_up(GiveUpReason::Gone)
            );
            assert_eq!(p.decide(attempt, &status(200), 0.5), Decision::Delivered);
        }
    }

    #[test]
    fn empty_schedule_means_one_attempt() {
        let p = RetryPolicy {
            schedule: Vec::new(),
            ..RetryPolicy::default()
        };
        assert_eq!(p.max_attempts(), 1);
        assert_eq!(p.validate(), Ok(()));
        assert_eq!(
            p.decide(1, &status(503), 0.5),
            give_up(GiveUpReason::Exhausted {
                attempts: 1,
                last: RetryReason::ServerError(503)
            })
        );
        assert_eq!(p.decide(1, &status(201), 0.5), Decision::Delivered);
    }

    #[test]
    fn retry_after_is_a_floor_bounded_by_max_retry_after() {
        let p = RetryPolicy::default();
        let d = |attempt, outcome: Outcome, sample| delay_of(p.decide(attempt, &outcome, sample));
        // Longer than the schedule: used as is, without jitter.
        assert_eq!(d(1, with_retry_after(429, S(120)), 0.0), S(120));
        assert_eq!(d(1, with_retry_after(429, S(120)), ALMOST_ONE), S(120));
        assert_eq!(d(1, with_retry_after(503, S(30)), 0.5), S(30));
        assert_eq!(d(2, with_retry_after(500, MS(10_500)), 0.0), MS(10_500));
        assert_eq!(d(1, with_retry_after(301, S(5)), 0.5), S(5));
        assert_eq!(d(1, with_retry_after(404, S(5)), 0.5), S(5));
        // Shorter than the (jittered) schedule: the schedule wins.
        assert_eq!(d(4, with_retry_after(429, S(0)), 0.5), S(300));
        assert_eq!(d(4, with_retry_after(429, S(1)), 0.0), S(240));
        assert_eq!(d(2, with_retry_after(503, S(11)), ALMOST_ONE), MS(11_999));
        // Beyond the bound: clamped to it.
        assert_eq!(d(1, with_retry_after(429, S(7_200)), 0.5), S(3_600));
        assert_eq!(d(1, with_retry_after(429, Duration::MAX), 0.5), S(3_600));
        let huge = parse_retry_after("9999999999999999999999", Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(d(1, with_retry_after(503, huge), 0.5), S(3_600));
        // The bound itself never exceeds MAX_DELAY, even unvalidated.
        let loose = RetryPolicy {
            max_retry_after: S(100 * 3_600),
            ..RetryPolicy::default()
        };
        assert_eq!(
            delay_of(loose.decide(1, &with_retry_after(429, Duration::MAX), 0.5)),
            MAX_DELAY
        );
        // A tight bound only caps the server; it does not shorten our own schedule.
        let tight = RetryPolicy {
            max_retry_after: S(30),
            ..RetryPolicy::default()
        };
        assert_eq!(
            delay_of(tight.decide(1, &with_retry_after(429, S(600)), 0.5)),
            S(30)
        );
        assert_eq!(
            delay_of(tight.decide(4, &with_retry_after(429, S(600)), 0.5)),
            S(300)
        );
        // The reason is kept; the last attempt still gives up.
        assert_eq!(
            p.decide(1, &with_retry_after(429, S(60)), 0.5),
            retry(S(60), RetryReason::TooManyRequests)
        );
        assert_eq!(
            p.decide(5, &with_retry_after(429, S(60)), 0.5),
            give_up(GiveUpReason::Exhausted {
                attempts: 5,
                last: RetryReason::TooManyRequests
            })
        );
        assert_eq!(
            p.decide(1, &with_retry_after(410, S(60)), 0.5),
            give_up(GiveUpReason::Gone)
        );
        assert_eq!(
            p.decide(1, &with_retry_after(200, S(60)), 0.5),
            Decision::Delivered
        );
    }

    #[test]
    fn delays_never_exceed_max_delay_even_unvalidated() {
        let p = RetryPolicy {
            schedule: vec![S(12 * 3_600), S(13 * 3_600), Duration::MAX],
            jitter: 5.0,
            ..RetryPolicy::default()
        };
        assert!(p.validate().is_err());
        for attempt in 1..=3 {
            for sample in [0.0, 0.5, ALMOST_ONE, f64::NAN] {
                let delay = delay_of(p.decide(attempt, &status(500), sample));
                assert!(delay <= MAX_DELAY, "{attempt} {sample} {delay:?}");
            }
        }
        // 12h with jitter clamped to 1.0: [0, 24h) capped at 12h.
        assert_eq!(delay_of(p.decide(1, &status(500), 0.0)), Duration::ZERO);
        assert_eq!(delay_of(p.decide(1, &status(500), 0.75)), MAX_DELAY);
        let nan = RetryPolicy {
            jitter: f64::NAN,
            ..RetryPolicy::default()
        };
        assert_eq!(delay_of(nan.decide(1, &status(500), 0.0)), S(1));
        let none = RetryPolicy {
            jitter: 0.0,
            ..RetryPolicy::default()
        };
        assert_eq!(delay_of(none.decide(2, &status(500), 0.0)), S(10));
        assert_eq!(delay_of(none.decide(2, &status(500), ALMOST_ONE)), S(10));
        // Sub-millisecond schedule entries are truncated to whole milliseconds.
        let fine = RetryPolicy {
            schedule: vec![Duration::from_micros(1_999), Duration::ZERO],
            ..RetryPolicy::default()
        };
        assert_eq!(delay_of(fine.decide(1, &status(500), 0.5)), MS(1));
        assert_eq!(delay_of(fine.decide(2, &status(500), 0.9)), Duration::ZERO);
    }

    #[test]
    fn validate_names_the_field() {
        let too_long = RetryPolicy {
            schedule: vec![S(1), S(10), S(13 * 3_600), S(14 * 3_600)],
            ..RetryPolicy::default()
        };
        let err = too_long.validate().unwrap_err();
        assert_eq!(
            err,
            RetryPolicyError::DelayTooLong {
                index: 2,
                delay: S(13 * 3_600)
            }
        );
        assert_eq!(err.field(), "schedule[2]");
        assert_eq!(
            err.to_string(),
            "schedule[2]: 13h exceeds SQS's 12h visibility ceiling"
        );

        let at_ceiling = RetryPolicy {
            schedule: vec![MAX_DELAY],
            max_retry_after: MAX_DELAY,
            jitter: 1.0,
            ..RetryPolicy::default()
        };
        assert_eq!(at_ceiling.validate(), Ok(()));
        let just_over = RetryPolicy {
            schedule: vec![MAX_DELAY + MS(1)],
            ..RetryPolicy::default()
        };
        assert_eq!(
            just_over.validate().unwrap_err().to_string(),
            "schedule[0]: 12h1ms exceeds SQS's 12h visibility ceiling"
        );

        for jitter in [-0.1, 1.01, f64::NAN, f64::INFINITY] {
            let p = RetryPolicy {
                jitter,
                ..RetryPolicy::default()
            };
            let err = p.validate().unwrap_err();
            assert_eq!(err.field(), "jitter");
            assert!(err.to_string().starts_with("jitter: "), "{err}");
        }
        let p = RetryPolicy {
            jitter: 1.5,
            ..RetryPolicy::default()
        };
        assert_eq!(
            p.validate().unwrap_err().to_string(),
            "jitter: 1.5 is not a fraction between 0.0 and 1.0"
        );

        let p = RetryPolicy {
            max_retry_after: S(86_400),
            ..RetryPolicy::default()
        };
        let err = p.validate().unwrap_err();
        assert_eq!(err.field(), "max_retry_after");
        assert_eq!(
            err.to_string(),
            "max_retry_after: 24h exceeds SQS's 12h visibility ceiling"
        );
        let _: &dyn std::error::Error = &err;
    }

    #[test]
    fn serde_from_toml_and_json_with_defaults() {
        let p: RetryPolicy = toml::from_str("").unwrap();
        assert_eq!(p, RetryPolicy::default());
        let p: RetryPolicy = serde_json::from_str("{}").unwrap();
        assert_eq!(p, RetryPolicy::default());

        let p: RetryPolicy = toml::from_str(
            r#"
            schedule = ["500ms", 30, "1h30m"]
            jitter = 0.1
            max_retry_after = "10m"
            on_client_error = "give_up"
            "#,
        )
        .unwrap();
        assert_eq!(
            p,
            RetryPolicy {
                schedule: vec![MS(500), S(30), S(5_400)],
                jitter: 0.1,
                max_retry_after: S(600),
                on_client_error: ClientErrorPolicy::GiveUp,
            }
        );
        assert_eq!(p.max_attempts(), 4);

        let p: RetryPolicy = serde_json::from_str(r#"{"schedule":[],"jitter":0}"#).unwrap();
        assert!(p.schedule().is_empty());
        assert_eq!(p.jitter, 0.0);
        assert_eq!(p.max_retry_after, S(3_600));

        let p: RetryPolicy =
            toml::from_str("on_client_error = \"retry\"\nmax_retry_after = 60").unwrap();
        assert_eq!(p.on_client_error, ClientErrorPolicy::Retry);
        assert_eq!(p.max_retry_after, S(60));
    }

    #[test]
    fn serde_round_trips_and_rejects_unknown_fields() {
        let p = RetryPolicy::default();
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(
            json,
            r#"{"schedule":["1s","10s","1m","5m"],"jitter":0.2,"max_retry_after":"1h","on_client_error":"retry"}"#
        );
        assert_eq!(serde_json::from_str::<RetryPolicy>(&json).unwrap(), p);
        let toml_text = toml::to_string(&p).unwrap();
        assert_eq!(toml::from_str::<RetryPolicy>(&toml_text).unwrap(), p);

        let err = toml::from_str::<RetryPolicy>("max_attempts = 3").unwrap_err();
        assert!(err.to_string().contains("max_attempts"), "{err}");
        let err =
            serde_json::from_str::<RetryPolicy>(r#"{"schedule":[],"backoff":"exp"}"#).unwrap_err();
        assert!(err.to_string().contains("backoff"), "{err}");
        for bad in [
            r#"{"on_client_error":"ignore"}"#,
            r#"{"on_client_error":"GiveUp"}"#,
            r#"{"schedule":["1s","soon"]}"#,
            r#"{"schedule":"1s"}"#,
            r#"{"schedule":[-1]}"#,
            r#"{"jitter":"0.2"}"#,
            r#"{"max_retry_after":"1 hour"}"#,
        ] {
            assert!(serde_json::from_str::<RetryPolicy>(bad).is_err(), "{bad}");
        }
        // Deserialising does not validate; config calls validate() to report the location.
        let p: RetryPolicy = toml::from_str("schedule = [\"13h\"]").unwrap();
        assert_eq!(p.validate().unwrap_err().field(), "schedule[0]");
    }

    #[test]
    fn reason_codes_and_messages_are_stable() {
        use GiveUpReason as G;
        use RetryReason as R;
        let retry_reasons = [
            (
                R::ServerError(503),
                "server_error",
                "server error (HTTP 503)",
            ),
            (
                R::TooManyRequests,
                "too_many_requests",
                "too many requests (HTTP 429)",
            ),
            (
                R::ClientError(404),
                "client_error",
                "client error (HTTP 404)",
            ),
            (
                R::UnexpectedStatus(301),
                "unexpected_status",
                "unexpected status (HTTP 301)",
            ),
            (R::Timeout, "timeout", "timed out"),
            (R::Connect, "connect", "connection failed"),
        ];
        for (reason, code, message) in retry_reasons {
            assert_eq!(reason.as_str(), code);
            assert_eq!(reason.to_string(), message);
        }
        let give_up_reasons = [
            (G::Gone, "gone", "endpoint is gone (HTTP 410)"),
            (
                G::ClientError(401),
                "client_error",
                "client error (HTTP 401)",
            ),
            (G::Blocked, "blocked", "address blocked by the SSRF guard"),
            (
                G::Exhausted {
                    attempts: 5,
                    last: R::ServerError(502),
                },
                "exhausted",
                "gave up after 5 attempts; last: server error (HTTP 502)",
            ),
        ];
        for (reason, code, message) in give_up_reasons {
            assert_eq!(reason.as_str(), code);
            assert_eq!(reason.to_string(), message);
        }
    }

    #[test]
    fn retry_after_delta_seconds() {
        let now = Timestamp::from_unix_secs(1_795_435_200);
        let cases: &[(&str, Duration)] = &[
            ("0", Duration::ZERO),
            ("1", S(1)),
            ("120", S(120)),
            ("0120", S(120)),
            ("86400", S(86_400)),
            ("18446744073709551615", S(u64::MAX)),
            // Too large for a Duration: saturates, and the policy's bound applies later.
            ("18446744073709551616", S(u64::MAX)),
            ("9999999999999999999999", S(u64::MAX)),
            (
                "99999999999999999999999999999999999999999999999999999999999999",
                S(u64::MAX),
            ),
        ];
        for &(value, d) in cases {
            assert_eq!(parse_retry_after(value, now), Some(d), "{value}");
        }
    }

    #[test]
    fn retry_after_http_dates_relative_to_now() {
        // Mon, 23 Nov 2026 12:00:00.250 GMT
        let now = Timestamp::from_unix_millis(1_795_435_200_250);
        let cases: &[(&str, Duration)] = &[
            ("Mon, 23 Nov 2026 12:02:00 GMT", MS(119_750)),
            ("Monday, 23-Nov-26 12:02:00 GMT", MS(119_750)),
            ("Mon Nov 23 12:02:00 2026", MS(119_750)),
            ("Tue, 24 Nov 2026 12:00:01 GMT", MS(86_400_750)),
            ("Fri, 01 Jan 2100 00:00:00 GMT", MS(2_307_009_599_750)),
            ("Fri, 31 Dec 9999 23:59:59 GMT", MS(251_606_865_598_750)),
            // Now or in the past: retry as soon as the policy allows.
            ("Mon, 23 Nov 2026 12:00:00 GMT", Duration::ZERO),
            ("Sun, 06 Nov 1994 08:49:37 GMT", Duration::ZERO),
            ("Sunday, 06-Nov-94 08:49:37 GMT", Duration::ZERO),
            ("Sun Nov  6 08:49:37 1994", Duration::ZERO),
            ("Thu, 01 Jan 1970 00:00:00 GMT", Duration::ZERO),
        ];
        for &(value, d) in cases {
            assert_eq!(parse_retry_after(value, now), Some(d), "{value}");
        }
        // An absurd future date is bounded by the policy.
        let far = parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now).unwrap();
        let p = RetryPolicy::default();
        assert_eq!(
            delay_of(p.decide(1, &with_retry_after(503, far), 0.5)),
            S(3_600)
        );
    }

    #[test]
    fn retry_after_rejects_malformed() {
        let now = Timestamp::from_unix_secs(1_795_435_200);
        let bad = [
            "",
            " ",
            "-1",
            "+1",
            "1.5",
            "1e3",
            " 12",
            "12 ",
            "1 2",
            "0x10",
            "12s",
            "１２",
            "120, 60",
            "Mon, 23 Nov 2026 12:02:00",
            "Mon, 23 Nov 2026 12:02:00 UTC",
            "mon, 23 Nov 2026 12:02:00 GMT",
            "Mon, 31 Nov 2026 12:02:00 GMT",
            "Mon, 23 Nov 2026 25:02:00 GMT",
            " Mon, 23 Nov 2026 12:02:00 GMT",
            "Mon, 23 Nov 2026 12:02:00 GMT ",
            "2026-11-23T12:02:00Z",
            "tomorrow",
            "Mon Nov 23 12:02:00 26",
            "\u{0}",
        ];
        for value in bad {
            assert_eq!(parse_retry_after(value, now), None, "{value:?}");
        }
    }
}
