//! The `template` format: a [`BodyTemplate`] parsed from the configuration, filled in.

use std::str::FromStr;

use serde::de::IgnoredAny;

use super::json_path::resolve;
use super::standard::json_str;
use super::{
    APPLICATION_JSON, MAX_RENDERED_BYTES, MAX_TEMPLATE_BYTES, RenderError, Rendered, TEXT_PLAIN,
};
use crate::envelope::DeliveryMessage;
use crate::filter::parse_segments;

/// A body template such as `{"who": {{data.user.email}}, "kind": {{type}}}`; see the
/// [module docs](crate::render) for the language.
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

crate::string_backed!(BodyTemplate, this => this.source.as_str(), eq_by_text);

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::MAX_PATH_SEGMENTS;
    use crate::render::tests::{INVOICE, body, invoice, json_of, msg_with, render_tpl, tpl};
    use crate::render::*;
    use serde::{Deserialize, Serialize};
    use serde_json::{Value, json};

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
        let e = render(&Format::Template(tpl("{{data}}{{data}}x")), &m).unwrap_err();
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
        let e = render(&Format::Template(tpl(&many)), &m).unwrap_err();
        assert!(matches!(e, RenderError::TooLarge { .. }));
    }

    #[test]
    fn error_codes_and_the_format_carrying_its_template() {
        let m = invoice();
        let many = "{{data}}".repeat(MAX_TEMPLATE_BYTES / 8);
        let e = render(&Format::Template(tpl(&many)), &m).unwrap_err();
        assert_eq!(e.code(), "body_too_large");
        // The template format renders the template it carries, and is signed.
        let t = tpl("{{id}}");
        let r = render(&Format::Template(t.clone()), &m).unwrap();
        assert_eq!(r, t.render(&m).unwrap());
        assert_eq!(body(&r), "\"msg_2x9Kq\"");
        assert!(Format::Template(t).is_signed() && Format::Standard.is_signed());
        assert!(Format::Raw.is_signed());
        assert!(!Format::Slack.is_signed() && !Format::Discord.is_signed());
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

    /// A deterministic stand-in for the fuzzer: mutated templates never panic and, when they
    /// parse, print back to themselves and render.
    #[test]
    fn template_parser_never_panics() {
        let seeds = [
            r#"{"who": {{ data.customer["email"] }}, "k": {{type}}, "l": "\{{x}}"}"#,
            "{{data.lines.0.sku}}{{id}}{{endpoint}}{{timestamp}}",
        ];
        let m = invoice();
        crate::testkit::mangle_text(
            &seeds,
            "{}[]\"\\. \tdatypeidx01é",
            40,
            0x9E37_79B9_7F4A_7C15,
            |s| {
                if let Ok(t) = s.parse::<BodyTemplate>() {
                    assert_eq!(t.to_string(), s);
                    let r = t.render(&m).unwrap();
                    if r.content_type == APPLICATION_JSON {
                        assert!(serde_json::from_slice::<Value>(&r.body).is_ok());
                    }
                }
            },
        );
    }
}
