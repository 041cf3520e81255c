//! Endpoint filters: a small boolean expression over an event, such as
//! `data.amount >= 100 and data.currency == "usd"`.
//!
//! An endpoint with a filter receives only the events it matches (after its `events` patterns).
//!
//! # Language
//!
//! ```text
//! filter     = or_expr
//! or_expr    = and_expr *( "or" and_expr )
//! and_expr   = unary *( "and" unary )
//! unary      = "not" unary / primary
//! primary    = "(" or_expr ")"
//!            / "exists" "(" path ")"
//!            / operand ( cmp_op operand / "in" list / "contains" operand )
//! cmp_op     = "==" / "!=" / "<" / "<=" / ">" / ">="
//! operand    = path / literal
//! list       = "[" [ literal *( "," literal ) ] "]"
//! path       = "type" / "id" / "data" *( "." segment / "[" string "]" )
//! segment    = 1*( ALPHA / DIGIT / "_" / "-" )
//! literal    = number / string / "true" / "false" / "null"
//! number     = a JSON number            ; -12, 0.5, 1e3
//! string     = a JSON string            ; "usd", "caf\u00e9", "a \"quoted\" word"
//! ```
//!
//! * Whitespace (space, tab, CR, LF) may separate tokens; a path is written without spaces.
//! * Keywords (`and or not in contains exists true false null`) are lower case and reserved.
//! * Precedence, tightest first: comparisons, `not`, `and`, `or`. So
//!   `not a == 1 or b == 2 and c == 3` is `(not (a == 1)) or ((b == 2) and (c == 3))`.
//! * `type` is the event type and `id` the message id (both strings); `data` is the payload.
//!   Neither `type` nor `id` has fields.
//! * A path segment is an object key or, on an array, an index written in decimal without
//!   leading zeros: `data.items.0.sku`. Keys with other characters are quoted:
//!   `data["weird key"]`, `data.lines["0"]`. If an object repeats a key, the last copy counts
//!   (as in `serde_json`).
//!
//! # Meaning
//!
//! * `==` and `!=` compare any two JSON values. Numbers are equal when numerically equal (`1 == 1.0`);
//!   arrays and objects when their elements are, recursively; values of different types never are.
//! * `<`, `<=`, `>`, `>=` order two numbers numerically or two strings lexicographically (by
//!   Unicode code point). Between any other pair of values they are false.
//! * `x in [a, b, ...]` is true when `x == a` or `x == b` ...; the list holds literals only.
//! * `x contains y` is true when both are strings and `y` is a substring of `x`, or when `x` is an
//!   array with an element equal to `y`. Otherwise false.
//! * `exists(path)` is true when the path leads to a value, including `null`.
//! * **A missing path makes every comparison it is part of false**: with no `data.x`,
//!   `data.x == 1`, `data.x != 1`, `data.x == null` and `data.x in [1]` are all false, so
//!   `not data.x == 1` is true. Use `exists(data.x)` to tell missing from `null`.
//!
//! # Limits
//!
//! A filter comes from configuration, so parsing is defensive: the source is at most
//! [`MAX_FILTER_BYTES`] bytes, `(` and `not` nest at most [`MAX_FILTER_DEPTH`] deep and a path
//! has at most [`MAX_PATH_SEGMENTS`] segments; anything else is a [`FilterError`] that names the
//! byte offset. Evaluation visits each node of the expression at most once (no regular
//! expressions, no backtracking); substring search is linear-time.

use std::cmp::Ordering;
use std::str::FromStr;

use serde_json::{Number, Value};

/// The longest filter accepted, in bytes.
pub const MAX_FILTER_BYTES: usize = 4096;
/// How deep parentheses and `not` may nest in a filter.
pub const MAX_FILTER_DEPTH: usize = 32;
/// The most segments a `data` path may have (in filters and body templates).
pub const MAX_PATH_SEGMENTS: usize = 32;

/// A parsed filter expression; see the [module docs](self) for the language.
///
/// `Display` and `Serialize` give back the source text; `Deserialize` parses a string.
#[derive(Clone)]
pub struct Filter {
    source: String,
    expr: Expr,
}

/// Why a filter does not parse: where (a byte offset into the source) and what.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("at byte {offset}: {message}")]
pub struct FilterError {
    /// The byte offset into the filter source where the problem is.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

impl Filter {
    /// True when the event matches the filter.
    pub fn matches(&self, event_type: &str, message_id: &str, data: &Value) -> bool {
        let ctx = Ctx {
            event_type,
            message_id,
            data,
        };
        ctx.eval(&self.expr)
    }

    /// The source text.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

crate::string_backed!(Filter, this => this.source.as_str(), eq_by_text);

impl FromStr for Filter {
    type Err = FilterError;

