//! Event-type patterns: which events an endpoint subscribes to.
//!
//! A pattern is an event type with `*` wildcards, each matching any run of characters
//! (dots included): `invoice.paid` (exactly that), `invoice.*` (`invoice.paid`,
//! `invoice.payment.failed`), `*.created`, `*` (everything).

use std::str::FromStr;

/// The longest pattern or event type accepted, in bytes.
pub const MAX_LEN: usize = 256;

/// A validated event-type pattern.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EventPattern(String);

/// Why a pattern was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    /// The pattern is empty.
    #[error("an event pattern must not be empty (use \"*\" for every event)")]
    Empty,
    /// The pattern is longer than [`MAX_LEN`].
    #[error("an event pattern must be at most {MAX_LEN} bytes")]
    TooLong,
    /// The pattern holds a character event types never contain.
    #[error("`{0}` may not appear in an event pattern (allowed: letters, digits, . _ - : / and *)")]
    BadChar(char),
}

impl EventPattern {
    /// True when `event_type` matches.
    pub fn matches(&self, event_type: &str) -> bool {
        glob(self.0.as_bytes(), event_type.as_bytes())
    }

    /// The pattern text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `*` matches any run of bytes. Linear-time two-pointer matching with backtracking to the last
/// star only, so hostile patterns such as `*a*a*a*b` cannot blow up.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match (pattern.get(p), text.get(t)) {
            (Some(b'*'), _) => {
                star = Some((p, t));
                p += 1;
            }
            (Some(pc), Some(tc)) if pc == tc => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .is_some_and(|rest| rest.iter().all(|&c| c == b'*'))
}

impl FromStr for EventPattern {
    type Err = PatternError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(PatternError::Empty);
        }
        if s.len() > MAX_LEN {
            return Err(PatternError::TooLong);
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "._-:/*".contains(*c)))
        {
            return Err(PatternError::BadChar(c));
        }
        Ok(Self(s.to_owned()))
    }
}

crate::string_backed!(EventPattern, this => this.0.as_str());

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        p.parse::<EventPattern>().unwrap().matches(t)
    }

    #[test]
    fn matching() {
        assert!(m("*", "anything.at.all"));
        assert!(m("invoice.paid", "invoice.paid"));
        assert!(!m("invoice.paid", "invoice.paid.late"));
        assert!(m("invoice.*", "invoice.paid"));
        assert!(m("invoice.*", "invoice.payment.failed"));
        assert!(!m("invoice.*", "invoice"));
        assert!(!m("invoice.*", "invoices.paid"));
        assert!(m("*.created", "customer.created"));
        assert!(!m("*.created", "customer.created.v2"));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(!m("a*b*c", "aXXbYY"));
        assert!(m("**", ""));
        assert!(!m("a", ""));
    }

    #[test]
    fn hostile_patterns_stay_linear() {
        let p = format!("{}b", "*a".repeat(100));
        assert!(!m(&p, &"a".repeat(MAX_LEN)));
    }

    #[test]
    fn invalid_patterns() {
        assert_eq!("".parse::<EventPattern>(), Err(PatternError::Empty));
        assert_eq!(
            "a b".parse::<EventPattern>(),
            Err(PatternError::BadChar(' '))
        );
        assert_eq!(
            "x".repeat(MAX_LEN + 1).parse::<EventPattern>(),
            Err(PatternError::TooLong)
        );
    }
}
