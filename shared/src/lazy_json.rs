//! A request body read as JSON without building its tree.
//!
//! The receiver needs three things from a JSON body: that it is valid JSON, its exact bytes (the
//! envelope carries them untouched), and a few fields (the event id and type, a handshake's
//! `type` or `challenge`). Parsing the whole body into a [`serde_json::Value`] allocates a node
//! per value and costs several times the HMAC over the same bytes; in the Worker's wasm, with its
//! slower allocator, it was most of a request's own work. [`LazyJson`] validates the body in one
//! pass that allocates nothing, then answers a JSON pointer by parsing only the objects and
//! arrays on its path, each level as raw, unparsed member values, and only the value found into
//! a `Value`. The top level, which every lookup starts from, is parsed once.
//!
//! Lookups follow [`serde_json::Value::pointer`] exactly (RFC 6901, `~0`/`~1` escapes, array
//! indexes without `+` or leading zeros, the last of duplicate keys); the tests compare the two.

use std::cell::OnceCell;
use std::collections::BTreeMap;

use serde_json::Value;
use serde_json::value::RawValue;

/// One level of the document: an object's members or an array's elements, left unparsed.
enum Level<'a> {
    Object(BTreeMap<String, &'a RawValue>),
    Array(Vec<&'a RawValue>),
    Scalar,
}

impl<'a> Level<'a> {
    /// Parses one level of `raw` (whose text starts with its first token: a `RawValue` has no
    /// surrounding whitespace).
    fn of(raw: &'a RawValue) -> Option<Self> {
        let text = raw.get();
        match text.as_bytes().first() {
            Some(b'{') => serde_json::from_str(text).ok().map(Level::Object),
            Some(b'[') => serde_json::from_str(text).ok().map(Level::Array),
            _ => Some(Level::Scalar),
        }
    }

    fn child(&self, token: &str) -> Option<&'a RawValue> {
        match self {
            Level::Object(members) => members.get(token).copied(),
            Level::Array(items) => parse_index(token).and_then(|i| items.get(i).copied()),
            Level::Scalar => None,
        }
    }
}

/// An array index as RFC 6901 (and serde_json) reads it: digits only, no leading zeros.
fn parse_index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.starts_with('0') && token.len() > 1) {
        return None;
    }
    token.parse().ok()
}

/// A validated JSON document, looked into lazily. Borrowed from the body; nothing is copied
/// until a lookup returns a value.
pub struct LazyJson<'a> {
    raw: &'a RawValue,
    top: OnceCell<Option<Level<'a>>>,
}

impl<'a> LazyJson<'a> {
    /// Validates `bytes` as one JSON value (UTF-8, surrounding whitespace allowed, nothing
    /// after it), in one pass that builds nothing. `None` when it is not JSON.
    pub fn parse(bytes: &'a [u8]) -> Option<Self> {
        let text = std::str::from_utf8(bytes).ok()?;
        let raw = serde_json::from_str::<&RawValue>(text).ok()?;
        // Skipping a value checks its grammar but not all that parsing it checks: depth, numbers
        // out of f64's range and lone UTF-16 surrogates in `\u` escapes. Refuse what `Value`
        // refuses, so no consumer downstream is handed a body serde_json cannot read: too deep
        // is refused outright; a body with an exponent, a very long number or a surrogate
        // escape (rare in webhooks) is checked by parsing it whole, as before.
        match scan(raw.get(), MAX_DEPTH) {
            Scan::Plain => {}
            Scan::TooDeep => return None,
            Scan::NeedsFullParse => {
                serde_json::from_str::<Value>(raw.get()).ok()?;
            }
        }
        Some(Self {
            raw,
            top: OnceCell::new(),
        })
    }

