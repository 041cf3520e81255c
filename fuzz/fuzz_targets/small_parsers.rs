//! Signed-content templates, event patterns, CIDR blocks and secret references: never a panic;
//! what parses prints back to the same thing. A template is checked for ambiguity under every
//! timestamp format, and the constructors refuse exactly the templates the check faults.
#![no_main]

use hookline_core::pattern::EventPattern;
use hookline_core::secret::SecretRef;
use hookline_core::ssrf::Cidr;
use hookline_core::secret::Secret;
use hookline_core::verify::{
    Algorithm, Encoding, GenericHmac, Scheme, SecretEncoding, Signer, Template, TimestampFormat,
    Verifier,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = s.parse::<Template>() {
        assert_eq!(t.to_string(), s);
        for timestamp_format in [
            TimestampFormat::Unix,
            TimestampFormat::UnixMs,
            TimestampFormat::Rfc3339,
        ] {
            let g = GenericHmac {
                header: "X-Sig".to_owned(),
                prefix: String::new(),
                encoding: Encoding::Hex,
                algorithm: Algorithm::Sha256,
                signed_content: t.clone(),
                timestamp_header: Some("X-Ts".to_owned()),
                timestamp_format,
                secret_encoding: SecretEncoding::Utf8,
            };
            let faultless = g.problems().is_empty();
            let key = || vec![Secret::new(b"k".to_vec()).unwrap()];
            assert_eq!(
                Verifier::new(Scheme::generic(g.clone()), key()).is_ok(),
                faultless
            );
            assert_eq!(Signer::new(Scheme::generic(g), key()).is_ok(), faultless);
        }
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
