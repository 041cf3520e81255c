//! A request body read as JSON without building its tree.
//!
//! The receiver needs three things from a JSON body: that it is valid JSON, its exact bytes (the
//! envelope carries them untouched), and a few fields (the event id and type, a handshake's
//! `type` or `challenge`). Parsing the whole body into a [`serde_json::Value`] allocates a node
//! per value and costs several times the HMAC over the same bytes; in the Worker's wasm, with its
//! slower allocator, it was most of a request's own work. [`LazyJson`] validates the body in one
//! hand-written pass that allocates nothing but a list of the top-level members (where each key
//! and value sits), then answers a JSON pointer by skipping through only the objects and arrays
//! on its path, and parses only the value found into a `Value`.
//!
//! The validator accepts exactly what `serde_json::from_slice::<Value>` accepts (RFC 8259, plus
//! serde_json's limits: 127 levels of nesting, numbers within f64's range, no lone UTF-16
//! surrogates in `\u` escapes). The grammar and the nesting are checked in the pass; the
//! constructs only a full parse can judge (a number with an exponent or of over 300 digits, a
//! `\uD...` escape: rare in webhooks) send the body to `serde_json` whole, as before. The tests
//! and the `lazy_json` fuzz target compare it with `serde_json` on every input.
//!
//! Lookups follow [`serde_json::Value::pointer`] exactly (RFC 6901, `~0`/`~1` escapes, array
//! indexes without `+` or leading zeros, the last of duplicate keys); the tests compare the two.

use std::borrow::Cow;

use serde::Deserialize as _;
use serde::de::value::{BorrowedStrDeserializer, Error as DeError, MapDeserializer};
use serde_json::Value;
use serde_json::value::RawValue;

/// Where one member of an object sits in the document: byte ranges of its key (inside the
/// quotes) and of its value.
#[derive(Clone, Copy, Debug, Default)]
struct Member {
    key: (usize, usize),
    /// The key has a `\` escape: compare it decoded.
    key_escaped: bool,
    value: (usize, usize),
}

/// A validated JSON document, looked into lazily. Borrowed from the body; nothing is copied
/// until a lookup returns a value.
pub struct LazyJson<'a> {
    /// The whole body; every range below indexes it.
    text: &'a str,
    raw: &'a RawValue,
    /// The top-level members when the document is an object (in document order), else `None`.
    top: Option<Vec<Member>>,
}

impl<'a> LazyJson<'a> {
    /// Validates `bytes` as one JSON value (UTF-8, surrounding whitespace allowed, nothing
    /// after it), in one pass that builds nothing but the list of top-level members. `None` when
    /// it is not JSON.
    pub fn parse(bytes: &'a [u8]) -> Option<Self> {
        let text = std::str::from_utf8(bytes).ok()?;
        let checked = validate(bytes)?;
        let doc = text.get(checked.start..checked.end)?;
        if checked.needs_full_parse {
            // Numbers out of f64's range and lone surrogates: only `Value` can tell.
            serde_json::from_str::<Value>(doc).ok()?;
        }
        Some(Self {
            text,
            raw: raw_value(doc)?,
            top: checked.members,
        })
    }

    /// The document's text, without surrounding whitespace.
    pub fn raw(&self) -> &'a RawValue {
        self.raw
    }

    /// The text of a top-level member's value; `None` when the document is not an object or
    /// lacks `key` (the last one when it is repeated, as `Value` keeps).
    fn member(&self, key: &str) -> Option<&'a str> {
        let text = self.text;
        let found = self
            .top
            .as_ref()?
            .iter()
            .rev()
            .find(|m| key_is(text, m, key))?;
        text.get(found.value.0..found.value.1)
    }

    /// A top-level member, parsed; `None` when the document is not an object or lacks `key`.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.member(key).and_then(parse)
    }

    /// The value at a JSON pointer (RFC 6901), parsed; `""` is the whole document. The same
    /// answers as [`serde_json::Value::pointer`].
    pub fn pointer(&self, pointer: &str) -> Option<Value> {
        if pointer.is_empty() {
            return parse(self.raw.get());
        }
        let rest = pointer.strip_prefix('/')?;
        // The usual case, a top-level member such as `/id`: one token without escapes.
        if self.top.is_some() && !rest.bytes().any(|b| b == b'/' || b == b'~') {
            return self.member(rest).and_then(parse);
        }
        let mut tokens = rest.split('/').map(|t| {
            if t.contains('~') {
                Cow::Owned(t.replace("~1", "/").replace("~0", "~"))
            } else {
                Cow::Borrowed(t)
            }
        });
        let first = tokens.next()?;
        let mut current = match &self.top {
            Some(_) => self.member(&first)?,
            None => child(self.raw.get(), &first)?,
        };
        for token in tokens {
            current = child(current, &token)?;
        }
        parse(current)
    }
}