    fn from_str(source: &str) -> Result<Self, Self::Err> {
        if source.len() > MAX_FILTER_BYTES {
            return Err(FilterError {
                offset: MAX_FILTER_BYTES,
                message: format!(
                    "a filter must be at most {MAX_FILTER_BYTES} bytes (this one is {})",
                    source.len()
                ),
            });
        }
        let mut p = Parser {
            src: source,
            pos: 0,
            depth: 0,
        };
        p.skip_ws();
        if p.pos >= source.len() {
            return Err(p.error(p.pos, "empty filter"));
        }
        let expr = p.or_expr()?;
        p.skip_ws();
        if p.pos < source.len() {
            return Err(p.error(
                p.pos,
                format!(
                    "unexpected {}; expected `and`, `or` or the end of the filter",
                    p.found()
                ),
            ));
        }
        Ok(Self {
            source: source.to_owned(),
            expr,
        })
    }
}

// ------------------------------------------------------------------------------------------
// Syntax tree
// ------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    Exists(Path),
    Compare(Operand, CmpOp, Operand),
    In(Operand, Vec<Value>),
    Contains(Operand, Operand),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Debug)]
enum Operand {
    Path(Path),
    Literal(Value),
}

#[derive(Clone, Debug)]
enum Path {
    Type,
    Id,
    Data(Vec<String>),
}

// ------------------------------------------------------------------------------------------
// Paths and string literals (shared with `render`)
// ------------------------------------------------------------------------------------------

/// A parse problem: byte offset and message.
pub(crate) type Located = (usize, String);

fn is_segment_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Parses the segments that follow `data` at byte `pos` of `src`:
/// `*( "." segment / "[" string "]" )`. Returns them and the position after the last one.
pub(crate) fn parse_segments(src: &str, mut pos: usize) -> Result<(Vec<String>, usize), Located> {
    let bytes = src.as_bytes();
    let mut segments = Vec::new();
    loop {
        let start = pos;
        let segment = match bytes.get(pos) {
            Some(b'.') => {
                pos += 1;
                let from = pos;
                while bytes.get(pos).copied().is_some_and(is_segment_byte) {
                    pos += 1;
                }
                if pos == from {
                    return Err((
                        pos,
                        "expected a key or an index after `.` (quote other keys: data[\"key\"])"
                            .to_owned(),
                    ));
                }
                src.get(from..pos).unwrap_or_default().to_owned()
            }
            Some(b'[') => {
                pos += 1;
                if bytes.get(pos) != Some(&b'"') {
                    return Err((
                        pos,
                        "expected a quoted key after `[`, such as [\"key\"]".to_owned(),
                    ));
                }
                let (key, after) = parse_json_string(src, pos)?;
                pos = after;
                if bytes.get(pos) != Some(&b']') {
                    return Err((pos, "expected `]` after the quoted key".to_owned()));
                }
                pos += 1;
                key
            }
            _ => return Ok((segments, pos)),
        };
        if segments.len() >= MAX_PATH_SEGMENTS {
            return Err((
                start,
                format!("a path may have at most {MAX_PATH_SEGMENTS} segments"),
            ));
        }
        segments.push(segment);
    }
}

/// Parses the JSON string literal that starts (with `"`) at byte `pos` of `src`. Returns the
/// decoded string and the position after the closing quote.
pub(crate) fn parse_json_string(src: &str, pos: usize) -> Result<(String, usize), Located> {
    let bytes = src.as_bytes();
    let mut i = pos + 1;
    let end = loop {
        match bytes.get(i) {
            None => return Err((pos, "unterminated string".to_owned())),
            Some(b'\\') => i += 2,
            Some(b'"') => break i + 1,
            Some(_) => i += 1,
        }
    };
    let token = src.get(pos..end).unwrap_or_default();
    match serde_json::from_str::<String>(token) {
        Ok(s) => Ok((s, end)),
        Err(e) => Err((
            pos + e.column().saturating_sub(1),
            "invalid string: control characters must be escaped and the only escapes are \
             \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX"
                .to_owned(),
        )),
    }
}

/// The index a path segment denotes on an array: decimal without leading zeros.
pub(crate) fn segment_index(segment: &str) -> Option<usize> {
    let canonical = segment == "0"
        || (!segment.starts_with('0')
            && !segment.is_empty()
            && segment.bytes().all(|b| b.is_ascii_digit()));
    if canonical {
        segment.parse().ok()
    } else {
        None
    }
}

// ------------------------------------------------------------------------------------------
// Parser
// ------------------------------------------------------------------------------------------

const KEYWORDS: [&str; 9] = [
    "and", "or", "not", "in", "contains", "exists", "true", "false", "null",
];

struct Parser<'s> {
    src: &'s str,
    pos: usize,
    depth: usize,
}

impl<'s> Parser<'s> {
    fn error(&self, offset: usize, message: impl Into<String>) -> FilterError {
        FilterError {
            offset,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// What is at the current position, for error messages.
    fn found(&self) -> String {
        if let Some(word) = self.word() {
            return format!("`{word}`");
        }
        match self
            .src
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
        {
            Some(c) => format!("`{c}`"),
            None => "the end of the filter".to_owned(),
        }
    }

    /// The identifier-like word at the current position, if any.
    fn word(&self) -> Option<&'s str> {
        let bytes = self.src.as_bytes();
        let first = *bytes.get(self.pos)?;
        if !(first.is_ascii_alphabetic() || first == b'_') {
            return None;
        }
        let mut end = self.pos + 1;
        while bytes
            .get(end)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            end += 1;
        }
        self.src.get(self.pos..end)
    }

