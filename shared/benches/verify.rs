//! Signature verification and signing cost in the core, next to the peers that do the same job.
//!
//!     cargo bench -p hookline-core --bench verify
//!
//! Every implementation gets byte-identical inputs: one secret, message id and timestamp, and
//! JSON bodies of 1 KiB and 64 KiB. One criterion group per scheme and direction
//! (`standard_webhooks_verify`, `standard_webhooks_sign`, `stripe_verify`, `stripe_sign`,
//! `github_verify`, `github_sign`), each with both sizes and these contestants:
//!
//! - `hookline`: the core's [`Verifier`] / [`Signer`], through the same entry points the receiver
//!   and the sender call (header parsing, replay window and all).
//! - `svix` and `standardwebhooks` (Standard Webhooks only): Svix's crate and the Standard
//!   Webhooks reference crate, given an `http::HeaderMap` of the same headers. Neither speaks
//!   Stripe's or GitHub's scheme, and no maintained Rust crate verifies those two alone, so there
//!   the floor is the only peer.
//! - `bare_hmac_sha256`, the floor: a pre-keyed HMAC-SHA256 of exactly the bytes the scheme signs
//!   (`{id}.{timestamp}.{body}`, `{timestamp}.{body}` or the body), encoded as the scheme encodes
//!   it (base64 or hex) and, for verification, compared in constant time with the header's
//!   signature, which the floor is handed already cut out of the header.
//!
//! The peer crates read the system clock and refuse timestamps more than 5 minutes away, so the
//! one timestamp is read from the clock when the bench starts (a run takes about a minute and a
//! half) and hookline is given that same instant as its `now`. Before anything is measured, each
//! implementation is checked to accept the request it will be timed on, to agree with the others
//! on the signature, and to refuse the same request with one body byte changed.
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
use hookline_core::config::Config;
use hookline_core::headers::Headers;
use hookline_core::inbound::{self, Accepted, Incoming};
use hookline_core::secret::Secret;
use hookline_core::time::Timestamp;
use hookline_core::verify::{Request, Scheme, SchemeKind, Signer, Verifier};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The example secret of the Standard Webhooks specification.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const URL: &str = "https://hooks.example.com/in/source";
const SIZES: [(&str, usize); 2] = [("1KiB", 1024), ("64KiB", 64 * 1024)];