/// Whether the member's key, as written at `m.key` in `text`, is `key` once unescaped.
fn key_is(text: &str, m: &Member, key: &str) -> bool {
    let Some(written) = text.get(m.key.0..m.key.1) else {
        return false;
    };
    if !m.key_escaped {
        return written == key;
    }
    // The quotes around the key are part of the document, one byte each side.
    text.get(m.key.0.saturating_sub(1)..m.key.1 + 1)
        .and_then(|quoted| serde_json::from_str::<String>(quoted).ok())
        .is_some_and(|decoded| decoded == key)
}

/// The child of a valid JSON value `value` (its text, starting at its first byte) named by one
/// pointer token: an object's member (the last of repeated keys) or an array's element.
fn child<'t>(value: &'t str, token: &str) -> Option<&'t str> {
    let bytes = value.as_bytes();
    match bytes.first() {
        Some(b'{') => {
            let mut found = None;
            for m in members(bytes) {
                if key_is(value, &m, token) {
                    found = Some(m.value);
                }
            }
            let (start, end) = found?;
            value.get(start..end)
        }
        Some(b'[') => {
            let index = parse_index(token)?;
            let (start, end) = elements(bytes).nth(index)?;
            value.get(start..end)
        }
        _ => None,
    }
}

/// An array index as RFC 6901 (and serde_json) reads it: digits only, no leading zeros.
fn parse_index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.starts_with('0') && token.len() > 1) {
        return None;
    }
    token.parse().ok()
}

/// The `&RawValue` of `doc`, one JSON value that [`validate`] accepted, without serde_json's
/// validating pass over it again: serde_json builds a borrowed `RawValue` from a map of its
/// private token to the text (its own parser hands one over this way). Should a later
/// serde_json stop doing so, this falls back to its validating parse: slower, never wrong; the
/// test `raw_values_are_built_without_a_second_pass` fails then, so the slowdown is noticed.
fn raw_value(doc: &str) -> Option<&RawValue> {
    raw_value_unchecked(doc).or_else(|| serde_json::from_str(doc).ok())
}

/// serde_json's private name for a raw value, as `serde_json::raw::TOKEN` spells it.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

fn raw_value_unchecked(doc: &str) -> Option<&RawValue> {
    let entry = (
        RAW_VALUE_TOKEN,
        BorrowedStrDeserializer::<DeError>::new(doc),
    );
    let map = MapDeserializer::<_, DeError>::new(std::iter::once(entry));
    <&RawValue>::deserialize(map).ok()
}

/// One valid JSON value's text, parsed. A string without escapes (the usual id or type) is
/// its own text between the quotes (the validator refused control characters in it), so it
/// needs no parser; anything else goes through serde_json.
fn parse(text: &str) -> Option<Value> {
    if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"'))
        && !inner.bytes().any(|b| b == b'\\' || b == b'"')
    {
        return Some(Value::String(inner.to_owned()));
    }
    serde_json::from_str(text).ok()
}

/// The deepest nesting of arrays and objects [`serde_json::Value`] parses (its recursion limit).
const MAX_DEPTH: usize = 127;

/// What [`validate`] found in a document that the grammar accepts.
#[derive(Debug)]
struct Checked {
    /// The value's byte range, without surrounding whitespace.
    start: usize,
    end: usize,
    /// The top-level members, when the document is an object.
    members: Option<Vec<Member>>,
    /// A number with an exponent or of over 300 digits (it may be out of f64's range), or a
    /// `\uD...` escape (it may be a lone surrogate): only a full parse can tell.
    needs_full_parse: bool,
}

