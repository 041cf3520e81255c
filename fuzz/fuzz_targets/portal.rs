//! The portal's parsers of untrusted input: portal tokens (from any `Authorization` header),
//! frame-ancestor origins (configuration, then a response header), `AppPortalAccessIn` bodies
//! and event-type examples. Never a panic; a token that parses has exactly one spelling; an
//! origin that passes cannot add a directive to the Content-Security-Policy.
#![no_main]

use hookline_core::api::portal::{
    self, AccessIn, FrameAncestors, MAX_EXPIRY, MIN_EXPIRY, TOKEN_PREFIX,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(at) = portal::expiry_of(data) {
        // The only spelling of that expiry is the one minted: the token names itself.
        let text = std::str::from_utf8(data).expect("a parsed token is ASCII");
        let secs = at.unix_secs().to_string();
        assert!(text.starts_with(&format!("{TOKEN_PREFIX}{secs}_")), "{text}");
        assert_eq!(portal::digest(data).len(), 64);
    }
    if let Ok(s) = std::str::from_utf8(data) {
        if portal::check_origin(s).is_ok() {
            let f = FrameAncestors::new(&[s.to_owned()]).expect("checked");
            let csp = portal::content_security_policy(&f);
            let ancestors = csp.rsplit("; ").next().expect("one directive at least");
            assert_eq!(ancestors, format!("frame-ancestors {s}"));
            assert!(
                !s.bytes().any(|b| b.is_ascii_whitespace() || b"';,\"".contains(&b)),
                "{s:?}"
            );
            assert!(http::HeaderValue::from_str(&csp).is_ok(), "{csp:?}");
        }
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(s) {
            if let Ok(p) = portal::example_payload("t", Some(&v), usize::from(data.len() as u8)) {
                assert!(serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&p).is_ok());
            }
        }
    }
    if let Ok(a) = AccessIn::parse(data) {
        assert!(a.expiry >= MIN_EXPIRY && a.expiry <= MAX_EXPIRY);
        assert!(a.capabilities.allows(portal::Capability::ViewBase));
    }
});
