//! A small, ordered, case-insensitive header list.
//!
//! Adapters (the Worker, the Lambda, the CLI) copy request headers into [`Headers`] so the core
//! never depends on a particular HTTP crate. It keeps every occurrence of a name, so a verifier
//! can refuse a request that carries a signature header twice instead of silently picking one.

/// Request headers: names compared case-insensitively, every occurrence kept in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers {
    // Names are stored lower-cased so lookups need no allocation.
    entries: Vec<(String, String)>,
}

/// A header that appeared more than once where exactly one is allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DuplicateHeader;

impl Headers {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one header; the name is lower-cased.
    pub fn push(&mut self, name: impl AsRef<str>, value: impl Into<String>) {
        self.entries
            .push((name.as_ref().to_ascii_lowercase(), value.into()));
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> {
        self.entries
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The single value of `name`: `Ok(None)` when absent, an error when it appears twice.
    pub fn get_one(&self, name: &str) -> Result<Option<&str>, DuplicateHeader> {
        let mut values = self.get_all(name);
        let first = values.next();
        if values.next().is_some() {
            return Err(DuplicateHeader);
        }
        Ok(first)
    }

    /// True when `name` appears at least once.
    pub fn contains(&self, name: &str) -> bool {
        self.get_all(name).next().is_some()
    }

    /// All headers as (lower-case name, value), in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Number of header lines.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no headers.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<N: AsRef<str>, V: Into<String>> FromIterator<(N, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        let mut h = Headers::new();
        for (n, v) in iter {
            h.push(n, v);
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_ignore_case_and_detect_duplicates() {
        let h: Headers = [
            ("Stripe-Signature", "a"),
            ("content-type", "json"),
            ("STRIPE-SIGNATURE", "b"),
        ]
        .into_iter()
        .collect();
        assert_eq!(h.get_one("Content-Type"), Ok(Some("json")));
        assert_eq!(h.get_one("stripe-signature"), Err(DuplicateHeader));
        assert_eq!(
            h.get_all("stripe-signature").collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(h.get_one("missing"), Ok(None));
        assert!(h.contains("CONTENT-TYPE"));
        assert_eq!(h.len(), 3);
    }
}