/// Checks `bytes` against the JSON grammar (RFC 8259) in one pass, with serde_json's nesting
/// limit; `None` when it is not JSON. Bytes of 0x80 and over are accepted inside strings only:
/// the caller checks UTF-8. Iterative, with the open arrays and objects kept as bits of a
/// `u128` (the nesting limit is under 128), so nothing is allocated but the member list.
fn validate(bytes: &[u8]) -> Option<Checked> {
    let mut needs_full_parse = false;
    let mut members: Option<Vec<Member>> = None;
    // Bit 0 is set when the innermost open container is an object.
    let mut stack: u128 = 0;
    let mut depth = 0usize;
    let mut i = skip_ws(bytes, 0);
    let start = i;
    // Each turn of 'value reads one value starting at `i` (whitespace already skipped).
    'value: loop {
        let top_member = depth == 1 && stack & 1 == 1;
        if top_member && let Some(m) = members.as_mut().and_then(|v| v.last_mut()) {
            m.value.0 = i;
        }
        match *bytes.get(i)? {
            open @ (b'{' | b'[') => {
                let is_object = open == b'{';
                depth += 1;
                if depth > MAX_DEPTH {
                    return None;
                }
                stack = (stack << 1) | u128::from(is_object);
                if depth == 1 && is_object {
                    members = Some(Vec::with_capacity(16));
                }
                i = skip_ws(bytes, i + 1);
                let close = if is_object { b'}' } else { b']' };
                if bytes.get(i) == Some(&close) {
                    i += 1;
                    depth -= 1;
                    stack >>= 1;
                } else if is_object {
                    i = key(bytes, i, depth, &mut members, &mut needs_full_parse)?;
                    continue 'value;
                } else {
                    continue 'value;
                }
            }
            b'"' => i = string(bytes, i + 1, &mut needs_full_parse)?.0,
            b't' => i = literal(bytes, i, b"true")?,
            b'f' => i = literal(bytes, i, b"false")?,
            b'n' => i = literal(bytes, i, b"null")?,
            b'-' | b'0'..=b'9' => i = number(bytes, i, &mut needs_full_parse)?,
            _ => return None,
        }
        // After a value: a separator, the end of open containers, or the end of the document.
        loop {
            if depth == 0 {
                let end = i;
                return (skip_ws(bytes, i) == bytes.len()).then_some(Checked {
                    start,
                    end,
                    members,
                    needs_full_parse,
                });
            }
            let in_object = stack & 1 == 1;
            if depth == 1
                && in_object
                && let Some(m) = members.as_mut().and_then(|v| v.last_mut())
            {
                m.value.1 = i;
            }
            i = skip_ws(bytes, i);
            match (bytes.get(i), in_object) {
                (Some(b','), true) => {
                    i = skip_ws(bytes, i + 1);
                    i = key(bytes, i, depth, &mut members, &mut needs_full_parse)?;
                    continue 'value;
                }
                (Some(b','), false) => {
                    i = skip_ws(bytes, i + 1);
                    continue 'value;
                }
                (Some(b'}'), true) | (Some(b']'), false) => {
                    i += 1;
                    depth -= 1;
                    stack >>= 1;
                }
                _ => return None,
            }
        }
    }
}