    /// Consumes `keyword` (after whitespace) when it comes next.
    fn keyword(&mut self, keyword: &str) -> bool {
        self.skip_ws();
        if self.word() == Some(keyword) {
            self.pos += keyword.len();
            true
        } else {
            false
        }
    }

    fn expect_byte(&mut self, b: u8, what: &str) -> Result<(), FilterError> {
        self.skip_ws();
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(self.pos, format!("expected {what}, found {}", self.found())))
        }
    }

    fn enter(&mut self, at: usize) -> Result<(), FilterError> {
        if self.depth >= MAX_FILTER_DEPTH {
            return Err(self.error(
                at,
                format!("parentheses and `not` may nest at most {MAX_FILTER_DEPTH} deep"),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    fn or_expr(&mut self) -> Result<Expr, FilterError> {
        let mut items = vec![self.and_expr()?];
        while self.keyword("or") {
            items.push(self.and_expr()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Expr::Or(Vec::new()))
        } else {
            Expr::Or(items)
        })
    }

    fn and_expr(&mut self) -> Result<Expr, FilterError> {
        let mut items = vec![self.unary()?];
        while self.keyword("and") {
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Expr::And(Vec::new()))
        } else {
            Expr::And(items)
        })
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        self.skip_ws();
        let at = self.pos;
        if self.keyword("not") {
            self.enter(at)?;
            let inner = self.unary()?;
            self.depth -= 1;
            Ok(Expr::Not(Box::new(inner)))
        } else {
            self.primary()
        }
    }

    fn primary(&mut self) -> Result<Expr, FilterError> {
        self.skip_ws();
        let at = self.pos;
        if self.peek() == Some(b'(') {
            self.enter(at)?;
            self.pos += 1;
            let inner = self.or_expr()?;
            self.expect_byte(b')', &format!("`)` to close the `(` at byte {at}"))?;
            self.depth -= 1;
            return Ok(inner);
        }
        if self.keyword("exists") {
            self.expect_byte(b'(', "`(` after `exists`")?;
            self.skip_ws();
            let arg_at = self.pos;
            let path = match self.operand()? {
                Operand::Path(path) => path,
                Operand::Literal(_) => {
                    return Err(self.error(arg_at, "exists() takes a path, such as exists(data.x)"));
                }
            };
            self.expect_byte(b')', "`)` to close `exists(`")?;
            return Ok(Expr::Exists(path));
        }
        let left = self.operand()?;
        self.skip_ws();
        let two = self.src.as_bytes().get(self.pos..self.pos + 2);
        let op = match two {
            Some(b"==") => Some((CmpOp::Eq, 2)),
            Some(b"!=") => Some((CmpOp::Ne, 2)),
            Some(b"<=") => Some((CmpOp::Le, 2)),
            Some(b">=") => Some((CmpOp::Ge, 2)),
            _ => match self.peek() {
                Some(b'<') => Some((CmpOp::Lt, 1)),
                Some(b'>') => Some((CmpOp::Gt, 1)),
                Some(b'=') => return Err(self.error(self.pos, "`=` is not an operator; use `==`")),
                _ => None,
            },
        };
        if let Some((op, len)) = op {
            self.pos += len;
            let right = self.operand()?;
            return Ok(Expr::Compare(left, op, right));
        }
        if self.keyword("in") {
            return Ok(Expr::In(left, self.list()?));
        }
        if self.keyword("contains") {
            let right = self.operand()?;
            return Ok(Expr::Contains(left, right));
        }
        Err(self.error(
            self.pos,
            format!(
                "expected a comparison (==, !=, <, <=, >, >=, in, contains), found {}",
                self.found()
            ),
        ))
    }

    fn list(&mut self) -> Result<Vec<Value>, FilterError> {
        self.expect_byte(b'[', "a list such as [\"a\", \"b\"] after `in`")?;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(items);
        }
        loop {
            self.skip_ws();
            let at = self.pos;
            match self.operand()? {
                Operand::Literal(v) => items.push(v),
                Operand::Path(_) => {
                    return Err(self.error(at, "a list after `in` holds literals only"));
                }
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(items);
                }
                _ => {
                    return Err(self.error(
                        self.pos,
                        format!("expected `,` or `]` in the list, found {}", self.found()),
                    ));
                }
            }
        }
    }

    fn operand(&mut self) -> Result<Operand, FilterError> {
        self.skip_ws();
        let at = self.pos;
        match self.peek() {
            Some(b'"') => {
                let (s, end) =
                    parse_json_string(self.src, at).map_err(|(o, m)| self.error(o, m))?;
                self.pos = end;
                return Ok(Operand::Literal(Value::String(s)));
            }
            Some(b'-' | b'0'..=b'9') => return self.number(),
            _ => {}
        }
        let Some(word) = self.word() else {
            return Err(self.error(
                at,
                format!("expected a path or a literal, found {}", self.found()),
            ));
        };
        let after = at + word.len();
        let operand = match word {
            "true" => Operand::Literal(Value::Bool(true)),
            "false" => Operand::Literal(Value::Bool(false)),
            "null" => Operand::Literal(Value::Null),
            "type" | "id" => {
                if matches!(self.src.as_bytes().get(after), Some(b'.' | b'[')) {
                    return Err(
                        self.error(after, format!("`{word}` is a string and has no fields"))
                    );
                }
                Operand::Path(if word == "type" { Path::Type } else { Path::Id })
            }
            "data" => {
                let (segments, end) =
                    parse_segments(self.src, after).map_err(|(o, m)| self.error(o, m))?;
                self.pos = end;
                return Ok(Operand::Path(Path::Data(segments)));
            }
            _ if KEYWORDS.contains(&word) => {
                return Err(self.error(at, format!("expected a path or a literal, found `{word}`")));
            }
            _ => {
                return Err(self.error(
                    at,
                    format!("unknown name `{word}`; paths start with `type`, `id` or `data`"),
                ));
            }
        };
        self.pos = after;
        Ok(operand)
    }

    fn number(&mut self) -> Result<Operand, FilterError> {
        let at = self.pos;
        let bytes = self.src.as_bytes();
        let mut end = at;
        while bytes
            .get(end)
            .is_some_and(|b| matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
        {
            end += 1;
        }
        let token = self.src.get(at..end).unwrap_or_default();
        match serde_json::from_str::<Number>(token) {
            Ok(n) => {
                self.pos = end;
                Ok(Operand::Literal(Value::Number(n)))
            }
            Err(_) => Err(self.error(
                at,
                format!("invalid number `{token}` (numbers are written as in JSON)"),
            )),
        }
    }
}

