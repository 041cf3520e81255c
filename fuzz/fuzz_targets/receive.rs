//! The receiver's decision for a correctly signed request does not depend on its unsigned
//! `Content-Type`: the same signed bytes get the same id, type, body encoding and handshake
//! answer under every content type, except that a body claiming to be JSON and not being JSON
//! is refused (`400 invalid_json`) and never queued. Twilio form bodies either decode strictly
//! (then their own signature verifies) or are refused as `malformed_form`.
#![no_main]

use hookline_core::config::{Config, ResolvedSource};
use hookline_core::headers::Headers;
use hookline_core::inbound::{Accepted, Incoming, Rejection, receive};
use hookline_core::secret::Secret;
use hookline_core::time::Timestamp;
use hookline_core::verify::{Request, Signer};
use libfuzzer_sys::fuzz_target;

const NOW: Timestamp = Timestamp::from_unix_secs(1_763_900_000);
const URL: &str = "https://hooks.example.com/hooks/s?a=1";
const CONTENT_TYPES: [Option<&str>; 6] = [
    None,
    Some("application/json"),
    Some("text/plain"),
    Some("application/jsonx"),
    Some("application/x-www-form-urlencoded"),
    Some("application/cloudevents+json; charset=utf-8"),
];

fn source(scheme: &str, secret: &str) -> ResolvedSource {
    let toml = format!("[sources.s]\nscheme = \"{scheme}\"\nsecrets = [\"literal:{secret}\"]\n");
    let config = Config::from_toml(&toml).unwrap();
    config.validate().unwrap();
    config
        .resolve_sources(|_| None)
        .unwrap()
        .remove("s")
        .unwrap()
}

fn signed(
    source: &ResolvedSource,
    secret: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Option<Headers> {
    let mut headers = Headers::new();
    if let Some(ct) = content_type {
        headers.push("Content-Type", ct);
    }
    let signer = Signer::new(
        source.verifier.scheme().clone(),
        vec![Secret::new(secret.as_bytes().to_vec()).unwrap()],
    )
    .unwrap();
    let req = Request {
        method: "POST",
        url: URL,
        headers: &headers,
        body,
    };
    let extra = signer.sign(&req, "msg_fuzz", NOW).ok()?;
    for (name, value) in extra {
        headers.push(name, value);
    }
    Some(headers)
}

fn call(source: &ResolvedSource, headers: &Headers, body: &[u8]) -> Result<Accepted, Rejection> {
    receive(
        source,
        &Incoming {
            method: "POST",
            url: URL,
            headers,
            body,
            handler: None,
        },
        NOW,
    )
}

fn claims_json(ct: Option<&str>) -> bool {
    ct.is_some_and(|ct| ct.starts_with("application/json") || ct.contains("+json"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let schemes = [
        ("stripe", "whsec_fuzz"),
        ("slack", "fuzz"),
        (
            "standard-webhooks",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ),
        ("twilio", "fuzz"),
    ];
    let (scheme, secret) = schemes[usize::from(selector) % schemes.len()];
    let source = source(scheme, secret);

    if scheme == "twilio" {
        // Signed as a form: strict decoding either signs and verifies, or refuses both ways.
        let form = Some("application/x-www-form-urlencoded");
        match signed(&source, secret, form, body) {
            Some(h) => assert!(
                call(&source, &h, body).is_ok(),
                "own form signature refused"
            ),
            None => {
                let mut h = Headers::new();
                h.push("Content-Type", "application/x-www-form-urlencoded");
                h.push("X-Twilio-Signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
                assert_eq!(
                    call(&source, &h, body).unwrap_err().code,
                    "malformed_form",
                    "an unsignable form verified differently"
                );
            }
        }
        return;
    }

    // The answer without a content type is the reference: every other content type gives the
    // same answer, or `invalid_json` when it claims JSON for a body that is not.
    let key = |answer: &Result<Accepted, Rejection>| match answer {
        Ok(Accepted::Event(e)) => format!("event {} {:?} {:?}", e.id, e.event_type, e.body),
        Ok(Accepted::Handshake { body, .. }) => format!("handshake {body}"),
        Err(r) => format!("refused {} {}", r.status, r.code),
    };
    let mut reference = None;
    for ct in CONTENT_TYPES {
        let Some(headers) = signed(&source, secret, ct, body) else {
            return;
        };
        let answer = call(&source, &headers, body);
        if answer == Err(Rejection::INVALID_JSON) {
            assert!(claims_json(ct), "{scheme}: invalid_json under {ct:?}");
            continue;
        }
        let answer = key(&answer);
        match &reference {
            None => reference = Some(answer),
            Some(r) => assert_eq!(r, &answer, "{scheme}: {ct:?} changed the answer"),
        }
    }
});