/// An object's key at `i` (its opening quote), the colon and the whitespace after it; returns
/// where the value starts. Keys of the top-level object (`depth` 1) are added to `members`.
#[inline(always)]
fn key(
    bytes: &[u8],
    i: usize,
    depth: usize,
    members: &mut Option<Vec<Member>>,
    needs_full_parse: &mut bool,
) -> Option<usize> {
    if bytes.get(i) != Some(&b'"') {
        return None;
    }
    let (end, key_escaped) = string(bytes, i + 1, needs_full_parse)?;
    if depth == 1
        && let Some(list) = members.as_mut()
    {
        list.push(Member {
            key: (i + 1, end - 1),
            key_escaped,
            value: (0, 0),
        });
    }
    let colon = skip_ws(bytes, end);
    if bytes.get(colon) != Some(&b':') {
        return None;
    }
    Some(skip_ws(bytes, colon + 1))
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while matches!(bytes.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

fn literal(bytes: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    let end = i + word.len();
    (bytes.get(i..end) == Some(word)).then_some(end)
}

/// A number starting at `i`; returns where it ends. Sets `needs_full_parse` for an exponent or
/// over 300 digits (without either, the value is under 1e300: within f64's range).
#[inline(always)]
fn number(bytes: &[u8], mut i: usize, needs_full_parse: &mut bool) -> Option<usize> {
    let digits_from = |bytes: &[u8], mut i: usize| {
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    if bytes.get(i) == Some(&b'-') {
        i += 1;
    }
    let int_start = i;
    i = match bytes.get(i) {
        Some(b'0') => i + 1,
        Some(b'1'..=b'9') => digits_from(bytes, i + 1),
        _ => return None,
    };
    let mut digits = i - int_start;
    if bytes.get(i) == Some(&b'.') {
        let frac_start = i + 1;
        i = digits_from(bytes, frac_start);
        if i == frac_start {
            return None;
        }
        digits += i - frac_start;
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_start = i;
        i = digits_from(bytes, exp_start);
        if i == exp_start {
            return None;
        }
        *needs_full_parse = true;
    }
    if digits > 300 {
        *needs_full_parse = true;
    }
    Some(i)
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The bytes of `word` (8 bytes, little-endian) that a string's fast path stops at, a quote, a
/// backslash or a control character (under 0x20), as the high bit of each; zero when none.
/// The lowest bit set marks the first such byte exactly (borrows only run upwards, so only the
/// bytes after a true one can be marked falsely), which is all the caller reads.
fn string_specials(word: u64) -> u64 {
    // The high bit of each byte under `n` (n <= 128); bytes of 0x80 and over are never marked.
    let under = |w: u64, n: u64| w.wrapping_sub(ONES * n) & !w & HIGHS;
    under(word ^ (ONES * u64::from(b'"')), 1)
        | under(word ^ (ONES * u64::from(b'\\')), 1)
        | under(word, 0x20)
}

/// The rest of a string whose opening quote is just before `i`: returns where it ends (after
/// its closing quote) and whether it has escapes. Refuses control characters and bad escapes;
/// flags `\uD...` (a surrogate, perhaps lone) for a full parse.
#[inline(always)]
fn string(bytes: &[u8], mut i: usize, needs_full_parse: &mut bool) -> Option<(usize, bool)> {
    let mut escaped = false;
    loop {
        // Eight bytes at a time to the first one that needs a look.
        while let Some(chunk) = bytes.get(i..).and_then(<[u8]>::first_chunk::<8>) {
            let specials = string_specials(u64::from_le_bytes(*chunk));
            if specials != 0 {
                // At most 7: the index of the first special byte in the chunk.
                i += (specials.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        let b = *bytes.get(i)?;
        i += 1;
        match b {
            b'"' => return Some((i, escaped)),
            b'\\' => {
                escaped = true;
                match *bytes.get(i)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 1,
                    b'u' => {
                        let hex = bytes.get(i + 1..i + 5)?;
                        if !hex.iter().all(u8::is_ascii_hexdigit) {
                            return None;
                        }
                        if matches!(hex.first(), Some(b'd' | b'D')) {
                            *needs_full_parse = true;
                        }
                        i += 5;
                    }
                    _ => return None,
                }
            }
            0..=0x1f => return None,
            _ => {}
        }
    }
}

/// The end of the valid JSON value starting at `i` (no validation: the document passed
/// [`validate`]). Strings are skipped with the same fast path; containers by counting brackets
/// outside strings; scalars run to the next delimiter.
fn skip_value(bytes: &[u8], mut i: usize) -> usize {
    match bytes.get(i) {
        Some(b'"') => string_end(bytes, i + 1),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            loop {
                match bytes.get(i) {
                    None => return bytes.len(),
                    Some(b'"') => {
                        i = string_end(bytes, i + 1);
                        continue;
                    }
                    Some(b'{' | b'[') => depth += 1,
                    Some(b'}' | b']') => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    Some(_) => {}
                }
                i += 1;
            }
        }
        _ => {
            while bytes
                .get(i)
                .is_some_and(|b| !matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
            {
                i += 1;
            }
            i
        }
    }
}

/// Where the valid string whose opening quote is just before `i` ends (after its closing quote).
fn string_end(bytes: &[u8], i: usize) -> usize {
    // Escapes and surrogates were judged by `validate`; this flag is not read.
    let mut ignored = false;
    string(bytes, i, &mut ignored).map_or(bytes.len(), |(end, _)| end)
}

/// The members of a valid JSON object (`bytes` starting at its `{`), in order.
fn members(bytes: &[u8]) -> impl Iterator<Item = Member> + '_ {
    let mut i = 1;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        i = skip_ws(bytes, i);
        if bytes.get(i) != Some(&b'"') {
            done = true;
            return None;
        }
        let mut ignored = false;
        let Some((key_end, key_escaped)) = string(bytes, i + 1, &mut ignored) else {
            done = true;
            return None;
        };
        let key = (i + 1, key_end - 1);
        // The colon, then the value.
        let value_start = skip_ws(bytes, skip_ws(bytes, key_end) + 1);
        let value_end = skip_value(bytes, value_start);
        i = skip_ws(bytes, value_end);
        if bytes.get(i) == Some(&b',') {
            i += 1;
        } else {
            done = true;
        }
        Some(Member {
            key,
            key_escaped,
            value: (value_start, value_end),
        })
    })
}

/// The elements of a valid JSON array (`bytes` starting at its `[`), as byte ranges, in order.
fn elements(bytes: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut i = 1;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        i = skip_ws(bytes, i);
        if matches!(bytes.get(i), None | Some(b']')) {
            done = true;
            return None;
        }
        let start = i;
        let end = skip_value(bytes, start);
        i = skip_ws(bytes, end);
        if bytes.get(i) == Some(&b',') {
            i += 1;
        } else {
            done = true;
        }
        Some((start, end))
    })
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
        let needs_full = |doc: &str| validate(doc.as_bytes()).unwrap().needs_full_parse;
        assert!(!needs_full("[1,true,false,\"1e5\"]"));
        assert!(needs_full("[1e5]"));
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

    /// `LazyJson::parse` against `Value` on one input: the same verdict, and for a document, the
    /// same text and the same answer for a few pointers.
    fn agrees_with_serde_json(doc: &[u8]) {
        let value = serde_json::from_slice::<Value>(doc).ok();
        let lazy = LazyJson::parse(doc);
        assert_eq!(
            lazy.is_some(),
            value.is_some(),
            "{:?}",
            String::from_utf8_lossy(doc)
        );
        if let (Some(lazy), Some(value)) = (lazy, value) {
            let raw: &RawValue = serde_json::from_slice(doc).unwrap();
            assert_eq!(lazy.raw().get(), raw.get());
            for pointer in ["", "/a", "/0", "/a/0", "/0/a", "/k", "/1"] {
                assert_eq!(lazy.pointer(pointer), value.pointer(pointer).cloned());
            }
        }
    }

    #[test]
    fn strings_are_checked_wherever_a_special_byte_falls() {
        // Each byte that ends the fast path (quote, backslash, every control character) and a
        // few that do not, at every offset of an 8-byte chunk, inside and beside escapes.
        let specials: Vec<u8> = (0u8..0x20).chain([b'"', b'\\', 0x7f, b' ', b'/']).collect();
        for len in 0..20 {
            for at in 0..=len {
                for &b in &specials {
                    let mut s = vec![b'a'; len];
                    s.insert(at, b);
                    for doc in [
                        [b"\"".as_slice(), &s, b"\""].concat(),
                        [b"{\"".as_slice(), &s, b"\":[\"", &s, b"\\n\"]}"].concat(),
                        [b"[\"\\u00e9".as_slice(), &s, b"\\\\\"]"].concat(),
                    ] {
                        agrees_with_serde_json(&doc);
                    }
                }
            }
        }
        // Non-ASCII inside strings is fine when it is UTF-8; outside strings it is not JSON.
        agrees_with_serde_json("[\"é€😀 and more than eight bytes\"]".as_bytes());
        agrees_with_serde_json("[é]".as_bytes());
    }

    #[test]
    fn escapes_and_numbers_agree_with_serde_json() {
        for doc in [
            r#""\"\\\/\b\f\n\r\t""#,
            r#""\u0041\u00e9\uFFFF\uabcd""#,
            r#""\u00g0""#,
            r#""\u00""#,
            r#""\a""#,
            r#""\'""#,
            r#""\"#,
            r#""\ud83d\ude00""#,
            r#""\ud83d\u0041""#,
            r#""\uDBFF\uDFFF""#,
            "0",
            "-0",
            "-",
            "--1",
            "+1",
            "1.5",
            "1.",
            ".5",
            "-.5",
            "01",
            "-01",
            "0.0001",
            "1e5",
            "1E+5",
            "1e-5",
            "1e",
            "1e+",
            "1.5e3",
            "0e99999999999999999999",
            "1e99999999999999999999",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775809",
            "[1,]",
            "[,1]",
            "[1,,2]",
            "{\"a\" 1}",
            "{\"a\":1,\"b\"}",
            "{1:1}",
            "{\"a\":1 \"b\":2}",
            "[1]]",
            "[[1]",
            "{}}",
            "tru",
            "truex",
            "[true,false,null]",
            "nulll",
            " \t\r\n[ \t\r\n1 \t\r\n, \t\r\n{ \"a\" : [ ] } ] \t\r\n",
            "[1]\u{b}",
            "\u{c}[1]",
            "[1] [2]",
        ] {
            agrees_with_serde_json(doc.as_bytes());
        }
    }

    /// Truncations and byte flips of JSON documents, and random bytes: the validator agrees with
    /// serde_json on each (a small deterministic fuzz beside the fuzz target).
    #[test]
    fn mangled_documents_agree_with_serde_json() {
        let mut next = crate::testkit::xorshift(0x2545_f491_4f6c_dd1d);
        for doc in DOCS {
            let bytes = doc.as_bytes();
            for end in 0..=bytes.len() {
                agrees_with_serde_json(&bytes[..end]);
                agrees_with_serde_json(&bytes[end..]);
            }
            for _ in 0..2000 {
                let mut mangled = bytes.to_vec();
                for _ in 0..=(next() % 3) {
                    let i = (next() % mangled.len() as u64) as usize;
                    let alphabet = b"{}[]\":,0 -1.eE+\\u\xffaZtfn\t\n\x01";
                    mangled[i] = alphabet[(next() % alphabet.len() as u64) as usize];
                }
                agrees_with_serde_json(&mangled);
            }
        }
        for _ in 0..3000 {
            let len = (next() % 16) as usize;
            let alphabet = b"{}[]\":, 01-.etrufalsn\\";
            let bytes: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            agrees_with_serde_json(&bytes);
        }
    }

    #[test]
    fn member_lookups_read_escaped_keys_and_take_the_last_duplicate() {
        let doc = r#" { "a" : 1 , "\u0061" : [ 2 , { "k" : "v" } ] , "b\"" : "q" , "x":{"y":{"y":1,"y":2}} } "#;
        let value: Value = serde_json::from_str(doc).unwrap();
        let lazy = LazyJson::parse(doc.as_bytes()).unwrap();
        for pointer in ["/a", "/a/1/k", "/a/0", "/b\"", "/x/y/y", "/x/y", "/x/z"] {
            assert_eq!(
                lazy.pointer(pointer),
                value.pointer(pointer).cloned(),
                "{pointer}"
            );
        }
        assert_eq!(lazy.get("a"), Some(serde_json::json!([2, {"k": "v"}])));
    }

    #[test]
    fn raw_values_are_built_without_a_second_pass() {
        // If serde_json changes how it hands over raw values, `raw_value` still works (through
        // its validating parse) but the receiver pays a second pass again: this test says so.
        for doc in DOCS {
            let doc = doc.trim();
            assert_eq!(
                raw_value_unchecked(doc).map(RawValue::get),
                Some(doc),
                "serde_json no longer builds a RawValue from its private map"
            );
        }
    }

    #[test]
    fn the_fast_path_finds_the_first_special_byte() {
        let mut next = crate::testkit::xorshift(0x1234_5678_9abc_def1);
        let interesting = [
            0u8, 0x1f, 0x20, b'"', b'\\', 0x21, 0x5b, 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff, b'a',
        ];
        for _ in 0..200_000 {
            let chunk: [u8; 8] =
                std::array::from_fn(|_| interesting[(next() % interesting.len() as u64) as usize]);
            let first = chunk
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            let specials = string_specials(u64::from_le_bytes(chunk));
            assert_eq!(
                (specials != 0).then(|| (specials.trailing_zeros() / 8) as usize),
                first,
                "{chunk:x?}"
            );
        }
    }
}
