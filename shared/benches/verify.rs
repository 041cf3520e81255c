//! Signature verification and signing cost in the core, next to the peers that do the same job.
//!
//!     cargo bench -p hookline-core --bench verify
//!
//! Every implementation gets byte-identical inputs: one secret, message id and timestamp, and
//! JSON bodies of 1 KiB and 64 KiB. Groups, each with both sizes:
//!
//! - `verify_standard_webhooks`: hookline's [`Verifier`] against the `standardwebhooks` crate (the
//!   Standard Webhooks reference library for Rust) and against the floor, a bare HMAC-SHA256 of
//!   `{id}.{timestamp}.{body}` with a pre-keyed state, base64-encoded and compared with the
//!   header's signature. The `svix` crate is not here: even without default features it depends
//!   on hyper, hyper-util's client and tokio, and its verifier is the same code as
//!   `standardwebhooks` (`hmac-sha256` plus base64).
//! - `verify_hookline_schemes`: hookline's Standard Webhooks, Stripe and GitHub verifiers, so a
//!   scheme that falls behind the others shows.
//! - `sign_standard_webhooks`: hookline's [`Signer`] against `standardwebhooks::Webhook::sign`
//!   and the floor (HMAC and base64 only).
//!
//! The peer crate reads the system clock and refuses timestamps more than 5 minutes away, so the
//! one timestamp is read from the clock when the bench starts (a run takes about a minute) and
//! hookline is given that same instant as its `now`. Before anything is measured, each
//! implementation is checked to accept the request it will be timed on.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    missing_docs
)]

use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use hookline_core::headers::Headers;
use hookline_core::secret::Secret;
use hookline_core::time::Timestamp;
use hookline_core::verify::{Request, Scheme, Signer, Verifier};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The example secret of the Standard Webhooks specification.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const URL: &str = "https://hooks.example.com/in/source";
const SIZES: [(&str, usize); 2] = [("1KiB", 1024), ("64KiB", 64 * 1024)];

/// A JSON event of exactly `len` bytes: a list of line items, then a padding string.
fn body(len: usize) -> Vec<u8> {
    let mut s = String::from(r#"{"type":"invoice.paid","data":{"items":["#);
    let mut i = 0;
    // Leave room for the closing `],"pad":""}}` and at least a little padding.
    while s.len() + 80 < len {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            r#"{{"id":"item_{i:06}","amount":{},"currency":"eur"}}"#,
            (i * 7919) % 100_000
        ));
        i += 1;
    }
    s.push_str(r#"],"pad":""#);
    let tail = r#""}}"#;
    while s.len() + tail.len() < len {
        s.push('x');
    }
    s.push_str(tail);
    assert_eq!(s.len(), len);
    serde_json::from_str::<serde_json::Value>(&s).expect("the body is JSON");
    s.into_bytes()
}

fn secret() -> Secret {
    Secret::new(SECRET.as_bytes().to_vec()).unwrap()
}

/// The raw HMAC key inside `whsec_...`.
fn raw_key() -> Vec<u8> {
    BASE64
        .decode(SECRET.strip_prefix("whsec_").unwrap())
        .unwrap()
}

/// The headers hookline's signer writes for `scheme`.
fn signed_headers(scheme: Scheme, body: &[u8], ts: Timestamp) -> Headers {
    let signer = Signer::new(scheme, vec![secret()]).unwrap();
    let unsigned = Headers::new();
    let req = Request {
        method: "POST",
        url: URL,
        headers: &unsigned,
        body,
    };
    signer.sign(&req, MSG_ID, ts).unwrap().into_iter().collect()
}

/// The floor: a pre-keyed HMAC-SHA256 over `{id}.{ts}.{body}` (no concatenation), the MAC
/// base64-encoded on the stack.
fn floor_sign(key: &Hmac<Sha256>, ts: &str, body: &[u8]) -> ([u8; 44], usize) {
    let mut mac = key.clone();
    mac.update(MSG_ID.as_bytes());
    mac.update(b".");
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    let mut out = [0u8; 44];
    let n = BASE64.encode_slice(tag, &mut out).unwrap();
    (out, n)
}

/// The floor of verification: [`floor_sign`], then a constant-time compare with the base64
/// part of a `v1,...` header value.
fn floor_verify(key: &Hmac<Sha256>, ts: &str, body: &[u8], signature: &str) -> bool {
    let (enc, n) = floor_sign(key, ts, body);
    let expected = signature.strip_prefix("v1,").unwrap_or_default().as_bytes();
    enc[..n].ct_eq(expected).into()
}

