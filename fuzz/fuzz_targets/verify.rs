//! Signature headers and bodies of every scheme: verification never panics, and what hookline
//! signs always verifies (and stops verifying when a byte of the body changes). The generic
//! scheme signs a fuzzed `X-Req` header next to a newline separator: the signer refuses exactly the
//! values holding a newline, which the verifier would refuse too.
#![no_main]

use hookline_core::headers::Headers;
use hookline_core::secret::Secret;
use hookline_core::time::Timestamp;
use hookline_core::verify::{GenericHmac, Request, Scheme, SchemeKind, Signer, Verifier};
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_763_900_000;
const HMAC_KEY: &[u8] = b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
// RFC 8032 section 7.1 TEST 1: the seed and its public key.
const ED_SEED: &[u8] = b"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const ED_PUBLIC: &[u8] = b"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

fn secret(b: &[u8]) -> Secret {
    Secret::new(b.to_vec()).unwrap()
}

fn scheme(kind: SchemeKind) -> Scheme {
    Scheme::from_kind(kind).unwrap_or_else(|| {
        let g: GenericHmac = serde_json::from_str(
            r#"{"header":"X-Sig","prefix":"sha256=","signed_content":"{timestamp}.{method} {header:X-Req}\n{body}","timestamp_header":"X-Ts"}"#,
        )
        .unwrap();
        Scheme::generic(g)
    })
}

fn keys(kind: SchemeKind) -> (Vec<Secret>, Vec<Secret>) {
    match kind {
        SchemeKind::Discord => (vec![secret(ED_PUBLIC)], vec![secret(ED_SEED)]),
        _ => (vec![secret(HMAC_KEY)], vec![secret(HMAC_KEY)]),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let kind = SchemeKind::ALL[usize::from(selector) % SchemeKind::ALL.len()];
    // Layout: header lines "name:value\n" up to a NUL byte, then the body.
    let (head, body) = match rest.iter().position(|&b| b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let mut headers = Headers::new();
    for line in String::from_utf8_lossy(head).lines() {
        if let Some((n, v)) = line.split_once(':') {
            headers.push(n, v.to_owned());
        }
    }
    let (verify_keys, sign_keys) = keys(kind);
    let verifier = Verifier::new(scheme(kind), verify_keys).unwrap();
    let url = "https://hooks.example.com/hooks/x?a=1";
    let now = Timestamp::from_unix_secs(NOW);
    // 1. Attacker-controlled headers and body: any answer but a panic is fine.
    let _ = verifier.verify(
        &Request {
            method: "POST",
            url,
            headers: &headers,
            body,
        },
        now,
    );

    // 2. What we sign verifies; a changed byte does not. (Twilio only signs bodies that are
    // form-encoded, and Linear needs a JSON timestamp in the body: skip the property there.)
    if matches!(kind, SchemeKind::Twilio | SchemeKind::Linear) {
        return;
    }
    let signer = Signer::new(scheme(kind), sign_keys).unwrap();
    // The generic template signs X-Req: take the fuzzed one (or a plain id when there is none).
    let x_req = headers.get_all("x-req").next().unwrap_or("req_1").to_owned();
    let base: Headers = match kind {
        SchemeKind::Generic => [("X-Req", x_req.clone())].into_iter().collect(),
        _ => Headers::new(),
    };
    let req = Request {
        method: "POST",
        url,
        headers: &base,
        body,
    };
    let signed = match signer.sign(&req, "msg_fuzz", now) {
        Ok(signed) => signed,
        Err(e) => {
            assert!(
                kind == SchemeKind::Generic && x_req.contains('\n'),
                "{kind}: cannot sign: {e}"
            );
            return;
        }
    };
    assert!(
        !(kind == SchemeKind::Generic && x_req.contains('\n')),
        "signed a value holding its separator"
    );
    let signed: Headers = base
        .iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .chain(signed)
        .collect();
    let ok = Request {
        headers: &signed,
        ..req
    };
    assert!(
        verifier.verify(&ok, now).is_ok(),
        "{kind}: own signature rejected"
    );
    let mut changed = body.to_vec();
    match changed.first_mut() {
        Some(b) => *b ^= 0x80,
        None => changed.push(b'x'),
    }
    let bad = Request {
        headers: &signed,
        body: &changed,
        ..req
    };
    assert!(
        verifier.verify(&bad, now).is_err(),
        "{kind}: changed body accepted"
    );
});
