//! Body templates and endpoint filters: never a panic; what parses prints back to the same
//! thing, renders (output typed as JSON really is JSON) and evaluates against a fixed payload.
//! Input that is itself JSON is also rendered in every format as a message's `data`.
#![no_main]

use hookline_core::config::Format;
use hookline_core::envelope::{DeliveryMessage, RawJson};
use hookline_core::filter::Filter;
use hookline_core::render::{
    APPLICATION_JSON, BodyTemplate, DISCORD_CONTENT_LIMIT, SLACK_TEXT_LIMIT, render,
};
use hookline_core::time::Timestamp;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const PAYLOAD: &str = r#"{"id":"in_1Q2w3E","amount":12500,"ratio":0.25,"big":123456789012345678901234567890,
"currency":"usd","paid":true,"memo":null,"0":"zero",
"customer":{"email":"ada@example.com","name":"Ada \"A\" L\u00f6velace </script>"},
"tags":["vip","eu",7],"lines":[{"sku":"PLAN-PRO","qty":2},{"sku":"SEAT","qty":5}],
"weird key":{"a.b":[[1,2],[3]]},"dup":1,"dup":2}"#;

fn message(data: RawJson) -> DeliveryMessage {
    DeliveryMessage {
        message_id: "msg_2x9Kq".to_owned(),
        endpoint: "billing".to_owned(),
        event_type: "invoice.paid".to_owned(),
        data,
        timestamp: Timestamp::from_unix_millis(1_795_435_200_120),
        application: None,
        trigger: hookline_core::envelope::Trigger::Scheduled,
    }
}

/// How deeply arrays and objects nest in valid JSON text.
fn depth(json: &str) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for b in json.bytes() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let payload = RawJson::from_string(PAYLOAD.to_owned()).expect("the fixed payload is JSON");
    let value = payload.to_value().expect("the fixed payload parses");
    let msg = message(payload);

    if let Ok(t) = s.parse::<BodyTemplate>() {
        assert_eq!(t.to_string(), s);
        assert_eq!(s.parse::<BodyTemplate>().ok(), Some(t.clone()));
        if let Ok(r) = render(&Format::Template(t), &msg) {
            let body = String::from_utf8(r.body).expect("templates render UTF-8");
            if r.content_type == APPLICATION_JSON {
                // Syntax only: JSON allows numbers such as 1e400 that `Value` cannot hold.
                assert!(RawJson::from_string(body).is_ok());
            }
        }
    }

    if let Ok(f) = s.parse::<Filter>() {
        assert_eq!(f.to_string(), s);
        assert_eq!(s.parse::<Filter>().ok(), Some(f.clone()));
        let _ = f.matches("invoice.paid", "msg_2x9Kq", &value);
        let _ = f.matches("", "", &Value::Null);
    }

    if let Ok(raw) = RawJson::from_string(s.to_owned()) {
        // Formats wrap data in at most two more levels; stay under serde_json's limit of 128.
        let checkable = depth(raw.get()) <= 120;
        let is_object = raw.get().starts_with('{');
        let msg = message(raw);
        for format in [
            Format::Standard,
            Format::Raw,
            Format::Slack,
            Format::Discord,
        ] {
            let r = render(&format, &msg).expect("only templates can fail");
            assert_eq!(r.content_type, APPLICATION_JSON);
            if !checkable {
                continue;
            }
            let body = String::from_utf8(r.body).expect("formats render UTF-8");
            // Data that is not an object is always summarised, and summaries fit the limits.
            let summary = match format {
                Format::Slack if !is_object => Some(("text", SLACK_TEXT_LIMIT)),
                Format::Discord if !is_object => Some(("content", DISCORD_CONTENT_LIMIT)),
                _ => None,
            };
            match summary {
                // Syntax only: JSON allows numbers such as 1e400 that `Value` cannot hold.
                None => assert!(
                    RawJson::from_string(body).is_ok(),
                    "{format:?} renders JSON"
                ),
                Some((key, limit)) => {
                    let v: Value = serde_json::from_str(&body).expect("summaries are plain JSON");
                    let text = v[key].as_str().expect("a summary is a string");
                    assert!(text.chars().count() <= limit, "{format:?}: {text}");
                }
            }
        }
    }
});
