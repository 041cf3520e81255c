//! The body of one delivery: a [`DeliveryMessage`] rendered in its endpoint's [`Format`].
//!
//! | format | body | content type |
//! |---|---|---|
//! | `standard` | `{"type":..,"timestamp":..,"data":..}` ([Standard Webhooks]) | `application/json` |
//! | `raw` | `data`, byte for byte | `application/json` |
//! | `slack` | a Slack incoming-webhook message, `{"text":..}` | `application/json` |
//! | `discord` | a Discord webhook message, `{"content":..}` | `application/json` |
//! | `template` | the endpoint's [`BodyTemplate`] filled in | `application/json` or `text/plain` |
//!
//! `data` is never re-serialised: wherever it (or a part of it) appears in a body, its bytes are
//! the app's own (key order, number spelling, escapes; see [`crate::envelope`]). Only the
//! Slack and Discord fallback text pretty-prints it, and that keeps the original tokens too.
//!
//! [Standard Webhooks]: https://www.standardwebhooks.com/
//!
//! # Slack and Discord
//!
//! When `data` already is a chat message it is sent as one:
//!
//! * Slack: `data` is an object whose `text` is a string. The body is `{"text":..}` plus
//!   `"blocks"` when `data` has a non-null one (copied as is; Slack validates it).
//! * Discord: `data` is an object whose `content` is a string, or which has no (or a null)
//!   `content` but an `embeds` array. The body holds `content`, `embeds` and
//!   `allowed_mentions`, each when present and not null, copied as is.
//!
//! Any other `data` becomes a readable summary: the event type in bold, the message id as
//! code, then `data` pretty-printed in a code block. It is cut to fit the platform's limit
//! ([`SLACK_TEXT_LIMIT`] for a Slack section's text, [`DISCORD_CONTENT_LIMIT`] for Discord's
//! `content`), counting characters (Unicode scalar values), never splitting one, and ending
//! the cut data with `…`. Because `data` is untrusted, the summary cannot ping anyone: for
//! Slack, `&`, `<` and `>` are escaped as `&amp;`, `&lt;` and `&gt;` (so `<!channel>` is
//! text; an escape is never cut in half), and Discord summaries carry
//! `"allowed_mentions":{"parse":[]}`.
//!
//! # Templates
//!
//! A [`BodyTemplate`] is text with placeholders:
//!
//! ```text
//! template    = *( literal / "\{{" / placeholder )      ; "\{{" is a literal "{{"
//! placeholder = "{{" *WSP name *WSP "}}"                 ; WSP: space, tab, CR, LF
//! name        = "type" / "id" / "endpoint" / "timestamp" / "data" / data-path
//! data-path   = "data" 1*( "." segment / "[" json-string "]" )
//! segment     = 1*( ALPHA / DIGIT / "_" / "-" )
//! ```
//!
//! | placeholder | inserts |
//! |---|---|
//! | `{{type}}` | the event type, as a JSON string |
//! | `{{id}}` | the message id, as a JSON string |
//! | `{{endpoint}}` | the endpoint name, as a JSON string |
//! | `{{timestamp}}` | the event time, as an RFC 3339 JSON string |
//! | `{{data}}` | `data`, its exact JSON text |
//! | `{{data.a.b.0}}`, `{{data["k y"]}}` | that part of `data`, its exact JSON text, or `null` when missing |
//!
//! Every placeholder inserts a **JSON value**: strings come quoted and escaped, objects and
//! arrays as JSON. So a JSON-shaped template such as
//! `{"who": {{data.user.email}}, "kind": {{type}}}` always renders valid JSON, whatever the
//! event holds. Path segments follow the [filter](crate::filter) rules: a segment is an object
//! key or, on an array, a decimal index without leading zeros; when an object repeats a key,
//! the last copy counts.
//!
//! Outside placeholders everything is literal, including single braces and `}}` (so
//! `{"a":{"b":{{type}}}}` works). A backslash is literal too unless it is followed by `{{`;
//! a literal backslash directly before a placeholder therefore cannot be written.
//!
//! Inserted values are JSON, not HTML: a string holding `</script>` stays as it is.
//!
//! **Content type.** A template may produce any text (say, a form-encoded body or a plain
//! message). The body is sent as `application/json` when it parses as JSON, and as
//! `text/plain; charset=utf-8` otherwise; a JSON-shaped template whose output does not parse
//! is thus easy to spot at the receiver rather than an error here.
//!
//! # Limits
//!
//! A template source is at most [`MAX_TEMPLATE_BYTES`] and a path at most
//! [`MAX_PATH_SEGMENTS`](crate::filter::MAX_PATH_SEGMENTS) segments (parse errors name the byte offset). A rendered template
//! over [`MAX_RENDERED_BYTES`] is refused with [`RenderError::TooLarge`], before the body is
//! built. Other formats need no cap: they are at most `data` plus a few hundred bytes
//! (Standard, Raw, pass-through chat messages) or bounded by the chat limits.
//!
//! Rendering reads `data` in one pass per path level, however many placeholders share it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::config::Format;
use crate::envelope::DeliveryMessage;
use crate::filter::{parse_segments, segment_index};

/// The content type of JSON bodies.
pub const APPLICATION_JSON: &str = "application/json";
/// The content type of template output that is not JSON.
pub const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
/// The largest body a template may render: 1 MiB.
pub const MAX_RENDERED_BYTES: usize = 1_048_576;
/// The longest template source accepted: 64 KiB.
pub const MAX_TEMPLATE_BYTES: usize = 65_536;
/// The most characters of a Slack summary's `text` (Slack's limit for a section's text).
pub const SLACK_TEXT_LIMIT: usize = 3000;
/// The most characters of a Discord summary's `content` (Discord's limit for `content`).
pub const DISCORD_CONTENT_LIMIT: usize = 2000;

/// A delivery body and its `Content-Type`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    /// The request body.
    pub body: Vec<u8>,
    /// The `Content-Type` header value.
    pub content_type: &'static str,
}