    /// The document's text, without surrounding whitespace.
    pub fn raw(&self) -> &'a RawValue {
        self.raw
    }

    fn top(&self) -> Option<&Level<'a>> {
        self.top.get_or_init(|| Level::of(self.raw)).as_ref()
    }

    /// A top-level member, parsed; `None` when the document is not an object or lacks `key`.
    pub fn get(&self, key: &str) -> Option<Value> {
        match self.top()? {
            Level::Object(members) => members.get(key).and_then(|raw| parse(raw)),
            _ => None,
        }
    }

    /// The value at a JSON pointer (RFC 6901), parsed; `""` is the whole document. The same
    /// answers as [`serde_json::Value::pointer`].
    pub fn pointer(&self, pointer: &str) -> Option<Value> {
        if pointer.is_empty() {
            return parse(self.raw);
        }
        let rest = pointer.strip_prefix('/')?;
        let mut tokens = rest
            .split('/')
            .map(|t| t.replace("~1", "/").replace("~0", "~"));
        let first = tokens.next()?;
        let mut current = self.top()?.child(&first)?;
        for token in tokens {
            current = Level::of(current)?.child(&token)?;
        }
        parse(current)
    }
}

/// The deepest nesting of arrays and objects [`serde_json::Value`] parses (its recursion limit).
const MAX_DEPTH: usize = 127;

/// What [`scan`] found.
#[derive(Debug, PartialEq, Eq)]
enum Scan {
    /// Nothing `Value` would refuse.
    Plain,
    /// Arrays and objects nested deeper than the limit.
    TooDeep,
    /// A number with an exponent or of over 300 digits (it may be out of f64's range), or a
    /// `\uD...` escape (it may be a lone surrogate): only a full parse can tell.
    NeedsFullParse,
}

/// One pass over `text`, valid JSON: the nesting of arrays and objects (brackets inside strings
/// skipped, escapes included), and the constructs only a full parse can judge.
fn scan(text: &str, limit: usize) -> Scan {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut digits = 0usize;
    let mut needs_full = false;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        i += 1;
        if in_string {
            match b {
                b'\\' => {
                    if bytes.get(i) == Some(&b'u') && matches!(bytes.get(i + 1), Some(b'd' | b'D'))
                    {
                        needs_full = true;
                    }
                    // Skip the escaped character (the hex digits that may follow are plain).
                    i += 1;
                }
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Scan::TooDeep;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            // Outside strings, `e` is an exponent only right after a digit (else it is in
            // `true` or `false`).
            b'e' | b'E' if digits > 0 => needs_full = true,
            _ => {}
        }
        if b.is_ascii_digit() {
            digits += 1;
            if digits > 300 {
                needs_full = true;
            }
        } else if b != b'.' {
            digits = 0;
        }
    }
    if needs_full {
        Scan::NeedsFullParse
    } else {
        Scan::Plain
    }
}