// ------------------------------------------------------------------------------------------
// Evaluation
// ------------------------------------------------------------------------------------------

struct Ctx<'a> {
    event_type: &'a str,
    message_id: &'a str,
    data: &'a Value,
}

/// A resolved operand: one of the event's strings, or a JSON value.
#[derive(Clone, Copy)]
enum Val<'a> {
    Str(&'a str),
    Json(&'a Value),
}

impl<'a> Val<'a> {
    fn as_str(self) -> Option<&'a str> {
        match self {
            Val::Str(s) => Some(s),
            Val::Json(Value::String(s)) => Some(s),
            Val::Json(_) => None,
        }
    }
}

impl<'a> Ctx<'a> {
    fn eval(&self, expr: &Expr) -> bool {
        match expr {
            Expr::Or(items) => items.iter().any(|e| self.eval(e)),
            Expr::And(items) => items.iter().all(|e| self.eval(e)),
            Expr::Not(inner) => !self.eval(inner),
            Expr::Exists(path) => self.path(path).is_some(),
            Expr::Compare(l, op, r) => match (self.operand(l), self.operand(r)) {
                (Some(l), Some(r)) => compare(l, *op, r),
                _ => false,
            },
            Expr::In(l, list) => self
                .operand(l)
                .is_some_and(|l| list.iter().any(|item| val_eq(l, Val::Json(item)))),
            Expr::Contains(l, r) => match (self.operand(l), self.operand(r)) {
                (Some(l), Some(r)) => contains(l, r),
                _ => false,
            },
        }
    }

    fn operand<'e>(&self, operand: &'e Operand) -> Option<Val<'e>>
    where
        'a: 'e,
    {
        match operand {
            Operand::Literal(v) => Some(Val::Json(v)),
            Operand::Path(p) => self.path(p),
        }
    }

    fn path(&self, path: &Path) -> Option<Val<'a>> {
        match path {
            Path::Type => Some(Val::Str(self.event_type)),
            Path::Id => Some(Val::Str(self.message_id)),
            Path::Data(segments) => {
                let mut v = self.data;
                for segment in segments {
                    v = match v {
                        Value::Object(map) => map.get(segment)?,
                        Value::Array(items) => items.get(segment_index(segment)?)?,
                        _ => return None,
                    };
                }
                Some(Val::Json(v))
            }
        }
    }
}

fn compare(l: Val<'_>, op: CmpOp, r: Val<'_>) -> bool {
    match op {
        CmpOp::Eq => val_eq(l, r),
        CmpOp::Ne => !val_eq(l, r),
        CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
            let ord = match (l, r) {
                (Val::Json(Value::Number(a)), Val::Json(Value::Number(b))) => num_cmp(a, b),
                _ => match (l.as_str(), r.as_str()) {
                    (Some(a), Some(b)) => Some(a.cmp(b)),
                    _ => None,
                },
            };
            let Some(ord) = ord else { return false };
            match op {
                CmpOp::Lt => ord == Ordering::Less,
                CmpOp::Le => ord != Ordering::Greater,
                CmpOp::Gt => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            }
        }
    }
}

