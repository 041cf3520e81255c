//! The `slack` and `discord` formats: a chat message passed through, or a summary of `data`.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::standard::{json_str, push_json_str};
use super::{DISCORD_CONTENT_LIMIT, SLACK_TEXT_LIMIT};
use crate::envelope::DeliveryMessage;

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

pub(super) fn slack(msg: &DeliveryMessage) -> Vec<u8> {
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

pub(super) fn discord(msg: &DeliveryMessage) -> Vec<u8> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::tests::{body, invoice, json_of, msg_with};
    use crate::render::*;
    use serde_json::json;

    #[test]
    fn slack_summary_and_pass_through() {
        let r = render(&Format::Slack, &invoice()).unwrap();
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
        let text = json_of(&render(&Format::Slack, &m).unwrap())["text"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            text,
            "*alert&lt;x&gt;* `m1`\n```{\n  \"msg\": \"&lt;!channel&gt; &amp; &lt;@U123&gt;\"\n}```"
        );

        // Pass-through: text (and blocks) copied byte for byte; other fields dropped.
        let data = r#"{"text": "Invoice *paid* \u00e9", "blocks": [ {"type":"section"} ], "x": 1}"#;
        let r = render(&Format::Slack, &msg_with("t", "m", data)).unwrap();
        assert_eq!(
            body(&r),
            r#"{"text":"Invoice *paid* \u00e9","blocks":[ {"type":"section"} ]}"#
        );
        let r = render(&Format::Slack, &msg_with("t", "m", r#"{"text":"hi"}"#)).unwrap();
        assert_eq!(body(&r), r#"{"text":"hi"}"#);
        let r = render(
            &Format::Slack,
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
            let r = render(&Format::Slack, &msg_with("t", "m", data)).unwrap();
            let text = json_of(&r)["text"].as_str().unwrap().to_owned();
            assert!(text.starts_with("*t* `m`\n```"), "{data}: {text}");
        }
        let r = render(&Format::Slack, &msg_with("t", "m", "[ ]")).unwrap();
        assert_eq!(json_of(&r)["text"], "*t* `m`\n```[]```");
    }

    #[test]
    fn discord_summary_and_pass_through() {
        let r = render(&Format::Discord, &invoice()).unwrap();
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
        let v = json_of(&render(&Format::Discord, &m).unwrap());
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
            let r = render(&Format::Discord, &msg_with("t", "m", data)).unwrap();
            assert_eq!(body(&r), want, "{data}");
        }
        for data in [
            r#"{"content": 1, "embeds": []}"#,
            r#"{"embeds": {}}"#,
            r#"{"other": "x"}"#,
            r#"["content"]"#,
        ] {
            let r = render(&Format::Discord, &msg_with("t", "m", data)).unwrap();
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

    /// Renders data strings around the point where `format`'s `key` text reaches `limit`
    /// characters: the text is `prefix`, the data, then `close`, cut with an ellipsis only past
    /// the limit, and never longer than it.
    fn truncates_exactly_at_the_limit(
        format: &Format,
        key: &str,
        limit: usize,
        prefix: &str,
        close: &str,
        units: &[&str],
    ) {
        let fixed = prefix.chars().count() + close.chars().count();
        let text_of = |data: &str| {
            let v = json_of(&render(format, &msg_with("invoice.paid", "msg_1", data)).unwrap());
            v[key].as_str().unwrap().to_owned()
        };
        for unit in units {
            // Fits exactly: the data string plus its two quotes fill the text to the limit.
            let n = limit - fixed - 2;
            let text = text_of(&string_data(unit, n));
            assert_eq!(text.chars().count(), limit, "{unit}");
            assert!(!text.contains('…'));
            assert!(text.ends_with(&format!("{unit}\"{close}")));

            // One more character: cut to exactly the limit, ending in an ellipsis.
            let text = text_of(&string_data(unit, n + 1));
            assert_eq!(text.chars().count(), limit, "{unit}");
            assert!(text.starts_with(prefix));
            assert!(text.ends_with(&format!("{unit}…{close}")), "{unit}");
            // The opening quote plus n units were kept: one character went for the ellipsis.
            let kept = text.strip_prefix(prefix).unwrap();
            assert_eq!(kept.matches(unit).count(), n);

            let text = text_of(&string_data(unit, 100_000));
            assert_eq!(text.chars().count(), limit);
        }
    }

    #[test]
    fn slack_truncates_exactly_at_the_limit() {
        truncates_exactly_at_the_limit(
            &Format::Slack,
            "text",
            SLACK_TEXT_LIMIT,
            "*invoice.paid* `msg_1`\n```",
            "```",
            &["a", "é", "😀", "中"],
        );
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
            let v = json_of(&render(&Format::Slack, &msg_with("t", "m", &data)).unwrap());
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
        truncates_exactly_at_the_limit(
            &Format::Discord,
            "content",
            DISCORD_CONTENT_LIMIT,
            "**invoice.paid** `msg_1`\n```json\n",
            "\n```",
            &["a", "ß", "🦀"],
        );
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
                let v = json_of(&render(&format, &m).unwrap());
                let text = v[key].as_str().unwrap();
                assert_eq!(text.chars().count(), limit);
                assert!(text.contains('…'));
            }
        }
        // An absurd (unvalidated) event type still respects the limit.
        let m = msg_with(&"<".repeat(5000), "m", "1");
        let v = json_of(&render(&Format::Slack, &m).unwrap());
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
}
