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

mod chat;
mod json_path;
mod standard;
mod template;

pub use template::{BodyTemplate, BodyTemplateError};

use crate::envelope::DeliveryMessage;

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
            Self::TooLarge { .. } => "body_too_large",
        }
    }
}

/// What an outbound delivery's body looks like: an endpoint's `format`, and for
/// `format = "template"` the template itself, so a template format without one cannot exist.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Standard Webhooks: `{"type":..,"timestamp":..,"data":..}`, signed.
    #[default]
    Standard,
    /// The message's `data` as is, signed.
    Raw,
    /// A Slack incoming-webhook message (the URL is the secret; not signed).
    Slack,
    /// A Discord webhook message (the URL is the secret; not signed).
    Discord,
    /// A user template, signed.
    Template(BodyTemplate),
}

impl Format {
    /// True for formats whose deliveries carry Standard Webhooks signatures.
    pub fn is_signed(&self) -> bool {
        !matches!(self, Format::Slack | Format::Discord)
    }
}

/// Renders the body of `msg` in `format`.
pub fn render(format: &Format, msg: &DeliveryMessage) -> Result<Rendered, RenderError> {
    let body = match format {
        Format::Standard => standard::standard(msg),
        Format::Raw => msg.data.get().as_bytes().to_vec(),
        Format::Slack => chat::slack(msg),
        Format::Discord => chat::discord(msg),
        Format::Template(template) => return template.render(msg),
    };
    Ok(Rendered {
        body,
        content_type: APPLICATION_JSON,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    //! The invoice message and helpers every format's tests share.
    use super::*;
    use crate::envelope::RawJson;
    use crate::time::Timestamp;
    use serde_json::Value;

    pub(crate) const INVOICE: &str = r#"{
  "id": "in_1Q2w3E", "object": "invoice",
  "amount_due": 12500, "tax_rate": 19.0, "big": 123456789012345678901234567890,
  "currency": "eur",
  "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
  "lines": [{"sku": "PLAN-PRO", "qty": 2}, {"sku": "SEAT", "qty": 5}],
  "paid": true, "memo": null, "weird key": {"a.b": "dots"}
}"#;

    pub(crate) fn msg_with(event_type: &str, id: &str, data: &str) -> DeliveryMessage {
        DeliveryMessage {
            message_id: id.to_owned(),
            endpoint: "billing".to_owned(),
            event_type: event_type.to_owned(),
            data: RawJson::from_string(data.to_owned()).unwrap(),
            timestamp: Timestamp::from_unix_millis(1_795_435_200_120),
            application: None,
            trigger: crate::envelope::Trigger::Scheduled,
        }
    }

    pub(crate) fn invoice() -> DeliveryMessage {
        msg_with("invoice.paid", "msg_2x9Kq", INVOICE)
    }

    pub(crate) fn body(r: &Rendered) -> &str {
        std::str::from_utf8(&r.body).unwrap()
    }

    pub(crate) fn tpl(src: &str) -> BodyTemplate {
        src.parse().unwrap_or_else(|e| panic!("{src}: {e}"))
    }

    pub(crate) fn render_tpl(src: &str, msg: &DeliveryMessage) -> Rendered {
        render(&Format::Template(tpl(src)), msg).unwrap()
    }

    pub(crate) fn json_of(r: &Rendered) -> Value {
        serde_json::from_slice(&r.body).unwrap()
    }
}
