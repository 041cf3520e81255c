//! Signed-content templates, event patterns, CIDR blocks and secret references: never a panic;
//! what parses prints back to the same thing.
#![no_main]

use hookline_core::pattern::EventPattern;
use hookline_core::secret::SecretRef;
use hookline_core::ssrf::Cidr;
use hookline_core::verify::Template;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = s.parse::<Template>() {
        assert_eq!(t.to_string(), s);
    }
    if let Ok(p) = s.parse::<EventPattern>() {
        let _ = p.matches(s);
        assert_eq!(p.as_str(), s);
    }
    if let Ok(c) = s.parse::<Cidr>() {
        assert_eq!(c.to_string().parse::<Cidr>().ok(), Some(c));
    }
    let _ = s.parse::<SecretRef>();
});
