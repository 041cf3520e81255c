//! The `standard` and `raw` formats, and the JSON string writer the others share.

use crate::envelope::DeliveryMessage;

pub(super) fn standard(msg: &DeliveryMessage) -> Vec<u8> {
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
pub(super) fn push_json_str(out: &mut String, s: &str) {
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

pub(super) fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_json_str(&mut out, s);
    out
}

#[cfg(test)]
mod tests {
    use crate::render::tests::{INVOICE, body, invoice, json_of, msg_with};
    use crate::render::*;

    #[test]
    fn standard_keeps_data_bytes() {
        let r = render(&Format::Standard, &invoice()).unwrap();
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
        let r = render(&Format::Standard, &m).unwrap();
        assert_eq!(
            body(&r),
            r#"{"type":"a\"b\\c</x>","timestamp":"2026-11-23T12:00:00.120Z","data":[1, 2]}"#
        );
        assert_eq!(json_of(&r)["type"], "a\"b\\c</x>");
        // Unvalidated messages with control characters still give valid JSON.
        let m = msg_with("t\u{1}\n\u{1f}\u{7f}é", "m1", "null");
        let r = render(&Format::Standard, &m).unwrap();
        assert!(body(&r).starts_with(r#"{"type":"t\u0001\n\u001f"#));
        assert_eq!(json_of(&r)["type"], "t\u{1}\n\u{1f}\u{7f}é");
    }

    #[test]
    fn raw_is_data_verbatim() {
        let r = render(&Format::Raw, &invoice()).unwrap();
        assert_eq!(body(&r), INVOICE);
        assert_eq!(r.content_type, APPLICATION_JSON);
        let r = render(&Format::Raw, &msg_with("t", "m", "\"just a string\"")).unwrap();
        assert_eq!(body(&r), "\"just a string\"");
    }
}