fn parse(raw: &RawValue) -> Option<Value> {
    serde_json::from_str(raw.get()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCS: &[&str] = &[
        r#"{"id":"evt_1","type":"invoice.paid","data":{"object":{"id":"in_1","lines":[{"a":1},{"a":2}],"n":null}}}"#,
        r#"  {"a/b":1,"m~n":2,"":3," ":4,"dup":1,"dup":2,"esc\"aped":5,"\u00e9":6,"nested":{"":{"x":[0,[1,[2]]]}}}  "#,
        r#"[10,{"k":"v"},[true,false,null],"s",1.5e3]"#,
        r#""just a string""#,
        "42",
        "null",
        r#"{"deep":{"deeper":{"deepest":{"v":"found"}}},"num":-0.0,"big":18446744073709551616}"#,
        "{}",
        "[]",
    ];

    const POINTERS: &[&str] = &[
        "",
        "/",
        "/id",
        "/type",
        "/data",
        "/data/object/id",
        "/data/object/lines/0/a",
        "/data/object/lines/1",
        "/data/object/lines/2",
        "/data/object/lines/01",
        "/data/object/lines/+1",
        "/data/object/lines/-1",
        "/data/object/n",
        "/data/object/n/x",
        "/a~1b",
        "/m~0n",
        "/a/b",
        "/ ",
        "/dup",
        "/esc\"aped",
        "/\u{e9}",
        "/nested//x/1/1/0",
        "/nested//x/1/1/0/0",
        "/0",
        "/1/k",
        "/2/2",
        "/4",
        "/5",
        "/00",
        "/deep/deeper/deepest/v",
        "/num",
        "/big",
        "no-leading-slash",
        "/~2",
        "/missing/path",
    ];

    #[test]
    fn pointers_answer_exactly_as_serde_json_value_does() {
        for doc in DOCS {
            let value: Value = serde_json::from_str(doc).unwrap();
            let lazy = LazyJson::parse(doc.as_bytes()).unwrap();
            for pointer in POINTERS {
                assert_eq!(
                    lazy.pointer(pointer),
                    value.pointer(pointer).cloned(),
                    "{pointer:?} in {doc}"
                );
            }
        }
    }

    #[test]
    fn get_is_a_top_level_member() {
        for doc in DOCS {
            let value: Value = serde_json::from_str(doc).unwrap();
            let lazy = LazyJson::parse(doc.as_bytes()).unwrap();
            for key in ["id", "type", "dup", "a/b", "", "0", "missing"] {
                assert_eq!(lazy.get(key), value.get(key).cloned(), "{key:?} in {doc}");
            }
        }
    }

    #[test]
    fn validation_refuses_what_serde_json_refuses() {
        for bad in [
            "",
            " ",
            "{",
            r#"{"a":1,}"#,
            r#"{"a":1} x"#,
            "[1 2]",
            "nul",
            r#"{"a":"\x"}"#,
            "{\"a\":\"\u{1}\"}",
            "01",
            "1.",
            "{'a':1}",
        ] {
            assert!(
                serde_json::from_str::<Value>(bad).is_err(),
                "{bad:?} is JSON?"
            );
            assert!(LazyJson::parse(bad.as_bytes()).is_none(), "{bad:?}");
        }
        // Invalid UTF-8, inside a string and outside.
        assert!(LazyJson::parse(b"{\"a\":\"\xff\"}").is_none());
        assert!(LazyJson::parse(b"\xef\xbb\xbf{}").is_none());
    }

    #[test]
    fn what_skipping_accepts_but_value_refuses_is_refused() {
        // Found by the lazy_json fuzz target: a number out of f64's range.
        let huge = format!("9{}e57777777", "7".repeat(20));
        let long = "1".repeat(400);
        for doc in [
            huge.as_str(),
            "[1e400]",
            "{\"a\":-1E+309}",
            long.as_str(),
            r#""\ud800""#,
            r#"{"s":"\uDC00 alone"}"#,
            r#"["\ud83d"]"#,
        ] {
            assert!(serde_json::from_str::<Value>(doc).is_err(), "{doc}");
            assert!(LazyJson::parse(doc.as_bytes()).is_none(), "{doc}");
        }
        // ...and their valid neighbours still pass.
        let long_ok = "1".repeat(300);
        for doc in [
            "[1e300, 2E-5, 0.5e1]",
            long_ok.as_str(),
            r#""\ud83d\ude00""#,
            r#"{"e":true,"f":false}"#,
            r#""\u00e9\\ud800""#,
        ] {
            assert!(serde_json::from_str::<Value>(doc).is_ok(), "{doc}");
            assert!(LazyJson::parse(doc.as_bytes()).is_some(), "{doc}");
        }
        assert_eq!(scan("[1,true,false,\"1e5\"]", 10), Scan::Plain);
        assert_eq!(scan("[1e5]", 10), Scan::NeedsFullParse);
    }

    #[test]
    fn raw_is_the_document_without_surrounding_whitespace() {
        let lazy = LazyJson::parse(b" \n{\"a\": [1, 2]}\t").unwrap();
        assert_eq!(lazy.raw().get(), "{\"a\": [1, 2]}");
    }

    #[test]
    fn nesting_is_limited_exactly_where_serde_json_value_limits_it() {
        for n in [1, 100, 126, 127, 128, 129, 10_000] {
            for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
                let doc = open.repeat(n) + "1" + &close.repeat(n);
                assert_eq!(
                    LazyJson::parse(doc.as_bytes()).is_some(),
                    serde_json::from_str::<Value>(&doc).is_ok(),
                    "depth {n} with {open}"
                );
            }
        }
        // Brackets inside strings, escaped quotes included, do not count.
        let doc = format!("[\"{}\\\"{}\"]", "[".repeat(500), "{".repeat(500));
        assert!(serde_json::from_str::<Value>(&doc).is_ok());
        assert!(LazyJson::parse(doc.as_bytes()).is_some());
    }
}