fn benches(c: &mut Criterion) {
    let now_secs = i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let now = Timestamp::from_unix_secs(now_secs);
    let ts = now_secs.to_string();
    let bodies: Vec<(&str, Vec<u8>)> = SIZES.iter().map(|&(n, len)| (n, body(len))).collect();

    let sw_verifier = Verifier::new(Scheme::StandardWebhooks, vec![secret()]).unwrap();
    let stripe_verifier = Verifier::new(Scheme::Stripe, vec![secret()]).unwrap();
    let github_verifier = Verifier::new(Scheme::Github, vec![secret()]).unwrap();
    let sw_signer = Signer::new(Scheme::StandardWebhooks, vec![secret()]).unwrap();
    let peer = standardwebhooks::Webhook::new(SECRET).unwrap();
    let floor_key = Hmac::<Sha256>::new_from_slice(&raw_key()).unwrap();

    // verify_standard_webhooks and verify_hookline_schemes
    let mut verify = c.benchmark_group("verify_standard_webhooks");
    let mut schemes_inputs = Vec::new();
    for (size, body) in &bodies {
        let headers = signed_headers(Scheme::StandardWebhooks, body, now);
        let signature = headers.get_one("webhook-signature").unwrap().unwrap();
        let mut header_map = http::HeaderMap::new();
        for (name, value) in headers.iter() {
            header_map.insert(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                http::HeaderValue::from_str(value).unwrap(),
            );
        }
        let req = Request {
            method: "POST",
            url: URL,
            headers: &headers,
            body,
        };

        // Every implementation accepts this very request, and they agree on the signature.
        assert_eq!(sw_verifier.verify(&req, now).unwrap().body(), &body[..]);
        peer.verify(body, &header_map).unwrap();
        assert!(floor_verify(&floor_key, &ts, body, signature));
        assert_eq!(peer.sign(MSG_ID, now_secs, body).unwrap(), signature);
        // ...and refuses it with one body byte changed.
        let mut tampered = body.clone();
        *tampered.last_mut().unwrap() = b']';
        let bad = Request {
            body: &tampered,
            ..req
        };
        assert!(sw_verifier.verify(&bad, now).is_err());
        assert!(peer.verify(&tampered, &header_map).is_err());
        assert!(!floor_verify(&floor_key, &ts, &tampered, signature));

        verify.throughput(Throughput::Bytes(body.len() as u64));
        verify.bench_with_input(BenchmarkId::new("hookline", size), &req, |b, req| {
            b.iter(|| sw_verifier.verify(black_box(req), black_box(now)).is_ok())
        });
        verify.bench_with_input(
            BenchmarkId::new("standardwebhooks", size),
            &header_map,
            |b, header_map| b.iter(|| peer.verify(black_box(body), black_box(header_map)).is_ok()),
        );
        verify.bench_with_input(
            BenchmarkId::new("bare_hmac_sha256", size),
            &signature,
            |b, signature| {
                b.iter(|| {
                    floor_verify(
                        black_box(&floor_key),
                        black_box(&ts),
                        black_box(body),
                        black_box(signature),
                    )
                })
            },
        );
        schemes_inputs.push((size, body, headers));
    }
    verify.finish();

    let mut schemes = c.benchmark_group("verify_hookline_schemes");
    for (size, body, sw_headers) in schemes_inputs {
        let stripe_headers = signed_headers(Scheme::Stripe, body, now);
        let github_headers = signed_headers(Scheme::Github, body, now);
        schemes.throughput(Throughput::Bytes(body.len() as u64));
        for (name, verifier, headers) in [
            ("standard_webhooks", &sw_verifier, &sw_headers),
            ("stripe", &stripe_verifier, &stripe_headers),
            ("github", &github_verifier, &github_headers),
        ] {
            let req = Request {
                method: "POST",
                url: URL,
                headers,
                body,
            };
            assert!(verifier.verify(&req, now).is_ok(), "{name} {size}");
            schemes.bench_with_input(BenchmarkId::new(name, size), &req, |b, req| {
                b.iter(|| verifier.verify(black_box(req), black_box(now)).is_ok())
            });
        }
    }
    schemes.finish();

    let mut sign = c.benchmark_group("sign_standard_webhooks");
    let unsigned = Headers::new();
    for (size, body) in &bodies {
        let req = Request {
            method: "POST",
            url: URL,
            headers: &unsigned,
            body,
        };
        sign.throughput(Throughput::Bytes(body.len() as u64));
        sign.bench_with_input(BenchmarkId::new("hookline", size), &req, |b, req| {
            b.iter(|| sw_signer.sign(black_box(req), black_box(MSG_ID), black_box(now)))
        });
        sign.bench_with_input(
            BenchmarkId::new("standardwebhooks", size),
            body,
            |b, body| {
                b.iter(|| {
                    peer.sign(black_box(MSG_ID), black_box(now_secs), black_box(body))
                        .unwrap()
                })
            },
        );
        sign.bench_with_input(
            BenchmarkId::new("bare_hmac_sha256", size),
            body,
            |b, body| b.iter(|| floor_sign(black_box(&floor_key), black_box(&ts), black_box(body))),
        );
    }
    sign.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(30)
}

criterion_group! {
    name = verify;
    config = config();
    targets = benches
}
criterion_main!(verify);