/// A JSON event of exactly `len` bytes: a list of line items, then a padding string.
fn body(len: usize) -> Vec<u8> {
    let mut s = String::from(
        r#"{"id":"evt_1NdSFcRYp5a7J0bYzfh0jD9O","type":"invoice.paid","data":{"items":["#,
    );
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
fn signed_headers(scheme: &Scheme, body: &[u8], ts: Timestamp) -> Headers {
    let unsigned = Headers::new();
    let req = Request::post(URL, &unsigned, body);
    let signer = Signer::new(scheme.clone(), vec![secret()]).unwrap();
    signer.signed_headers(&req, MSG_ID, ts).unwrap()
}

/// The same headers as an `http::HeaderMap`, for the peer crates.
fn header_map(headers: &Headers) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    for (name, value) in headers.iter() {
        map.insert(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            http::HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

/// The calls the bench makes on a Standard Webhooks peer crate, so each check and each bench
/// runs over every peer.
trait Peer {
    /// The `webhook-signature` value the peer writes for `body` at `now_secs`.
    fn signature(&self, now_secs: i64, body: &[u8]) -> String;
    /// Whether the peer accepts `body` with the headers in `map`.
    fn accepts(&self, body: &[u8], map: &http::HeaderMap) -> bool;
}

impl Peer for svix::webhooks::Webhook {
    fn signature(&self, now_secs: i64, body: &[u8]) -> String {
        self.sign(MSG_ID, now_secs, body).unwrap()
    }
    fn accepts(&self, body: &[u8], map: &http::HeaderMap) -> bool {
        self.verify(body, map).is_ok()
    }
}

impl Peer for standardwebhooks::Webhook {
    fn signature(&self, now_secs: i64, body: &[u8]) -> String {
        self.sign(MSG_ID, now_secs, body).unwrap()
    }
    fn accepts(&self, body: &[u8], map: &http::HeaderMap) -> bool {
        self.verify(body, map).is_ok()
    }
}

/// What each scheme signs, how it encodes the MAC, and where the signature sits in its header.
#[derive(Clone, Copy)]
enum Floor {
    /// `{id}.{ts}.{body}`, base64, `webhook-signature: v1,<base64>`.
    StandardWebhooks,
    /// `{ts}.{body}`, hex, `stripe-signature: t=<ts>,v1=<hex>`.
    Stripe,
    /// `{body}`, hex, `x-hub-signature-256: sha256=<hex>`.
    Github,
}

impl Floor {
    fn header(self) -> &'static str {
        match self {
            Floor::StandardWebhooks => "webhook-signature",
            Floor::Stripe => "stripe-signature",
            Floor::Github => "x-hub-signature-256",
        }
    }

    /// The signature alone, cut out of the header hookline's signer wrote.
    fn signature(self, headers: &Headers) -> String {
        let value = headers.get_one(self.header()).unwrap().unwrap();
        match self {
            Floor::StandardWebhooks => value.strip_prefix("v1,").unwrap().to_owned(),
            Floor::Stripe => value.split_once(",v1=").unwrap().1.to_owned(),
            Floor::Github => value.strip_prefix("sha256=").unwrap().to_owned(),
        }
    }

    /// A pre-keyed HMAC-SHA256 over the signed bytes (fed in pieces, no concatenation), encoded
    /// on the stack.
    fn sign(self, key: &Hmac<Sha256>, ts: &str, body: &[u8], out: &mut [u8; 64]) -> usize {
        let mut mac = key.clone();
        if let Floor::StandardWebhooks = self {
            mac.update(MSG_ID.as_bytes());
            mac.update(b".");
        }
        if !matches!(self, Floor::Github) {
            mac.update(ts.as_bytes());
            mac.update(b".");
        }
        mac.update(body);
        let tag = mac.finalize().into_bytes();
        match self {
            Floor::StandardWebhooks => BASE64.encode_slice(tag, out).unwrap(),
            Floor::Stripe | Floor::Github => {
                hex::encode_to_slice(tag, out).unwrap();
                64
            }
        }
    }

    /// [`Floor::sign`], then a constant-time compare with the signature.
    fn verify(self, key: &Hmac<Sha256>, ts: &str, body: &[u8], signature: &[u8]) -> bool {
        let mut out = [0u8; 64];
        let n = self.sign(key, ts, body, &mut out);
        out[..n].ct_eq(signature).into()
    }
}

/// The clock's reading in whole seconds, and as a [`Timestamp`]: the peer crates read the clock,
/// so hookline is handed the same instant.
fn clock_now() -> (i64, Timestamp) {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let secs = i64::try_from(secs).unwrap();
    (secs, Timestamp::from_unix_secs(secs))
}

fn benches(c: &mut Criterion) {
    let (now_secs, now) = clock_now();
    let ts = now_secs.to_string();
    let bodies: Vec<(&str, Vec<u8>)> = SIZES.iter().map(|&(n, len)| (n, body(len))).collect();
    let sw_peer = standardwebhooks::Webhook::new(SECRET).unwrap();
    let svix_peer = svix::webhooks::Webhook::new(SECRET).unwrap();

    for (scheme, name, floor, floor_key) in [
        (
            SchemeKind::StandardWebhooks,
            "standard_webhooks",
            Floor::StandardWebhooks,
            raw_key(),
        ),
        // Stripe and GitHub key the HMAC with the secret string's bytes as given.
        (
            SchemeKind::Stripe,
            "stripe",
            Floor::Stripe,
            SECRET.as_bytes().to_vec(),
        ),
        (
            SchemeKind::Github,
            "github",
            Floor::Github,
            SECRET.as_bytes().to_vec(),
        ),
    ] {
        let scheme = Scheme::from(scheme);
        let verifier = Verifier::new(scheme.clone(), vec![secret()]).unwrap();
        let signer = Signer::new(scheme.clone(), vec![secret()]).unwrap();
        let floor_key = Hmac::<Sha256>::new_from_slice(&floor_key).unwrap();
        // Neither peer crate speaks Stripe's or GitHub's scheme.
        let peers: &[(&str, &dyn Peer)] = if scheme.kind() == SchemeKind::StandardWebhooks {
            &[("svix", &svix_peer), ("standardwebhooks", &sw_peer)]
        } else {
            &[]
        };

        let mut verify = c.benchmark_group(format!("{name}_verify"));
        for (size, body) in &bodies {
            let headers = signed_headers(&scheme, body, now);
            let map = header_map(&headers);
            let signature = floor.signature(&headers);
            let req = Request::post(URL, &headers, body);
            // Every implementation accepts this very request...
            assert_eq!(verifier.verify(&req, now).unwrap().body(), &body[..]);
            assert!(floor.verify(&floor_key, &ts, body, signature.as_bytes()));
            for (name, peer) in peers {
                assert!(peer.accepts(body, &map), "{name}");
            }
            // ...and refuses it with one body byte changed.
            let mut tampered = body.clone();
            *tampered.last_mut().unwrap() = b']';
            let bad = Request {
                body: &tampered,
                ..req
            };
            assert!(verifier.verify(&bad, now).is_err());
            assert!(!floor.verify(&floor_key, &ts, &tampered, signature.as_bytes()));
            for (name, peer) in peers {
                assert!(!peer.accepts(&tampered, &map), "{name}");
            }

            verify.throughput(Throughput::Bytes(body.len() as u64));
            verify.bench_with_input(BenchmarkId::new("hookline", size), &req, |b, req| {
                b.iter(|| verifier.verify(black_box(req), black_box(now)).is_ok())
            });
            for (name, peer) in peers {
                verify.bench_with_input(BenchmarkId::new(*name, size), &map, |b, map| {
                    b.iter(|| peer.accepts(black_box(body), black_box(map)))
                });
            }
            verify.bench_with_input(
                BenchmarkId::new("bare_hmac_sha256", size),
                &signature,
                |b, signature| {
                    b.iter(|| {
                        floor.verify(
                            black_box(&floor_key),
                            black_box(&ts),
                            black_box(body),
                            black_box(signature.as_bytes()),
                        )
                    })
                },
            );
        }
        verify.finish();

        let mut sign = c.benchmark_group(format!("{name}_sign"));
        let unsigned = Headers::new();
        for (size, body) in &bodies {
            let req = Request::post(URL, &unsigned, body);
            // They all write the same signature.
            let expected = floor.signature(&signed_headers(&scheme, body, now));
            let mut out = [0u8; 64];
            let n = floor.sign(&floor_key, &ts, body, &mut out);
            assert_eq!(&out[..n], expected.as_bytes());
            for (name, peer) in peers {
                assert_eq!(
                    peer.signature(now_secs, body),
                    format!("v1,{expected}"),
                    "{name}"
                );
            }

            sign.throughput(Throughput::Bytes(body.len() as u64));
            sign.bench_with_input(BenchmarkId::new("hookline", size), &req, |b, req| {
                b.iter(|| signer.sign(black_box(req), black_box(MSG_ID), black_box(now)))
            });
            for (name, peer) in peers {
                sign.bench_with_input(BenchmarkId::new(*name, size), body, |b, body| {
                    b.iter(|| peer.signature(black_box(now_secs), black_box(body)))
                });
            }
            sign.bench_with_input(
                BenchmarkId::new("bare_hmac_sha256", size),
                body,
                |b, body| {
                    b.iter(|| {
                        let mut out = [0u8; 64];
                        let n = floor.sign(
                            black_box(&floor_key),
                            black_box(&ts),
                            black_box(body),
                            &mut out,
                        );
                        black_box(out);
                        n
                    })
                },
            );
        }
        sign.finish();
    }
}

/// The receiver's whole pure path for one request, `inbound::receive` (verify, JSON validation,
/// event id, envelope) and the envelope's JSON, beside the Stripe verification alone: the
/// difference is what hookline does per event besides the signature, native here and the same
/// code in the Worker's wasm. Issue 20's goal: `receive_to_json` at most 2.5 times `verify_only`
/// at both sizes (infra/bench.py marks the rows met or not).
fn receive(c: &mut Criterion) {
    let (_, now) = clock_now();
    let config = Config::from_toml(&format!(
        "[sources.stripe]\nscheme = \"stripe\"\nsecrets = [\"literal:{SECRET}\"]\n"
    ))
    .unwrap();
    config.validate().unwrap();
    let source = config
        .resolve_sources(|_| None)
        .unwrap()
        .remove("stripe")
        .unwrap();
    let mut group = c.benchmark_group("inbound_receive");
    for (size, body) in SIZES.iter().map(|&(n, len)| (n, body(len))) {
        let mut headers = signed_headers(&SchemeKind::Stripe.into(), &body, now);
        headers.push("content-type", "application/json");
        headers.push(
            "user-agent",
            "Stripe/1.0 (+https://stripe.com/docs/webhooks)".to_owned(),
        );
        let incoming = Incoming {
            method: "POST",
            url: URL,
            headers: &headers,
            body: &body,
            handler: None,
        };
        let Accepted::Event(envelope) = inbound::receive(&source, &incoming, now).unwrap() else {
            panic!("not an event");
        };
        assert!(!envelope.to_json().is_empty());
        let req = Request::post(URL, &headers, &body);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("receive_to_json", size),
            &incoming,
            |b, incoming| {
                b.iter(
                    || match inbound::receive(&source, black_box(incoming), black_box(now)) {
                        Ok(Accepted::Event(envelope)) => envelope.to_json().len(),
                        _ => 0,
                    },
                )
            },
        );
        group.bench_with_input(BenchmarkId::new("verify_only", size), &req, |b, req| {
            b.iter(|| {
                source
                    .verifier
                    .verify(black_box(req), black_box(now))
                    .is_ok()
            })
        });
    }
    group.finish();
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
    targets = benches, receive
}
criterion_main!(verify);