fn contains(l: Val<'_>, r: Val<'_>) -> bool {
    match l {
        Val::Json(Value::Array(items)) => items.iter().any(|item| val_eq(Val::Json(item), r)),
        _ => match (l.as_str(), r.as_str()) {
            (Some(haystack), Some(needle)) => haystack.contains(needle),
            _ => false,
        },
    }
}

fn val_eq(l: Val<'_>, r: Val<'_>) -> bool {
    match (l, r) {
        (Val::Json(a), Val::Json(b)) => json_eq(a, b),
        _ => match (l.as_str(), r.as_str()) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
    }
}

/// Structural equality where numbers compare numerically. Iterative, so values built in code
/// (which `serde_json`'s recursion limit never saw) cannot overflow the stack.
fn json_eq(a: &Value, b: &Value) -> bool {
    let mut stack = vec![(a, b)];
    while let Some(pair) = stack.pop() {
        match pair {
            (Value::Number(x), Value::Number(y)) => {
                if num_cmp(x, y) != Some(Ordering::Equal) {
                    return false;
                }
            }
            (Value::Array(x), Value::Array(y)) => {
                if x.len() != y.len() {
                    return false;
                }
                stack.extend(x.iter().zip(y));
            }
            (Value::Object(x), Value::Object(y)) => {
                if x.len() != y.len() {
                    return false;
                }
                for (key, xv) in x {
                    match y.get(key) {
                        Some(yv) => stack.push((xv, yv)),
                        None => return false,
                    }
                }
            }
            (x, y) => {
                if x != y {
                    return false;
                }
            }
        }
    }
    true
}