/// Why a body could not be rendered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// `format = "template"` without a template (configuration validation should prevent it).
    #[error("format \"template\" needs a template")]
    MissingTemplate,
    /// The rendered template would exceed [`MAX_RENDERED_BYTES`].
    #[error("the rendered body would be {size} bytes, over the {max}-byte limit")]
    TooLarge {
        /// The size the body would have had, in bytes.
        size: usize,
        /// The limit ([`MAX_RENDERED_BYTES`]).
        max: usize,
    },
}

impl RenderError {
    /// A stable, machine-readable code for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingTemplate => "missing_template",
            Self::TooLarge { .. } => "body_too_large",
        }
    }
}

/// Renders the body of `msg` in `format`. `template` is used only with [`Format::Template`].
pub fn render(
    format: Format,
    template: Option<&BodyTemplate>,
    msg: &DeliveryMessage,
) -> Result<Rendered, RenderError> {
    let body = match format {
        Format::Standard => standard(msg),
        Format::Raw => msg.data.get().as_bytes().to_vec(),
        Format::Slack => slack(msg),
        Format::Discord => discord(msg),
        Format::Template => {
            return template.ok_or(RenderError::MissingTemplate)?.render(msg);
        }
    };
    Ok(Rendered {
        body,
        content_type: APPLICATION_JSON,
    })
}

fn standard(msg: &DeliveryMessage) -> Vec<u8> {
    let data = msg.data.get();
    let mut out = String::with_capacity(data.len() + msg.event_type.len() + 64);
    out.push_str("{\"type\":");
    push_json_str(&mut out, &msg.event_type);
    out.push_str(",\"timestamp\":");
    push_json_str(&mut out, &msg.timestamp.to_rfc3339());
    out.push_str(",\"data\":");
    out.push_str(data);
    out.push('}');
    out.into_bytes()
}

/// Appends `s` as a JSON string (RFC 8259 escaping: `"`, `\` and control characters).
fn push_json_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c < ' ' => {
                let b = c as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX.get(b >> 4).copied().unwrap_or(b'0')));
                out.push(char::from(HEX.get(b & 0xf).copied().unwrap_or(b'0')));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_json_str(&mut out, s);
    out
}

// ------------------------------------------------------------------------------------------
// Slack and Discord
// ------------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct SlackData<'a> {
    #[serde(borrow, default)]
    text: Option<&'a RawValue>,
    #[serde(borrow, default)]
    blocks: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct DiscordData<'a> {
    #[serde(borrow, default)]
    content: Option<&'a RawValue>,
    #[serde(borrow, default)]
    embeds: Option<&'a RawValue>,
    #[serde(borrow, default)]
    allowed_mentions: Option<&'a RawValue>,
}

/// `data` read as a struct, only when it is a JSON object (serde would also map an array
/// onto the fields by position).
fn as_object<'a, T: Deserialize<'a>>(raw: &'a str) -> Option<T> {
    if raw.trim_start().starts_with('{') {
        serde_json::from_str(raw).ok()
    } else {
        None
    }
}

fn is_string(raw: &RawValue) -> bool {
    raw.get().starts_with('"')
}

/// Builds `{"k1":v1,"k2":v2}` from raw JSON values, skipping absent ones.
fn raw_object(fields: &[(&str, Option<&str>)]) -> Vec<u8> {
    let mut out = String::from("{");
    for (key, value) in fields {
        if let Some(value) = value {
            if out.len() > 1 {
                out.push(',');
            }
            push_json_str(&mut out, key);
            out.push(':');
            out.push_str(value);
        }
    }
    out.push('}');
    out.into_bytes()
}

fn slack(msg: &DeliveryMessage) -> Vec<u8> {
    let raw = msg.data.get();
    if let Some(SlackData {
        text: Some(text),
        blocks,
    }) = as_object::<SlackData<'_>>(raw)
        && is_string(text)
    {
        return raw_object(&[
            ("text", Some(text.get())),
            ("blocks", blocks.map(RawValue::get)),
        ]);
    }
    let prefix = slack_escape(&format!("*{}* `{}`\n```", msg.event_type, msg.message_id));
    let body = slack_escape(&pretty(raw, SLACK_TEXT_LIMIT));
    let text = fit(&prefix, &body, "```", SLACK_TEXT_LIMIT, true);
    raw_object(&[("text", Some(&json_str(&text)))])
}

fn discord(msg: &DeliveryMessage) -> Vec<u8> {
    let raw = msg.data.get();
    if let Some(d) = as_object::<DiscordData<'_>>(raw) {
        let content_ok = d.content.is_some_and(is_string);
        let embeds_only = d.content.is_none() && d.embeds.is_some_and(|e| e.get().starts_with('['));
        if content_ok || embeds_only {
            return raw_object(&[
                ("content", d.content.map(RawValue::get)),
                ("embeds", d.embeds.map(RawValue::get)),
                ("allowed_mentions", d.allowed_mentions.map(RawValue::get)),
            ]);
        }
    }
    let prefix = format!("**{}** `{}`\n```json\n", msg.event_type, msg.message_id);
    let body = pretty(raw, DISCORD_CONTENT_LIMIT);
    let content = fit(&prefix, &body, "\n```", DISCORD_CONTENT_LIMIT, false);
    raw_object(&[
        ("content", Some(&json_str(&content))),
        ("allowed_mentions", Some("{\"parse\":[]}")),
    ])
}

/// Escapes the three characters Slack's message text reserves.
fn slack_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// `prefix + body + suffix`, at most `limit` characters: when it is longer, `body` is cut and
/// ends with `…`. With `entities`, a cut never splits an `&...;` escape.
fn fit(prefix: &str, body: &str, suffix: &str, limit: usize, entities: bool) -> String {
    let fixed = prefix.chars().count() + suffix.chars().count();
    let whole = fixed + body.chars().count();
    let mut out = String::with_capacity(prefix.len() + body.len() + suffix.len() + 3);
    out.push_str(prefix);
    if whole <= limit {
        out.push_str(body);
        out.push_str(suffix);
        return out;
    }
    if fixed + 1 > limit {
        // Only with an absurdly long event type or id (both are at most 256 bytes when valid).
        out.push_str(body);
        out.push_str(suffix);
        return truncate_chars(&out, limit.saturating_sub(1)).to_owned() + "…";
    }
    let mut kept = truncate_chars(body, limit - fixed - 1);
    if entities
        && let Some(amp) = kept.rfind('&')
        && !kept.get(amp..).unwrap_or_default().contains(';')
    {
        kept = kept.get(..amp).unwrap_or_default();
    }
    out.push_str(kept);
    out.push('…');
    out.push_str(suffix);
    out
}

