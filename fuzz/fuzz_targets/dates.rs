//! Timestamps, HTTP dates, Retry-After and durations: never a panic, and what parses formats
//! back to something that parses to the same value.
#![no_main]

use hookline_core::retry::parse_retry_after;
use hookline_core::time::{Timestamp, format_duration, parse_duration};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(t) = Timestamp::parse_rfc3339(s) {
        assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()), Some(t));
    }
    if let Some(t) = Timestamp::parse_http_date(s) {
        // HTTP dates have whole seconds.
        assert_eq!(Timestamp::parse_http_date(&t.to_http_date()), Some(t));
    }
    if let Some(d) = parse_duration(s) {
        assert_eq!(parse_duration(&format_duration(d)), Some(d));
    }
    let _ = parse_retry_after(s, Timestamp::from_unix_secs(1_763_900_000));
});