/// Numeric order: exact for two integers, through `f64` when either has a fraction or exponent.
fn num_cmp(a: &Number, b: &Number) -> Option<Ordering> {
    fn int(n: &Number) -> Option<i128> {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    }
    match (int(a), int(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    fn invoice() -> Value {
        json!({
            "id": "in_1Q2w3E",
            "amount": 12500,
            "ratio": 0.25,
            "big": 18446744073709551615u64,
            "neg": -3,
            "currency": "usd",
            "country": "DE",
            "paid": true,
            "note": null,
            "customer": {"email": "ada@example.com", "name": "Ada \"The\" Lovelace"},
            "tags": ["vip", "eu", 7],
            "lines": [
                {"sku": "PLAN-PRO", "qty": 2, "price": 5000},
                {"sku": "SEAT", "qty": 5, "price": 500}
            ],
            "weird key": "w",
            "0": "zero-key",
            "a-b": 1,
            "café": "crème",
            "empty": {},
            "nested": {"list": [[1, 2], [3, 4]]}
        })
    }

    fn eval(src: &str) -> bool {
        let f: Filter = src.parse().unwrap_or_else(|e| panic!("{src}: {e}"));
        f.matches("invoice.paid", "msg_01HZX", &invoice())
    }

    fn err(src: &str) -> FilterError {
        match src.parse::<Filter>() {
            Ok(f) => panic!("{src} parsed: {f:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn operators_table() {
        let cases: &[(&str, bool)] = &[
            // == and !=
            ("data.amount == 12500", true),
            ("data.amount == 12500.0", true),
            ("data.amount == 1.25e4", true),
            ("data.amount != 12500", false),
            ("data.amount != 1", true),
            ("data.currency == \"usd\"", true),
            ("data.currency == \"USD\"", false),
            ("data.paid == true", true),
            ("data.paid == false", false),
            ("data.note == null", true),
            ("data.note != null", false),
            ("data.customer.name == \"Ada \\\"The\\\" Lovelace\"", true),
            ("data[\"café\"] == \"cr\\u00e8me\"", true),
            ("data[\"weird key\"] == \"w\"", true),
            ("data[\"0\"] == \"zero-key\"", true),
            ("data.0 == \"zero-key\"", true),
            ("data.a-b == 1", true),
            ("type == \"invoice.paid\"", true),
            ("id == \"msg_01HZX\"", true),
            ("\"invoice.paid\" == type", true),
            ("1 == 1", true),
            ("data.big == 18446744073709551615", true),
            ("data.big == 18446744073709551614", false),
            ("data.neg == -3", true),
            ("data.empty == data.empty", true),
            ("data.lines.0 == data.lines.0", true),
            ("data.lines.0 == data.lines.1", false),
            ("data.nested.list.1.0 == 3", true),
            ("data.lines.1.sku == \"SEAT\"", true),
            // ordering
            ("data.amount >= 100", true),
            ("data.amount > 12500", false),
            ("data.amount >= 12500", true),
            ("data.amount < 12500.5", true),
            ("data.amount <= 12499", false),
            ("data.ratio < 0.5", true),
            ("data.ratio > 1e-3", true),
            ("data.neg < 0", true),
            ("data.big > 1", true),
            ("data.big > 1.0", true),
            ("data.currency < \"zzz\"", true),
            ("data.currency > \"usc\"", true),
            ("data.currency >= \"usd\"", true),
            ("data.currency <= \"us\"", false),
            ("type < \"j\"", true),
            ("\"b\" > \"a\"", true),
            ("\"é\" > \"z\"", true), // code-point order
            // in
            ("data.country in [\"DE\", \"FR\"]", true),
            ("data.country in [\"FR\"]", false),
            ("data.country in []", false),
            ("data.amount in [1, 12500.0]", true),
            ("data.note in [null]", true),
            ("type in [\"invoice.paid\", \"invoice.failed\"]", true),
            ("id in [\"x\"]", false),
            // contains
            ("data.customer.email contains \"@example.\"", true),
            ("data.customer.email contains \"@evil\"", false),
            ("data.customer.email contains \"\"", true),
            ("data.tags contains \"vip\"", true),
            ("data.tags contains 7", true),
            ("data.tags contains 7.0", true),
            ("data.tags contains \"7\"", false),
            ("data.tags contains \"vi\"", false),
            ("type contains \"paid\"", true),
            ("id contains \"01\"", true),
            ("data.tags contains data.currency", false),
            ("data.nested.list contains data.nested.list.0", true),
            // exists
            ("exists(data.amount)", true),
            ("exists(data.note)", true),
            ("exists(data.missing)", false),
            ("exists(data.lines.1.sku)", true),
            ("exists(data.lines.2)", false),
            ("exists(data.lines.01)", false),
            ("exists(type)", true),
            ("exists(data)", true),
            ("exists( data.customer[\"email\"] )", true),
        ];
        for &(src, want) in cases {
            assert_eq!(eval(src), want, "{src}");
        }
    }

    #[test]
    fn type_mismatches_are_false() {
        let cases: &[(&str, bool)] = &[
            ("data.amount == \"12500\"", false),
            ("data.amount != \"12500\"", true),
            ("data.paid == 1", false),
            ("data.note == false", false),
            ("data.amount < \"z\"", false),
            ("data.amount > \"0\"", false),
            ("data.currency > 1", false),
            ("data.paid > false", false),
            ("data.paid >= true", false),
            ("data.note <= null", false),
            ("data.tags < data.tags", false),
            ("data.customer > data.empty", false),
            ("data.amount contains 1", false),
            ("data.customer contains \"email\"", false),
            ("data.currency contains 1", false),
            ("data.amount in [\"12500\"]", false),
            ("data.customer == data.lines", false),
        ];
        for &(src, want) in cases {
            assert_eq!(eval(src), want, "{src}");
        }
    }

    #[test]
    fn missing_paths_make_comparisons_false() {
        let cases: &[(&str, bool)] = &[
            ("data.missing == 1", false),
            ("data.missing != 1", false),
            ("data.missing == null", false),
            ("data.missing < 1", false),
            ("data.missing in [1, null]", false),
            ("data.missing contains \"x\"", false),
            ("data.customer contains data.missing", false),
            ("data.missing == data.missing", false),
            ("not data.missing == 1", true),
            ("not data.missing != 1", true),
            ("data.currency.x == \"usd\"", false),
            ("data.tags.x == 1", false),
            ("data.tags.3 == 1", false),
            ("data.tags.-1 == 1", false),
            ("data.tags.00 == \"vip\"", false),
            ("data.tags.0 == \"vip\"", true),
            ("data.amount.0 == 1", false),
        ];
        for &(src, want) in cases {
            assert_eq!(eval(src), want, "{src}");
        }
    }

    #[test]
    fn precedence_and_boolean_logic() {
        let t = "data.paid == true";
        let f = "data.paid == false";
        let cases: Vec<(String, bool)> = vec![
            // and binds tighter than or
            (format!("{t} or {f} and {f}"), true),
            (format!("({t} or {f}) and {f}"), false),
            (format!("{f} and {f} or {t}"), true),
            (format!("{f} and ({f} or {t})"), false),
            // not binds tighter than and / or
            (format!("not {f} and {t}"), true),
            (format!("not ({f} and {t})"), true),
            (format!("not {t} or {t}"), true),
            (format!("not ({t} or {t})"), false),
            (format!("not not {t}"), true),
            (format!("not not not {t}"), false),
            (format!("{t} and {t} and {t} and {f}"), false),
            (format!("{f} or {f} or {f} or {t}"), true),
            (format!("(((({t}))))"), true),
            (format!("not({f})"), true),
            // keywords need a word boundary; whitespace is optional around symbols
            ("data.amount>=100and data.currency==\"usd\"".to_owned(), true),
            ("(data.amount>=100)or(data.neg>0)".to_owned(), true),
            (
                "\n\tdata.amount >= 100\r\n and data.currency == \"usd\"  ".to_owned(),
                true,
            ),
            // The brief's example.
            (
                "data.amount >= 100 and data.currency == \"usd\"".to_owned(),
                true,
            ),
            (
                "data.amount >= 100000 or data.country in [\"DE\", \"FR\"] and not data.paid == false"
                    .to_owned(),
                true,
            ),
        ];
        for (src, want) in cases {
            assert_eq!(eval(&src), want, "{src}");
        }
    }

    #[test]
    fn parse_errors_have_offsets() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 0, "empty filter"),
            ("   ", 3, "empty filter"),
            ("data.amount", 11, "expected a comparison"),
            ("data.amount = 1", 12, "use `==`"),
            ("data.amount == ", 15, "found the end of the filter"),
            ("data.amount == 1 data.x == 2", 17, "expected `and`, `or`"),
            ("data.amount == 1 and", 20, "expected a path or a literal"),
            ("data.amount == 1 or or", 20, "found `or`"),
            ("amount == 1", 0, "unknown name `amount`"),
            ("data. == 1", 5, "expected a key or an index after `.`"),
            ("data.a..b == 1", 7, "expected a key or an index after `.`"),
            ("data[weird] == 1", 5, "expected a quoted key"),
            ("data[\"weird\" == 1", 12, "expected `]`"),
            ("data[\"weird == 1", 5, "unterminated string"),
            ("data.x == \"abc", 10, "unterminated string"),
            ("data.x == \"a\\qb\"", 13, "invalid string"),
            ("data.x == \"a\tb\"", 12, "invalid string"),
            ("data.x == 01", 10, "invalid number `01`"),
            ("data.x == 1.", 10, "invalid number"),
            ("data.x == -", 10, "invalid number"),
            ("data.x == 1e999", 10, "invalid number"),
            ("data.x == +1", 10, "found `+`"),
            ("type.x == 1", 4, "has no fields"),
            ("id[\"x\"] == 1", 2, "has no fields"),
            ("(data.x == 1", 12, "`)` to close the `(` at byte 0"),
            ("data.x == 1)", 11, "unexpected `)`"),
            ("exists data.x", 7, "`(` after `exists`"),
            ("exists(1)", 7, "takes a path"),
            ("data.tags == [1]", 13, "found `[`"),
            ("data.café == 1", 8, "found `é`"),
            ("exists(data.x", 13, "`)` to close `exists(`"),
            ("data.x in \"a\"", 10, "a list"),
            ("data.x in [data.y]", 11, "literals only"),
            ("data.x in [1 2]", 13, "expected `,` or `]`"),
            ("data.x in [1,]", 13, "expected a path or a literal"),
            ("data.x in [1", 12, "expected `,` or `]`"),
            ("data.x == True", 10, "unknown name `True`"),
            ("data.x AND data.y", 7, "found `AND`"),
            ("data.x == 1 && data.y == 2", 12, "unexpected `&`"),
            ("data.x == é", 10, "found `é`"),
            ("not", 3, "found the end of the filter"),
            ("data.x contains", 15, "found the end"),
        ];
        for &(src, offset, needle) in cases {
            let e = err(src);
            assert_eq!(e.offset, offset, "{src}: {e}");
            assert!(e.message.contains(needle), "{src}: {e}");
            assert!(e.to_string().starts_with(&format!("at byte {offset}: ")));
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let ok = format!(
            "{}data.x == 1{}",
            "(".repeat(MAX_FILTER_DEPTH),
            ")".repeat(MAX_FILTER_DEPTH)
        );
        assert!(ok.parse::<Filter>().is_ok());
        let deep = format!(
            "{}data.x == 1{}",
            "(".repeat(MAX_FILTER_DEPTH + 1),
            ")".repeat(MAX_FILTER_DEPTH + 1)
        );
        let e = err(&deep);
        assert_eq!(e.offset, MAX_FILTER_DEPTH);
        assert!(e.message.contains("nest"), "{e}");

        let nots = format!("{}data.paid == true", "not ".repeat(MAX_FILTER_DEPTH));
        assert!(eval(&nots));
        let e = err(&format!(
            "{}data.paid == true",
            "not ".repeat(MAX_FILTER_DEPTH + 1)
        ));
        assert_eq!(e.offset, 4 * MAX_FILTER_DEPTH);
        let mixed = format!("{}data.x == 1{}", "not (".repeat(17), ")".repeat(17));
        assert!(err(&mixed).message.contains("nest"));

        // Hostile input at the size limit parses or fails fast, without recursion trouble.
        let hostile = "(".repeat(MAX_FILTER_BYTES);
        assert_eq!(err(&hostile).offset, MAX_FILTER_DEPTH);
        let hostile = "not ".repeat(MAX_FILTER_BYTES / 4);
        assert_eq!(err(&hostile).offset, 4 * MAX_FILTER_DEPTH);
    }

    #[test]
    fn size_limit_and_long_flat_filters() {
        // A long flat chain is fine: `and` / `or` chains are lists, not nested trees.
        let clause = "data.amount > 1 or ";
        let n = (MAX_FILTER_BYTES - 20) / clause.len();
        let mut long = clause.repeat(n);
        long.push_str("data.amount > 1");
        assert!(long.len() <= MAX_FILTER_BYTES);
        assert!(eval(&long));

        let exact = format!("data.x == \"{}\"", "a".repeat(MAX_FILTER_BYTES - 12));
        assert_eq!(exact.len(), MAX_FILTER_BYTES);
        assert!(!eval(&exact));
        let over = format!("data.x == \"{}\"", "a".repeat(MAX_FILTER_BYTES - 11));
        let e = err(&over);
        assert_eq!(e.offset, MAX_FILTER_BYTES);
        assert!(e.message.contains("at most 4096 bytes"), "{e}");

        let segs = |n: usize| format!("exists(data{})", ".a".repeat(n));
        assert!(segs(MAX_PATH_SEGMENTS).parse::<Filter>().is_ok());
        let e = err(&segs(MAX_PATH_SEGMENTS + 1));
        assert_eq!(e.offset, 11 + 2 * MAX_PATH_SEGMENTS);
        assert!(e.message.contains("at most 32 segments"), "{e}");
    }

    #[test]
    fn evaluation_against_other_events() {
        let f: Filter = "type == \"invoice.paid\" and not exists(data.test)"
            .parse()
            .unwrap();
        assert!(f.matches("invoice.paid", "m1", &json!({})));
        assert!(!f.matches("invoice.paid", "m1", &json!({"test": false})));
        assert!(!f.matches("invoice.created", "m1", &json!({})));
        // data need not be an object.
        let f: Filter = "data == 3 or data contains \"x\"".parse().unwrap();
        assert!(f.matches("t", "m", &json!(3)));
        assert!(f.matches("t", "m", &json!("axb")));
        assert!(f.matches("t", "m", &json!(["x"])));
        assert!(!f.matches("t", "m", &json!(null)));
        // Deep data compares without recursion.
        let mut deep = json!(1);
        for _ in 0..20_000 {
            deep = Value::Array(vec![deep]);
        }
        let f: Filter = "data == data".parse().unwrap();
        assert!(f.matches("t", "m", &deep));
        let f: Filter = "data.0.0.0 contains 1".parse().unwrap();
        assert!(!f.matches("t", "m", &deep));
        // Prevent a recursive drop of the deep value overflowing the test's stack.
        let mut v = deep;
        while let Value::Array(mut items) = v {
            v = items.pop().unwrap_or(Value::Null);
        }
    }

    #[test]
    fn display_debug_and_serde_round_trip() {
        let src = "data.amount >= 100 and data.currency == \"usd\"";
        let f: Filter = src.parse().unwrap();
        assert_eq!(f.to_string(), src);
        assert_eq!(f.as_str(), src);
        assert_eq!(format!("{f:?}"), format!("Filter({src:?})"));
        assert_eq!(f.to_string().parse::<Filter>().unwrap(), f);

        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(json, serde_json::to_string(src).unwrap());
        assert_eq!(serde_json::from_str::<Filter>(&json).unwrap(), f);

        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Endpoint {
            filter: Filter,
        }
        let toml_src = "filter = 'data.amount >= 100 and data.currency == \"usd\"'\n";
        let e: Endpoint = toml::from_str(toml_src).unwrap();
        assert_eq!(e.filter, f);
        let back: Endpoint = toml::from_str(&toml::to_string(&e).unwrap()).unwrap();
        assert_eq!(back, e);

        let bad = serde_json::from_str::<Filter>("\"data.x = 1\"").unwrap_err();
        assert!(
            bad.to_string()
                .contains("at byte 7: `=` is not an operator"),
            "{bad}"
        );
        assert!(serde_json::from_str::<Filter>("42").is_err());
    }

    #[test]
    fn segment_indices() {
        assert_eq!(segment_index("0"), Some(0));
        assert_eq!(segment_index("17"), Some(17));
        assert_eq!(segment_index("007"), None);
        assert_eq!(segment_index(""), None);
        assert_eq!(segment_index("-1"), None);
        assert_eq!(segment_index("1a"), None);
        assert_eq!(segment_index("99999999999999999999999"), None);
    }

    /// A deterministic stand-in for the fuzzer: mutated filters never panic.
    #[test]
    fn parser_never_panics() {
        let seeds = [
            "data.amount >= 100 and data.currency == \"usd\"",
            "not (exists(data[\"a b\"]) or type in [\"x\", 1.5e3, null, true])",
            "data.items.0.sku contains \"\\u00e9\\\"\" or id != \"m\"",
        ];
        let alphabet = "()[]\"\\.,=!<>-+0123456789eEadnotrxsiu \té";
        let data = invoice();
        crate::testkit::mangle_text(&seeds, alphabet, 48, 0x2545_F491_4F6C_DD1D, |s| {
            if let Ok(f) = s.parse::<Filter>() {
                assert_eq!(f.to_string(), s);
                let _ = f.matches("invoice.paid", "m", &data);
            }
        });
    }
}