/// The first `n` characters of `s`.
fn truncate_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => s.get(..i).unwrap_or(s),
        None => s,
    }
}

/// Pretty-prints valid JSON text (two-space indent) without parsing it, so every token keeps
/// its spelling and objects their key order. Stops once more than `max_chars` characters have
/// been written: callers cut the result anyway, and deep nesting would otherwise let the
/// indentation grow far beyond the input.
fn pretty(raw: &str, max_chars: usize) -> String {
    struct Out {
        text: String,
        chars: usize,
    }
    impl Out {
        fn push(&mut self, c: char) {
            self.text.push(c);
            self.chars += 1;
        }
        fn newline(&mut self, depth: usize) {
            self.push('\n');
            for _ in 0..depth {
                self.push(' ');
                self.push(' ');
            }
        }
    }
    let is_ws = |c: &char| matches!(c, ' ' | '\t' | '\n' | '\r');
    let mut out = Out {
        text: String::new(),
        chars: 0,
    };
    let mut depth = 0usize;
    let (mut in_string, mut escaped) = (false, false);
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if out.chars > max_chars {
            break;
        }
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            ' ' | '\t' | '\n' | '\r' => {}
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                while chars.next_if(is_ws).is_some() {}
                if let Some(close) = chars.next_if(|c| matches!(c, '}' | ']')) {
                    out.push(close);
                } else {
                    depth += 1;
                    out.newline(depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                out.newline(depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                out.newline(depth);
            }
            ':' => {
                out.push(':');
                out.push(' ');
            }
            c => out.push(c),
        }
    }
    out.text
}

// ------------------------------------------------------------------------------------------
// Templates
// ------------------------------------------------------------------------------------------

/// A body template such as `{"who": {{data.user.email}}, "kind": {{type}}}`; see the
/// [module docs](self) for the language.
///
/// `Display` and `Serialize` give back the source text; `Deserialize` parses a string.
#[derive(Clone)]
pub struct BodyTemplate {
    source: String,
    pieces: Vec<Piece>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Type,
    Id,
    Endpoint,
    Timestamp,
    /// A path into `data`; empty for `data` itself.
    Data(Vec<String>),
}

/// Why a template does not parse: where (a byte offset into the source) and what.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("at byte {offset}: {message}")]
pub struct BodyTemplateError {
    /// The byte offset into the template source where the problem is.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

const NAMES: &str = "type, id, endpoint, timestamp, data or a path such as data.customer.email";

impl BodyTemplate {
    /// The source text.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Renders the template for `msg`; the same as [`render`] with [`Format::Template`].
    pub fn render(&self, msg: &DeliveryMessage) -> Result<Rendered, RenderError> {
        let data = msg.data.get();
        let requests: Vec<(usize, &[String])> = self
            .pieces
            .iter()
            .enumerate()
            .filter_map(|(i, piece)| match piece {
                Piece::Data(path) => Some((i, path.as_slice())),
                _ => None,
            })
            .collect();
        let mut found: Vec<Option<&str>> = vec![None; self.pieces.len()];
        resolve(data, &requests, &mut found);

        let event_type = json_str(&msg.event_type);
        let id = json_str(&msg.message_id);
        let endpoint = json_str(&msg.endpoint);
        let timestamp = json_str(&msg.timestamp.to_rfc3339());
        let parts: Vec<&str> = self
            .pieces
            .iter()
            .zip(&found)
            .map(|(piece, value)| match piece {
                Piece::Literal(text) => text.as_str(),
                Piece::Type => &event_type,
                Piece::Id => &id,
                Piece::Endpoint => &endpoint,
                Piece::Timestamp => &timestamp,
                Piece::Data(_) => value.unwrap_or("null"),
            })
            .collect();
        let size = parts
            .iter()
            .fold(0usize, |sum, part| sum.saturating_add(part.len()));
        if size > MAX_RENDERED_BYTES {
            return Err(RenderError::TooLarge {
                size,
                max: MAX_RENDERED_BYTES,
            });
        }
        let body = parts.concat();
        let content_type = if serde_json::from_str::<IgnoredAny>(&body).is_ok() {
            APPLICATION_JSON
        } else {
            TEXT_PLAIN
        };
        Ok(Rendered {
            body: body.into_bytes(),
            content_type,
        })
    }
}

impl PartialEq for BodyTemplate {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for BodyTemplate {}

crate::string_backed!(BodyTemplate, this => this.source.as_str());

impl FromStr for BodyTemplate {
    type Err = BodyTemplateError;

