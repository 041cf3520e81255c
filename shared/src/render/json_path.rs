//! Finding parts of raw JSON by path, each level read once.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Deserializer;
use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::filter::segment_index;

/// For each `(slot, path)` request, stores in `out[slot]` the exact text of the value at `path`
/// inside the JSON text `raw`, if there is one. Requests sharing a prefix share the work: each
/// level of `raw` is read once, so the cost is at most the size of `raw` times the longest
/// path, however many requests there are.
pub(super) fn resolve<'a>(
    raw: &'a str,
    requests: &[(usize, &[String])],
    out: &mut [Option<&'a str>],
) {
    let mut next: BTreeMap<&str, Vec<(usize, &[String])>> = BTreeMap::new();
    for &(slot, path) in requests {
        match path.split_first() {
            None => {
                if let Some(o) = out.get_mut(slot) {
                    *o = Some(raw);
                }
            }
            Some((first, rest)) => next.entry(first.as_str()).or_default().push((slot, rest)),
        }
    }
    if next.is_empty() {
        return;
    }
    let wanted: BTreeSet<&str> = next.keys().copied().collect();
    let mut de = serde_json::Deserializer::from_str(raw);
    let Ok(children) = de.deserialize_any(Level { wanted: &wanted }) else {
        // A scalar: it has no parts.
        return;
    };
    for (segment, group) in &next {
        if let Some(child) = children.get(*segment) {
            resolve(child.get(), group, out);
        }
    }
}

/// Reads one level of an object or array, keeping the raw text of the wanted members (by key,
/// or by index for arrays) and skipping the rest. A repeated key keeps its last value.
struct Level<'w> {
    wanted: &'w BTreeSet<&'w str>,
}

impl<'de> Visitor<'de> for Level<'_> {
    type Value = BTreeMap<String, &'de RawValue>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object or an array")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            if self.wanted.contains(key.as_str()) {
                let value: &'de RawValue = map.next_value()?;
                found.insert(key, value);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let indices: BTreeMap<usize, &str> = self
            .wanted
            .iter()
            .filter_map(|s| Some((segment_index(s)?, *s)))
            .collect();
        let mut found = BTreeMap::new();
        let mut index = 0usize;
        loop {
            if let Some(segment) = indices.get(&index) {
                match seq.next_element::<&'de RawValue>()? {
                    Some(value) => {
                        found.insert((*segment).to_owned(), value);
                    }
                    None => break,
                }
            } else if seq.next_element::<IgnoredAny>()?.is_none() {
                break;
            }
            index += 1;
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolver_reads_each_level_once_per_group() {
        let raw = r#"{"a": {"b": [10, {"c": "x"}], "d": 1}, "e": [], "f": "s"}"#;
        let paths: Vec<Vec<String>> = [
            vec![],
            vec!["a"],
            vec!["a", "b", "1", "c"],
            vec!["a", "b", "0"],
            vec!["a", "d"],
            vec!["e", "0"],
            vec!["f", "0"],
            vec!["g"],
        ]
        .iter()
        .map(|p| p.iter().map(|s| (*s).to_owned()).collect())
        .collect();
        let requests: Vec<(usize, &[String])> = paths
            .iter()
            .enumerate()
            .map(|(i, p)| (i, p.as_slice()))
            .collect();
        let mut out = vec![None; paths.len()];
        resolve(raw, &requests, &mut out);
        assert_eq!(
            out,
            vec![
                Some(raw),
                Some(r#"{"b": [10, {"c": "x"}], "d": 1}"#),
                Some(r#""x""#),
                Some("10"),
                Some("1"),
                None,
                None,
                None,
            ]
        );
    }
}