    fn from_str(source: &str) -> Result<Self, Self::Err> {
        Ok(Self {
            source: source.to_owned(),
            pieces: parse_template(source)?,
        })
    }
}

fn template_error(offset: usize, message: impl Into<String>) -> BodyTemplateError {
    BodyTemplateError {
        offset,
        message: message.into(),
    }
}

fn slice(src: &str, from: usize, to: usize) -> &str {
    src.get(from..to).unwrap_or_default()
}

fn found_at(src: &str, pos: usize) -> String {
    match src.get(pos..).and_then(|rest| rest.chars().next()) {
        Some(c) => format!("`{c}`"),
        None => "the end of the template".to_owned(),
    }
}

fn parse_template(src: &str) -> Result<Vec<Piece>, BodyTemplateError> {
    if src.len() > MAX_TEMPLATE_BYTES {
        return Err(template_error(
            MAX_TEMPLATE_BYTES,
            format!(
                "a template must be at most {MAX_TEMPLATE_BYTES} bytes (this one is {})",
                src.len()
            ),
        ));
    }
    let bytes = src.as_bytes();
    let mut pieces = Vec::new();
    let mut literal = String::new();
    // `from` is where the pending run of literal text starts; `i` only stops on ASCII bytes
    // when slicing, so every slice is on a character boundary.
    let (mut i, mut from) = (0usize, 0usize);
    while i < bytes.len() {
        let rest = bytes.get(i..).unwrap_or_default();
        if rest.starts_with(b"\\{{") {
            literal.push_str(slice(src, from, i));
            literal.push_str("{{");
            i += 3;
            from = i;
        } else if rest.starts_with(b"{{") {
            literal.push_str(slice(src, from, i));
            if !literal.is_empty() {
                pieces.push(Piece::Literal(std::mem::take(&mut literal)));
            }
            let (piece, end) = placeholder(src, i)?;
            pieces.push(piece);
            i = end;
            from = i;
        } else {
            i += 1;
        }
    }
    literal.push_str(slice(src, from, bytes.len()));
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    Ok(pieces)
}

/// Parses the placeholder whose `{{` is at byte `open`; returns it and the position after `}}`.
fn placeholder(src: &str, open: usize) -> Result<(Piece, usize), BodyTemplateError> {
    let bytes = src.as_bytes();
    let skip_ws = |mut pos: usize| {
        while matches!(bytes.get(pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            pos += 1;
        }
        pos
    };
    let unclosed = || {
        template_error(
            open,
            "unclosed `{{` (write `\\{{` for a literal `{{`)".to_owned(),
        )
    };
    let start = skip_ws(open + 2);
    let mut pos = start;
    while bytes
        .get(pos)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
    {
        pos += 1;
    }
    let piece = match slice(src, start, pos) {
        "type" => Piece::Type,
        "id" => Piece::Id,
        "endpoint" => Piece::Endpoint,
        "timestamp" => Piece::Timestamp,
        "data" => {
            let (path, end) =
                parse_segments(src, pos).map_err(|(offset, m)| template_error(offset, m))?;
            pos = end;
            Piece::Data(path)
        }
        "" if start >= bytes.len() => return Err(unclosed()),
        "" => {
            return Err(template_error(
                start,
                format!(
                    "expected a placeholder name ({NAMES}), found {}",
                    found_at(src, start)
                ),
            ));
        }
        other => {
            return Err(template_error(
                start,
                format!("unknown placeholder `{other}`; expected {NAMES}"),
            ));
        }
    };
    let pos = skip_ws(pos);
    if bytes.get(pos..).is_some_and(|rest| rest.starts_with(b"}}")) {
        Ok((piece, pos + 2))
    } else if pos >= bytes.len() {
        Err(unclosed())
    } else {
        Err(template_error(
            pos,
            format!(
                "expected `}}}}` to close the placeholder opened at byte {open}, found {}",
                found_at(src, pos)
            ),
        ))
    }
}

// ------------------------------------------------------------------------------------------
// Finding parts of raw JSON
// ------------------------------------------------------------------------------------------

/// For each `(slot, path)` request, stores in `out[slot]` the exact text of the value at `path`
/// inside the JSON text `raw`, if there is one. Requests sharing a prefix share the work: each
/// level of `raw` is read once, so the cost is at most the size of `raw` times the longest
/// path, however many requests there are.
fn resolve<'a>(raw: &'a str, requests: &[(usize, &[String])], out: &mut [Option<&'a str>]) {
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
    use crate::envelope::RawJson;
    use crate::filter::MAX_PATH_SEGMENTS;
    use crate::time::Timestamp;
    use serde::Serialize;
    use serde_json::{Value, json};

    const INVOICE: &str = r#"{
  "id": "in_1Q2w3E", "object": "invoice",
  "amount_due": 12500, "tax_rate": 19.0, "big": 123456789012345678901234567890,
  "currency": "eur",
  "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
  "lines": [{"sku": "PLAN-PRO", "qty": 2}, {"sku": "SEAT", "qty": 5}],
  "paid": true, "memo": null, "weird key": {"a.b": "dots"}
}"#;

    fn msg_with(event_type: &str, id: &str, data: &str) -> DeliveryMessage {
        DeliveryMessage {
            message_id: id.to_owned(),
            endpoint: "billing".to_owned(),
            event_type: event_type.to_owned(),
            data: RawJson::from_string(data.to_owned()).unwrap(),
            timestamp: Timestamp::from_unix_millis(1_795_435_200_120),
        }
    }

    fn invoice() -> DeliveryMessage {
        msg_with("invoice.paid", "msg_2x9Kq", INVOICE)
    }

    fn body(r: &Rendered) -> &str {
        std::str::from_utf8(&r.body).unwrap()
    }

    fn tpl(src: &str) -> BodyTemplate {
        src.parse().unwrap_or_else(|e| panic!("{src}: {e}"))
    }

    fn render_tpl(src: &str, msg: &DeliveryMessage) -> Rendered {
        render(Format::Template, Some(&tpl(src)), msg).unwrap()
    }

    fn json_of(r: &Rendered) -> Value {
        serde_json::from_slice(&r.body).unwrap()
    }

    #[test]
    fn standard_keeps_data_bytes() {
        let r = render(Format::Standard, None, &invoice()).unwrap();
        assert_eq!(r.content_type, APPLICATION_JSON);
        let expected = format!(
            "{{\"type\":\"invoice.paid\",\"timestamp\":\"2026-11-23T12:00:00.120Z\",\"data\":{INVOICE}}}"
        );
        assert_eq!(body(&r), expected);
        let v = json_of(&r);
        assert_eq!(v["data"]["amount_due"], 12500);
        assert!(body(&r).contains("123456789012345678901234567890"));
        assert!(body(&r).contains("\"tax_rate\": 19.0"));

        // Event types may hold any printable ASCII, quotes and backslashes included.
        let m = msg_with("a\"b\\c</x>", "m1", "[1, 2]");
        let r = render(Format::Standard, None, &m).unwrap();
        assert_eq!(
            body(&r),
            r#"{"type":"a\"b\\c</x>","timestamp":"2026-11-23T12:00:00.120Z","data":[1, 2]}"#
        );
        assert_eq!(json_of(&r)["type"], "a\"b\\c</x>");
        // Unvalidated messages with control characters still give valid JSON.
        let m = msg_with("t\u{1}\n\u{1f}\u{7f}é", "m1", "null");
        let r = render(Format::Standard, None, &m).unwrap();
        assert!(body(&r).starts_with(r#"{"type":"t\u0001\n\u001f"#));
        assert_eq!(json_of(&r)["type"], "t\u{1}\n\u{1f}\u{7f}é");
    }

    #[test]
    fn raw_is_data_verbatim() {
        let r = render(Format::Raw, None, &invoice()).unwrap();
        assert_eq!(body(&r), INVOICE);
        assert_eq!(r.content_type, APPLICATION_JSON);
        let r = render(Format::Raw, None, &msg_with("t", "m", "\"just a string\"")).unwrap();
        assert_eq!(body(&r), "\"just a string\"");
    }

    #[test]
    fn slack_summary_and_pass_through() {
        let r = render(Format::Slack, None, &invoice()).unwrap();
        assert_eq!(r.content_type, APPLICATION_JSON);
        let v = json_of(&r);
        assert_eq!(v.as_object().unwrap().len(), 1);
        let text = v["text"].as_str().unwrap();
        assert!(
            text.starts_with("*invoice.paid* `msg_2x9Kq`\n```{\n  \"id\": \"in_1Q2w3E\",\n"),
            "{text}"
        );
        assert!(text.contains("\n  \"customer\": {\n    \"name\": \"Ada Lovelace\","));
        assert!(text.contains("\"big\": 123456789012345678901234567890,"));
        assert!(text.contains("\"tax_rate\": 19.0,"));
        assert!(text.ends_with("\n  }\n}```"), "{text}");

        // Mentions and links in data cannot ping anyone.
        let m = msg_with("alert<x>", "m1", r#"{"msg":"<!channel> & <@U123>"}"#);
        let text = json_of(&render(Format::Slack, None, &m).unwrap())["text"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            text,
            "*alert&lt;x&gt;* `m1`\n```{\n  \"msg\": \"&lt;!channel&gt; &amp; &lt;@U123&gt;\"\n}```"
        );

        // Pass-through: text (and blocks) copied byte for byte; other fields dropped.
        let data = r#"{"text": "Invoice *paid* \u00e9", "blocks": [ {"type":"section"} ], "x": 1}"#;
        let r = render(Format::Slack, None, &msg_with("t", "m", data)).unwrap();
        assert_eq!(
            body(&r),
            r#"{"text":"Invoice *paid* \u00e9","blocks":[ {"type":"section"} ]}"#
        );
        let r = render(Format::Slack, None, &msg_with("t", "m", r#"{"text":"hi"}"#)).unwrap();
        assert_eq!(body(&r), r#"{"text":"hi"}"#);
        let r = render(
            Format::Slack,
            None,
            &msg_with("t", "m", r#"{"text":"hi","blocks":null}"#),
        )
        .unwrap();
        assert_eq!(body(&r), r#"{"text":"hi"}"#);

        // Not chat messages: summarised.
        for data in [
            r#"{"text": 5}"#,
            r#"{"blocks": []}"#,
            r#"["hi", []]"#,
            r#"{"text":"a","text":"b"}"#,
            r#""text""#,
            "null",
        ] {
            let r = render(Format::Slack, None, &msg_with("t", "m", data)).unwrap();
            let text = json_of(&r)["text"].as_str().unwrap().to_owned();
            assert!(text.starts_with("*t* `m`\n```"), "{data}: {text}");
        }
        let r = render(Format::Slack, None, &msg_with("t", "m", "[ ]")).unwrap();
        assert_eq!(json_of(&r)["text"], "*t* `m`\n```[]```");
    }

    #[test]
    fn discord_summary_and_pass_through() {
        let r = render(Format::Discord, None, &invoice()).unwrap();
        assert_eq!(r.content_type, APPLICATION_JSON);
        let v = json_of(&r);
        let content = v["content"].as_str().unwrap();
        assert!(
            content
                .starts_with("**invoice.paid** `msg_2x9Kq`\n```json\n{\n  \"id\": \"in_1Q2w3E\","),
            "{content}"
        );
        assert!(content.ends_with("\n  }\n}\n```"), "{content}");
        assert_eq!(v["allowed_mentions"], json!({"parse": []}));
        // Discord has no HTML-style escapes: text is kept, mentions are disabled instead.
        let m = msg_with("t", "m", r#"{"msg":"@everyone <@123> & co"}"#);
        let v = json_of(&render(Format::Discord, None, &m).unwrap());
        assert!(
            v["content"]
                .as_str()
                .unwrap()
                .contains("@everyone <@123> & co")
        );
        assert_eq!(v["allowed_mentions"], json!({"parse": []}));

        let cases: &[(&str, &str)] = &[
            (
                r#"{"content": "Invoice paid", "embeds": [{"title": "in_1"}], "tts": true}"#,
                r#"{"content":"Invoice paid","embeds":[{"title": "in_1"}]}"#,
            ),
            (r#"{"content":"hi"}"#, r#"{"content":"hi"}"#),
            (
                r#"{"embeds":[{"title":"x"}],"allowed_mentions":{"parse":["users"]}}"#,
                r#"{"embeds":[{"title":"x"}],"allowed_mentions":{"parse":["users"]}}"#,
            ),
            (r#"{"content":null,"embeds":[]}"#, r#"{"embeds":[]}"#),
        ];
        for &(data, want) in cases {
            let r = render(Format::Discord, None, &msg_with("t", "m", data)).unwrap();
            assert_eq!(body(&r), want, "{data}");
        }
        for data in [
            r#"{"content": 1, "embeds": []}"#,
            r#"{"embeds": {}}"#,
            r#"{"other": "x"}"#,
            r#"["content"]"#,
        ] {
            let r = render(Format::Discord, None, &msg_with("t", "m", data)).unwrap();
            let v = json_of(&r);
            assert!(
                v["content"]
                    .as_str()
                    .unwrap()
                    .starts_with("**t** `m`\n```json\n"),
                "{data}"
            );
        }
    }

    /// Data that pretty-prints to itself: one JSON string of `n` copies of `unit`.
    fn string_data(unit: &str, n: usize) -> String {
        format!("\"{}\"", unit.repeat(n))
    }

    #[test]
    fn slack_truncates_exactly_at_the_limit() {
        let prefix = "*invoice.paid* `msg_1`\n```";
        let fixed = prefix.chars().count() + 3;
        for unit in ["a", "é", "😀", "中"] {
            // Fits exactly: the data string plus its two quotes fill the text to the limit.
            let n = SLACK_TEXT_LIMIT - fixed - 2;
            let m = msg_with("invoice.paid", "msg_1", &string_data(unit, n));
            let v = json_of(&render(Format::Slack, None, &m).unwrap());
            let text = v["text"].as_str().unwrap();
            assert_eq!(text.chars().count(), SLACK_TEXT_LIMIT, "{unit}");
            assert!(!text.contains('…'));
            assert!(text.ends_with(&format!("{unit}\"```")));

            // One more character: cut to exactly the limit, ending in an ellipsis.
            let m = msg_with("invoice.paid", "msg_1", &string_data(unit, n + 1));
            let v = json_of(&render(Format::Slack, None, &m).unwrap());
            let text = v["text"].as_str().unwrap();
            assert_eq!(text.chars().count(), SLACK_TEXT_LIMIT, "{unit}");
            assert!(text.starts_with(prefix));
            assert!(text.ends_with(&format!("{unit}…```")), "{unit}");
            // The opening quote plus n units were kept: one character went for the ellipsis.
            let kept = text.strip_prefix(prefix).unwrap();
            assert_eq!(kept.matches(unit).count(), n);

            let m = msg_with("invoice.paid", "msg_1", &string_data(unit, 100_000));
            let v = json_of(&render(Format::Slack, None, &m).unwrap());
            assert_eq!(
                v["text"].as_str().unwrap().chars().count(),
                SLACK_TEXT_LIMIT
            );
        }
    }

    #[test]
    fn slack_never_cuts_an_escape_in_half() {
        let prefix = "*t* `m`\n```";
        let fixed = prefix.chars().count() + 3;
        // Kept body: `"` then n letters; the cut falls at every offset inside `&lt;`.
        let keep = SLACK_TEXT_LIMIT - fixed - 1;
        for shift in 0..6 {
            let n = keep - 1 - shift;
            let data = format!("\"{}<<<<<<<<<<\"", "x".repeat(n));
            let v = json_of(&render(Format::Slack, None, &msg_with("t", "m", &data)).unwrap());
            let text = v["text"].as_str().unwrap();
            assert!(text.chars().count() <= SLACK_TEXT_LIMIT);
            assert!(text.chars().count() >= SLACK_TEXT_LIMIT - 3);
            let cut = text.strip_suffix("…```").unwrap();
            assert!(
                cut.ends_with('x') || cut.ends_with("&lt;"),
                "{shift}: {cut}"
            );
        }
    }

    #[test]
    fn discord_truncates_exactly_at_the_limit() {
        let prefix = "**invoice.paid** `msg_1`\n```json\n";
        let fixed = prefix.chars().count() + 4;
        for unit in ["a", "ß", "🦀"] {
            let n = DISCORD_CONTENT_LIMIT - fixed - 2;
            let m = msg_with("invoice.paid", "msg_1", &string_data(unit, n));
            let v = json_of(&render(Format::Discord, None, &m).unwrap());
            let content = v["content"].as_str().unwrap();
            assert_eq!(content.chars().count(), DISCORD_CONTENT_LIMIT);
            assert!(content.ends_with(&format!("{unit}\"\n```")));

            let m = msg_with("invoice.paid", "msg_1", &string_data(unit, n + 1));
            let v = json_of(&render(Format::Discord, None, &m).unwrap());
            let content = v["content"].as_str().unwrap();
            assert_eq!(content.chars().count(), DISCORD_CONTENT_LIMIT);
            assert!(content.ends_with(&format!("{unit}…\n```")));
            let kept = content.strip_prefix(prefix).unwrap();
            assert_eq!(kept.matches(unit).count(), n);
        }
    }

    #[test]
    fn summaries_of_huge_and_deep_data_stay_bounded() {
        let deep = format!("{}1{}", "[".repeat(127), "]".repeat(127));
        let wide = format!("[{}1]", "[1,[2,[3]]],".repeat(50_000));
        for data in [deep, wide] {
            let m = msg_with("t", "m", &data);
            for (format, key, limit) in [
                (Format::Slack, "text", SLACK_TEXT_LIMIT),
                (Format::Discord, "content", DISCORD_CONTENT_LIMIT),
            ] {
                let v = json_of(&render(format, None, &m).unwrap());
                let text = v[key].as_str().unwrap();
                assert_eq!(text.chars().count(), limit);
                assert!(text.contains('…'));
            }
        }
        // An absurd (unvalidated) event type still respects the limit.
        let m = msg_with(&"<".repeat(5000), "m", "1");
        let v = json_of(&render(Format::Slack, None, &m).unwrap());
        assert_eq!(
            v["text"].as_str().unwrap().chars().count(),
            SLACK_TEXT_LIMIT
        );
    }

    #[test]
    fn pretty_printing() {
        let cases: &[(&str, &str)] = &[
            ("1", "1"),
            ("\"a, b: {c}\"", "\"a, b: {c}\""),
            ("{}", "{}"),
            ("[ ]", "[]"),
            (
                "{ \"a\" : [ 1 , 2.50 ] , \"b\":{ } }",
                "{\n  \"a\": [\n    1,\n    2.50\n  ],\n  \"b\": {}\n}",
            ),
            (
                r#"["q\"[,]\\", "\u00e9"]"#,
                "[\n  \"q\\\"[,]\\\\\",\n  \"\\u00e9\"\n]",
            ),
        ];
        for &(raw, want) in cases {
            assert_eq!(pretty(raw, usize::MAX), want, "{raw}");
        }
        assert!(pretty(&"[".repeat(100), 50).chars().count() < 60);
    }

    #[test]
    fn template_placeholders_table() {
        let m = invoice();
        let cases: &[(&str, &str)] = &[
            ("{{type}}", r#""invoice.paid""#),
            ("{{id}}", r#""msg_2x9Kq""#),
            ("{{endpoint}}", r#""billing""#),
            ("{{timestamp}}", r#""2026-11-23T12:00:00.120Z""#),
            ("{{data.amount_due}}", "12500"),
            ("{{data.tax_rate}}", "19.0"),
            ("{{data.big}}", "123456789012345678901234567890"),
            (
                "{{data.customer}}",
                r#"{"name": "Ada Lovelace", "email": "ada@example.com"}"#,
            ),
            ("{{data.customer.email}}", r#""ada@example.com""#),
            ("{{data.lines.1.sku}}", r#""SEAT""#),
            ("{{data.lines.0}}", r#"{"sku": "PLAN-PRO", "qty": 2}"#),
            ("{{data.paid}}", "true"),
            ("{{data.memo}}", "null"),
            ("{{data[\"weird key\"][\"a.b\"]}}", r#""dots""#),
            ("{{ type }}", r#""invoice.paid""#),
            ("{{\n\tdata.id\r\n}}", r#""in_1Q2w3E""#),
            // Missing paths insert null.
            ("{{data.missing}}", "null"),
            ("{{data.customer.phone}}", "null"),
            ("{{data.lines.2}}", "null"),
            ("{{data.lines.01}}", "null"),
            ("{{data.lines.sku}}", "null"),
            ("{{data.id.x}}", "null"),
            ("{{data.amount_due.0}}", "null"),
            ("{{data[\"weird key\"].a.b}}", "null"),
            // Escapes and literals.
            ("\\{{type}}", "{{type}}"),
            ("\\{{ {{id}}", r#"{{ "msg_2x9Kq""#),
            ("a\\b\\{c}}", "a\\b\\{c}}"),
            ("{\"a\":{\"b\":{{type}}}}", r#"{"a":{"b":"invoice.paid"}}"#),
            ("}} { } {", "}} { } {"),
            ("", ""),
            ("é{{id}}😀", "é\"msg_2x9Kq\"😀"),
        ];
        for &(src, want) in cases {
            let r = render_tpl(src, &m);
            assert_eq!(body(&r), want, "{src}");
        }
        assert_eq!(
            body(&render_tpl("{{data}}", &m)),
            INVOICE,
            "whole data, byte for byte"
        );
    }

    #[test]
    fn json_template_always_renders_json() {
        let src = r#"{"who": {{data.customer.email}}, "kind": {{type}}, "id": {{id}}, "at": {{timestamp}},
 "amount": {{data.amount_due}}, "first": {{data.lines.0.sku}}, "nope": {{data.nope}}, "raw": {{data}}}"#;
        let r = render_tpl(src, &invoice());
        assert_eq!(r.content_type, APPLICATION_JSON);
        let v = json_of(&r);
        assert_eq!(v["who"], "ada@example.com");
        assert_eq!(v["kind"], "invoice.paid");
        assert_eq!(v["first"], "PLAN-PRO");
        assert_eq!(v["nope"], Value::Null);
        assert_eq!(v["raw"]["lines"][1]["qty"], 5);

        // Hostile strings in data and in the event type.
        let nasty = "a \"quoted\" \\back\\slash\nnew\tline \u{1} é 😀 </script><script>alert(1)</script> \u{2028}";
        let data = serde_json::to_string(&json!({"s": nasty, "k": {"s": nasty}})).unwrap();
        let m = msg_with("evt\"</script>\\", "m1", &data);
        let r = render_tpl(
            r#"<p>{"s": {{data.s}}, "k": {{data.k}}, "t": {{type}}, "list": [{{data.s}}, {{data.k.s}}]}"#,
            &m,
        );
        assert_eq!(r.content_type, TEXT_PLAIN);
        let text = body(&r).strip_prefix("<p>").unwrap();
        let v: Value = serde_json::from_str(text).unwrap();
        assert_eq!(v["s"], nasty);
        assert_eq!(v["k"]["s"], nasty);
        assert_eq!(v["t"], "evt\"</script>\\");
        assert_eq!(v["list"], json!([nasty, nasty]));
        // The data string keeps the app's own escaping.
        assert!(text.contains(r#""a \"quoted\" \\back\\slash\nnew\tline \u0001"#));
        assert!(text.contains("</script><script>"));

        // Escaped keys and repeated keys (the last one counts, as in the filter).
        let m = msg_with(
            "t",
            "m",
            r#"{"a\"b": 1, "dup": 1, "dup": 2, "\u0061": "x"}"#,
        );
        let r = render_tpl(r#"[{{data["a\"b"]}}, {{data.dup}}, {{data.a}}]"#, &m);
        assert_eq!(body(&r), r#"[1, 2, "x"]"#);
    }

    #[test]
    fn non_json_output_is_text_plain() {
        let m = invoice();
        let cases: &[(&str, &str, &str)] = &[
            (
                "Invoice {{data.id}} paid",
                "Invoice \"in_1Q2w3E\" paid",
                TEXT_PLAIN,
            ),
            (
                "{{type}} {{id}}",
                "\"invoice.paid\" \"msg_2x9Kq\"",
                TEXT_PLAIN,
            ),
            ("", "", TEXT_PLAIN),
            ("{\"a\": {{data.id}}", "{\"a\": \"in_1Q2w3E\"", TEXT_PLAIN),
            ("{{type}}", "\"invoice.paid\"", APPLICATION_JSON),
            (" [ {{data.paid}} ] ", " [ true ] ", APPLICATION_JSON),
        ];
        for &(src, want, content_type) in cases {
            let r = render_tpl(src, &m);
            assert_eq!(body(&r), want, "{src}");
            assert_eq!(r.content_type, content_type, "{src}");
        }
    }

    #[test]
    fn template_errors_say_what_and_where() {
        let cases: &[(&str, usize, &str)] = &[
            ("{{", 0, "unclosed `{{`"),
            ("abc {{ type", 4, "unclosed `{{`"),
            ("abc {{   ", 4, "unclosed `{{`"),
            ("{{}}", 2, "expected a placeholder name"),
            ("{{ \"x\" }}", 3, "found `\"`"),
            ("{{ body }}", 3, "unknown placeholder `body`"),
            ("{{Type}}", 2, "unknown placeholder `Type`"),
            (
                "x{{type x}}",
                8,
                "expected `}}` to close the placeholder opened at byte 1",
            ),
            ("{{type.x}}", 6, "expected `}}`"),
            (
                "{{type}",
                6,
                "expected `}}` to close the placeholder opened at byte 0, found `}`",
            ),
            ("{{data.}}", 7, "expected a key or an index after `.`"),
            ("{{data..a}}", 7, "expected a key or an index after `.`"),
            ("{{data[a]}}", 7, "expected a quoted key"),
            ("{{data[\"a\"}}", 10, "expected `]`"),
            ("{{data[\"a}}", 7, "unterminated string"),
            ("{{data[\"\\x\"]}}", 9, "invalid string"),
            ("{{data.a b}}", 9, "expected `}}`"),
            ("{{data.é}}", 7, "expected a key or an index"),
            ("ok \\{{ then {{ nope }}", 15, "unknown placeholder `nope`"),
            ("{{{type}}}", 2, "found `{`"),
        ];
        for &(src, offset, needle) in cases {
            let e = src.parse::<BodyTemplate>().unwrap_err();
            assert_eq!(e.offset, offset, "{src}: {e}");
            assert!(e.message.contains(needle), "{src}: {e}");
            assert!(e.to_string().starts_with(&format!("at byte {offset}: ")));
        }
        let e = format!("{{{{data{}}}}}", ".a".repeat(MAX_PATH_SEGMENTS + 1))
            .parse::<BodyTemplate>()
            .unwrap_err();
        assert_eq!(e.offset, 6 + 2 * MAX_PATH_SEGMENTS);
        assert!(
            format!("{{{{data{}}}}}", ".a".repeat(MAX_PATH_SEGMENTS))
                .parse::<BodyTemplate>()
                .is_ok()
        );
    }

    #[test]
    fn template_size_limits() {
        let ok = "x".repeat(MAX_TEMPLATE_BYTES);
        assert!(ok.parse::<BodyTemplate>().is_ok());
        let e = "x"
            .repeat(MAX_TEMPLATE_BYTES + 1)
            .parse::<BodyTemplate>()
            .unwrap_err();
        assert_eq!(e.offset, MAX_TEMPLATE_BYTES);
        assert!(e.message.contains("at most 65536 bytes"), "{e}");

        // Output: exactly at the limit is fine; one byte more is refused before building it.
        let data = format!("\"{}\"", "a".repeat(MAX_RENDERED_BYTES / 2 - 2));
        let m = msg_with("t", "m", &data);
        let r = render_tpl("{{data}}{{data}}", &m);
        assert_eq!(r.body.len(), MAX_RENDERED_BYTES);
        assert_eq!(r.content_type, TEXT_PLAIN);
        let e = render(Format::Template, Some(&tpl("{{data}}{{data}}x")), &m).unwrap_err();
        assert_eq!(
            e,
            RenderError::TooLarge {
                size: MAX_RENDERED_BYTES + 1,
                max: MAX_RENDERED_BYTES
            }
        );
        assert_eq!(e.code(), "body_too_large");
        // Many placeholders over big data: refused, not quadratic.
        let many = "{{data}}".repeat(MAX_TEMPLATE_BYTES / 8);
        let e = render(Format::Template, Some(&tpl(&many)), &m).unwrap_err();
        assert!(matches!(e, RenderError::TooLarge { .. }));
    }

    #[test]
    fn missing_template_and_error_codes() {
        let e = render(Format::Template, None, &invoice()).unwrap_err();
        assert_eq!(e, RenderError::MissingTemplate);
        assert_eq!(e.code(), "missing_template");
        assert_eq!(e.to_string(), "format \"template\" needs a template");
        // A template is ignored by the other formats.
        let t = tpl("{{id}}");
        assert_eq!(
            render(Format::Raw, Some(&t), &invoice()).unwrap(),
            render(Format::Raw, None, &invoice()).unwrap()
        );
    }

    #[test]
    fn template_display_and_serde_round_trip() {
        let src = r#"{"who": {{ data.customer.email }}, "kind": {{type}}, "lit": "\{{x}}"}"#;
        let t = tpl(src);
        assert_eq!(t.to_string(), src);
        assert_eq!(t.as_str(), src);
        assert_eq!(format!("{t:?}"), format!("BodyTemplate({src:?})"));
        assert_eq!(tpl(&t.to_string()), t);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<BodyTemplate>(&json).unwrap(), t);

        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Endpoint {
            template: BodyTemplate,
        }
        let e = Endpoint { template: t };
        let text = toml::to_string(&e).unwrap();
        assert_eq!(toml::from_str::<Endpoint>(&text).unwrap(), e);
        let e: Endpoint = toml::from_str("template = '''\n{\"t\": {{type}}}\n'''\n").unwrap();
        assert_eq!(e.template.as_str(), "{\"t\": {{type}}}\n");

        let err = serde_json::from_str::<BodyTemplate>(r#""{{ nope }}""#).unwrap_err();
        assert!(
            err.to_string()
                .contains("at byte 3: unknown placeholder `nope`"),
            "{err}"
        );
    }

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

    /// A deterministic stand-in for the fuzzer: mutated templates never panic and, when they
    /// parse, print back to themselves and render.
    #[test]
    fn template_parser_never_panics() {
        let seeds = [
            r#"{"who": {{ data.customer["email"] }}, "k": {{type}}, "l": "\{{x}}"}"#,
            "{{data.lines.0.sku}}{{id}}{{endpoint}}{{timestamp}}",
        ];
        let alphabet: Vec<char> = "{}[]\"\\. \tdatypeidx01é".chars().collect();
        let m = invoice();
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let check = |s: &str| {
            if let Ok(t) = s.parse::<BodyTemplate>() {
                assert_eq!(t.to_string(), s);
                let r = t.render(&m).unwrap();
                if r.content_type == APPLICATION_JSON {
                    assert!(serde_json::from_slice::<Value>(&r.body).is_ok());
                }
            }
        };
        for seed in seeds {
            let chars: Vec<char> = seed.chars().collect();
            for cut in 0..=chars.len() {
                check(&chars[..cut].iter().collect::<String>());
                check(&chars[cut..].iter().collect::<String>());
            }
            for i in 0..chars.len() {
                for &c in &alphabet {
                    let mut mutated = chars.clone();
                    mutated[i] = c;
                    check(&mutated.iter().collect::<String>());
                }
            }
        }
        for _ in 0..20_000 {
            let len = (next() % 40) as usize;
            let s: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            check(&s);
        }
    }
}
