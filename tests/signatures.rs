//! The signature suite: every scheme against vectors made with the providers' official SDKs
//! (`tests/vectors/`), hookline's signer against the same vectors, and one negative test per
//! known bypass, each run over every case of every scheme it applies to.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hookline_core::headers::Headers;
use hookline_core::secret::Secret;
use hookline_core::time::Timestamp;
use std::time::Duration;

use hookline_core::verify::{Scheme, SchemeKind, Signer, Verifier, VerifyError};
use hookline_tests::{Case, VectorFile, load_vectors, scheme_for, verifier_for};

fn kind(file: &VectorFile) -> SchemeKind {
    SchemeKind::from_name(&file.scheme).unwrap()
}

/// Every valid case of every file.
fn valid_cases(files: &[VectorFile]) -> Vec<(&VectorFile, &Case)> {
    files
        .iter()
        .flat_map(|f| f.cases.iter().map(move |c| (f, c)))
        .filter(|(_, c)| c.expect == "valid")
        .collect()
}

fn has(case: &Case, name: &str) -> bool {
    case.headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// The header that carries this case's signature(s).
fn sig_header(file: &VectorFile, case: &Case) -> String {
    match kind(file) {
        SchemeKind::Generic => case.params.as_ref().unwrap()["header"]
            .as_str()
            .unwrap()
            .to_ascii_lowercase(),
        k => k
            .signature_headers()
            .iter()
            .find(|h| has(case, h))
            .unwrap_or_else(|| panic!("{}: no signature header", case.name))
            .to_string(),
    }
}

/// The header that carries this case's signed timestamp, for schemes that put it in its own header.
fn ts_header(file: &VectorFile, case: &Case) -> Option<String> {
    let h = match kind(file) {
        SchemeKind::StandardWebhooks if has(case, "svix-timestamp") => "svix-timestamp",
        SchemeKind::StandardWebhooks => "webhook-timestamp",
        SchemeKind::Slack => "x-slack-request-timestamp",
        SchemeKind::Zoom => "x-zm-request-timestamp",
        SchemeKind::Zendesk => "x-zendesk-webhook-signature-timestamp",
        SchemeKind::Discord => "x-signature-timestamp",
        SchemeKind::Generic => {
            return case.params.as_ref().unwrap()["timestamp_header"]
                .as_str()
                .map(str::to_ascii_lowercase);
        }
        _ => return None,
    };
    Some(h.to_owned())
}

/// Rewrites every signature token of a signature header value with `f`, keeping the
/// scheme's framing (`t=..,v1=`, `v1,`, `sha256=`, ...). Returns None for an unknown layout.
fn map_sigs(file: &VectorFile, case: &Case, value: &str, f: &dyn Fn(&str) -> String) -> String {
    let rewrite_kv = |sep: &str, key: &str| {
        value
            .split(sep)
            .map(|item| match item.trim().split_once('=') {
                Some((k, v)) if k == key => format!("{k}={}", f(v)),
                _ => item.to_owned(),
            })
            .collect::<Vec<_>>()
            .join(sep)
    };
    match kind(file) {
        SchemeKind::Stripe => rewrite_kv(",", "v1"),
        SchemeKind::Paddle => rewrite_kv(";", "h1"),
        SchemeKind::StandardWebhooks => value
            .split(' ')
            .map(|e| match e.split_once(',') {
                Some((v, s)) => format!("{v},{}", f(s)),
                None => e.to_owned(),
            })
            .collect::<Vec<_>>()
            .join(" "),
        SchemeKind::Github | SchemeKind::Intercom | SchemeKind::Slack | SchemeKind::Zoom => {
            let (prefix, sig) = value.split_once('=').unwrap();
            format!("{prefix}={}", f(sig))
        }
        SchemeKind::Generic => {
            let prefix = case.params.as_ref().unwrap()["prefix"]
                .as_str()
                .unwrap_or("");
            format!("{prefix}{}", f(value.strip_prefix(prefix).unwrap()))
        }
        _ => f(value),
    }
}

/// The signature tokens in a header value.
fn sig_tokens(file: &VectorFile, case: &Case, value: &str) -> Vec<String> {
    let tokens = std::cell::RefCell::new(Vec::new());
    map_sigs(file, case, value, &|s| {
        tokens.borrow_mut().push(s.to_owned());
        s.to_owned()
    });
    tokens.into_inner()
}

/// The case's headers with `name`'s value rewritten.
fn with_header(case: &Case, name: &str, f: impl Fn(&str) -> String) -> Headers {
    case.headers
        .iter()
        .map(|(n, v)| {
            let v = if n.eq_ignore_ascii_case(name) {
                f(v)
            } else {
                v.clone()
            };
            (n.clone(), v)
        })
        .collect()
}

fn verify_with(
    file: &VectorFile,
    case: &Case,
    headers: &Headers,
    body: &[u8],
    now: Timestamp,
) -> Result<(), VerifyError> {
    let v = verifier_for(file, case);
    v.verify(&case.request(headers, body), now).map(|_| ())
}

/// Verifies a case with other headers, its own body and clock.
fn verify_headers(file: &VectorFile, case: &Case, headers: &Headers) -> Result<(), VerifyError> {
    verify_with(file, case, headers, &case.body_bytes(), case.now())
}

/// Verifies a case with another body, its own headers and clock.
fn verify_body(file: &VectorFile, case: &Case, body: &[u8]) -> Result<(), VerifyError> {
    verify_with(file, case, &case.header_list(), body, case.now())
}

/// The case's headers without `name`.
fn without_header(case: &Case, name: &str) -> Headers {
    case.headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case(name))
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect()
}

/// Verifies a case unchanged, at another time.
fn verify_at(file: &VectorFile, case: &Case, now: Timestamp) -> Result<(), VerifyError> {
    verify_with(file, case, &case.header_list(), &case.body_bytes(), now)
}

/// Runs `check` over the valid cases it applies to (it returns None to skip a case) and
/// asserts the verifier refuses each with one of `codes`. Also asserts the mutation applied
/// to at least `min_cases` cases, so a test cannot pass by skipping everything.
fn assert_rejected(
    what: &str,
    codes: &[&str],
    min_cases: usize,
    check: impl Fn(&VectorFile, &Case) -> Option<Result<(), VerifyError>>,
) {
    let files = load_vectors();
    let mut applied = 0;
    for (file, case) in valid_cases(&files) {
        let Some(result) = check(file, case) else {
            continue;
        };
        applied += 1;
        match result {
            Ok(()) => panic!("{what}: {}/{} was accepted", file.scheme, case.name),
            Err(e) => assert!(
                codes.contains(&e.code()),
                "{what}: {}/{} failed with {} ({e}), expected one of {codes:?}",
                file.scheme,
                case.name,
                e.code()
            ),
        }
    }
    assert!(
        applied >= min_cases,
        "{what}: applied to only {applied} cases"
    );
}

#[test]
fn every_scheme_of_the_table_is_in_the_docs_scheme_tables() {
    // The table in `shared/src/verify/table.rs` is the source; the README's and
    // docs/config.md's tables are written by hand, so they are checked against it.
    let doc = |path: &str| {
        std::fs::read_to_string(format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    };
    let (readme, config) = (doc("README.md"), doc("docs/config.md"));
    for k in SchemeKind::ALL {
        let row_start = format!("| `{}` ", k.name());
        assert!(readme.contains(&row_start), "README.md: no row for {k}");
        let row = config
            .lines()
            .find(|l| l.starts_with(&row_start))
            .unwrap_or_else(|| panic!("docs/config.md: no row for {k}"));
        let spec = k.spec();
        for pointer in [spec.id_pointer, spec.type_pointer].into_iter().flatten() {
            assert!(
                row.contains(&format!("`{pointer}`")),
                "docs/config.md's {k} row does not name {pointer}"
            );
        }
        for alias in spec.aliases {
            assert!(row.contains(&format!("`{alias}`")), "{k}: alias {alias}");
        }
    }
}

#[test]
fn every_scheme_has_official_vectors() {
    let files = load_vectors();
    for k in SchemeKind::ALL {
        let file = files
            .iter()
            .find(|f| f.scheme == k.name())
            .unwrap_or_else(|| panic!("no vectors for {k}"));
        let valid = file.cases.iter().filter(|c| c.expect == "valid").count();
        assert!(valid >= 3, "{k}: only {valid} valid vectors");
        assert!(!file.origin.trim().is_empty(), "{k}: origin not noted");
    }
}

#[test]
fn official_vectors_verify() {
    let files = load_vectors();
    let mut checked = 0;
    for file in &files {
        for case in &file.cases {
            let headers = case.header_list();
            let body = case.body_bytes();
            let v = verifier_for(file, case);
            let result = v.verify(&case.request(&headers, &body), case.now());
            match case.expect.as_str() {
                "valid" => {
                    let verified = result.unwrap_or_else(|e| {
                        panic!("{}/{} should verify: {e}", file.scheme, case.name)
                    });
                    assert_eq!(verified.body(), &body[..]);
                    assert_eq!(verified.scheme(), kind(file));
                }
                "invalid" => assert!(
                    result.is_err(),
                    "{}/{} should fail verification",
                    file.scheme,
                    case.name
                ),
                other => panic!("{}: unknown expectation {other}", case.name),
            }
            checked += 1;
        }
    }
    assert!(checked >= 36, "only {checked} vectors");
}

/// The keys to sign a case with: Ed25519 schemes need the private key, HMAC schemes reuse the
/// verifier's secrets.
fn signing_secrets(file: &VectorFile, case: &Case) -> Vec<Secret> {
    match (kind(file), &case.signing_key) {
        (SchemeKind::Discord, Some(k)) => vec![Secret::new(k.as_bytes().to_vec()).unwrap()],
        (SchemeKind::StandardWebhooks, Some(k)) => {
            // v1a cases: the whsk_ key signs; any whsec_ secrets sign v1 alongside.
            let mut out = vec![Secret::new(k.as_bytes().to_vec()).unwrap()];
            out.extend(
                case.secrets
                    .iter()
                    .filter(|s| !s.starts_with("whpk_"))
                    .map(|s| Secret::new(s.as_bytes().to_vec()).unwrap()),
            );
            out
        }
        _ => case.secret_list(),
    }
}

/// The signing time and id of a vector, from its fields or its headers.
fn signed_at_and_id(file: &VectorFile, case: &Case) -> (Timestamp, String) {
    let headers = case.header_list();
    let body = case.body_bytes();
    let verified = verifier_for(file, case)
        .verify(&case.request(&headers, &body), case.now())
        .unwrap();
    let at = case
        .timestamp
        .map(Timestamp::from_unix_secs)
        .or(verified.signed_at())
        .unwrap_or_else(|| case.now());
    let id = case
        .id
        .clone()
        .or(verified.signed_id().map(str::to_owned))
        .unwrap_or_default();
    (at, id)
}

/// `https://h/x` <-> `https://h:443/x` (and :80 for http).
fn toggle_default_port(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (host, path) = rest.split_at(end);
    let port = if scheme == "https" { ":443" } else { ":80" };
    match host.strip_suffix(port) {
        Some(bare) => format!("{scheme}://{bare}{path}"),
        None => format!("{scheme}://{host}{port}{path}"),
    }
}

#[test]
fn hookline_signer_reproduces_official_signatures() {
    let files = load_vectors();
    let mut reproduced = 0;
    for (file, case) in valid_cases(&files) {
        let (at, id) = signed_at_and_id(file, case);
        let header = sig_header(file, case);
        let official = case
            .header_list()
            .get_one(&header)
            .unwrap()
            .unwrap()
            .to_owned();
        let official = sig_tokens(file, case, &official);
        let scheme = scheme_for(file, case);
        // Twilio's backend signs the URL with or without the default port; its validators try
        // both, and so does this comparison.
        let urls = if kind(file) == SchemeKind::Twilio {
            vec![case.url.clone(), toggle_default_port(&case.url)]
        } else {
            vec![case.url.clone()]
        };
        // Each key on its own: rotation vectors may be signed by any one of them.
        let ours: Vec<String> = signing_secrets(file, case)
            .into_iter()
            .flat_map(|secret| urls.iter().map(move |url| (secret.clone(), url.clone())))
            .flat_map(|(secret, url)| {
                let signer = Signer::new(scheme.clone(), vec![secret]).unwrap();
                let unsigned: Headers = without_header(case, &header);
                let body = case.body_bytes();
                let req = hookline_core::verify::Request {
                    url: &url,
                    ..case.request(&unsigned, &body)
                };
                let signed = signer.sign(&req, &id, at).unwrap();
                let (_, value) = signed
                    .iter()
                    .find(|(n, _)| {
                        n.eq_ignore_ascii_case(&header)
                            || (header == "svix-signature"
                                && n.eq_ignore_ascii_case("webhook-signature"))
                    })
                    .unwrap_or_else(|| panic!("{}: signer emitted no {header}", case.name))
                    .clone();
                sig_tokens(file, case, &value)
            })
            .collect();
        assert!(
            ours.iter().any(|t| official.contains(t)),
            "{}/{}: hookline signed {ours:?}, the official SDK {official:?}",
            file.scheme,
            case.name
        );
        reproduced += 1;
    }
    assert!(reproduced >= 36);
}

#[test]
fn body_changed_by_one_byte_is_rejected() {
    assert_rejected(
        "body +1 byte",
        &[
            "signature_mismatch",
            "body_hash_mismatch",
            "body_not_signed",
        ],
        36,
        |file, case| {
            let mut body = case.body_bytes();
            match body.last_mut() {
                Some(b) => *b ^= 0x01,
                None => body.push(b' '),
            }
            Some(verify_body(file, case, &body))
        },
    );
}

#[test]
fn body_reencoded_is_rejected() {
    // Frameworks that parse and re-serialise JSON break signatures: the bytes differ even
    // though the value is the same. The verifier must see the difference.
    assert_rejected(
        "re-encoded JSON body",
        &["signature_mismatch", "body_hash_mismatch"],
        8,
        |file, case| {
            let body = case.body_bytes();
            let value: serde_json::Value = serde_json::from_slice(&body).ok()?;
            let pretty = serde_json::to_vec_pretty(&value).unwrap();
            (pretty != body).then(|| verify_body(file, case, &pretty))
        },
    );
}

/// A valid Ed25519 public key that is not any vector's: RFC 8032 section 7.1, TEST 1.
const OTHER_ED25519_PK: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// A secret of the same shape as `secret` (so the verifier accepts it as a key) but different.
fn wrong_secret(file: &VectorFile, case: &Case, secret: &str) -> String {
    if secret.starts_with("whsec_") {
        format!("whsec_{}", B64.encode(b"definitely not the key"))
    } else if secret.starts_with("whpk_") {
        format!("whpk_{}", B64.encode(unhex(OTHER_ED25519_PK)))
    } else if kind(file) == SchemeKind::Discord {
        OTHER_ED25519_PK.to_owned()
    } else {
        match case
            .params
            .as_ref()
            .and_then(|p| p["secret_encoding"].as_str())
        {
            Some("base64") => B64.encode(b"wrong key"),
            Some("hex") => "0badc0de".to_owned(),
            _ => format!("{secret}x"),
        }
    }
}

#[test]
fn wrong_secret_is_rejected() {
    assert_rejected("wrong secret", &["signature_mismatch"], 36, |file, case| {
        let mut wrong = case.clone();
        wrong.secrets = case
            .secrets
            .iter()
            .map(|s| wrong_secret(file, case, s))
            .collect();
        Some(verify_at(file, &wrong, case.now()))
    });
}

#[test]
fn missing_signature_header_is_rejected() {
    assert_rejected("missing header", &["missing_header"], 36, |file, case| {
        let header = sig_header(file, case);
        let headers = without_header(case, &header);
        Some(verify_headers(file, case, &headers))
    });
}

#[test]
fn missing_timestamp_header_is_rejected() {
    assert_rejected(
        "missing timestamp",
        &["missing_header"],
        10,
        |file, case| {
            let ts = ts_header(file, case)?;
            let headers = without_header(case, &ts);
            Some(verify_headers(file, case, &headers))
        },
    );
}

#[test]
fn duplicate_signature_header_is_rejected() {
    // Two signature headers: which one did the proxy in front of us check? Refuse.
    assert_rejected(
        "duplicate header",
        &["duplicate_header"],
        36,
        |file, case| {
            let header = sig_header(file, case);
            let mut headers = case.header_list();
            let value = headers.get_one(&header).unwrap().unwrap().to_owned();
            headers.push(&header, value);
            Some(verify_headers(file, case, &headers))
        },
    );
}

fn mutate_sigs(
    f: impl Fn(&str) -> String + Copy,
) -> impl Fn(&VectorFile, &Case) -> Option<Result<(), VerifyError>> {
    move |file, case| {
        let header = sig_header(file, case);
        let headers = with_header(case, &header, |v| map_sigs(file, case, v, &f));
        Some(verify_headers(file, case, &headers))
    }
}

#[test]
fn truncated_signature_is_rejected() {
    // Svix's libraries once compared only up to the shorter length (fixed Feb 2024).
    assert_rejected(
        "truncated signature",
        &["signature_mismatch"],
        36,
        mutate_sigs(|s| s[..s.len().saturating_sub(4)].to_owned()),
    );
}

#[test]
fn signature_prefix_of_one_byte_is_rejected() {
    assert_rejected(
        "one-byte signature",
        &["signature_mismatch"],
        36,
        mutate_sigs(|s| s[..2.min(s.len())].to_owned()),
    );
}

#[test]
fn extended_signature_is_rejected() {
    assert_rejected(
        "extended signature",
        &["signature_mismatch"],
        36,
        mutate_sigs(|s| format!("{s}AAAA")),
    );
}

#[test]
fn empty_signature_is_rejected() {
    // `v1,` / `v1=` / `sha256=` with nothing after: an empty MAC must never match.
    assert_rejected(
        "empty signature",
        &["signature_mismatch", "missing_header"],
        36,
        mutate_sigs(|_| String::new()),
    );
}

#[test]
fn wrong_version_prefix_is_rejected() {
    assert_rejected(
        "wrong version",
        &["unsupported_signature_version"],
        15,
        |file, case| {
            let header = sig_header(file, case);
            let swap: &dyn Fn(&str) -> String = match kind(file) {
                SchemeKind::Stripe => &|v| v.replace("v1=", "v2="),
                SchemeKind::Paddle => &|v| v.replace("h1=", "h2="),
                SchemeKind::StandardWebhooks => {
                    &|v| v.replace("v1,", "v2,").replace("v1a,", "v2a,")
                }
                SchemeKind::Github => &|v| v.replace("sha256=", "sha1="),
                SchemeKind::Intercom => &|v| v.replace("sha1=", "sha256="),
                SchemeKind::Slack | SchemeKind::Zoom => &|v| v.replace("v0=", "v1="),
                _ => return None,
            };
            let headers = with_header(case, &header, swap);
            Some(verify_headers(file, case, &headers))
        },
    );
}

/// When a case was signed, per the verifier, and the verifier's replay window (the scheme's
/// default: 5 s for Paddle, 60 s for Linear, 5 minutes for the others).
fn signed_at(file: &VectorFile, case: &Case) -> Option<(Timestamp, Duration)> {
    let headers = case.header_list();
    let body = case.body_bytes();
    let v = verifier_for(file, case);
    let at = v
        .verify(&case.request(&headers, &body), case.now())
        .unwrap()
        .signed_at()?;
    Some((at, v.tolerance().unwrap()))
}

/// Every timestamped vector, verified with the clock `shift`ed one millisecond past the edge of
/// its replay window, must be refused with `code`.
fn assert_outside_window(what: &str, code: &str, shift: fn(Timestamp, Duration) -> Timestamp) {
    assert_rejected(what, &[code], 20, |file, case| {
        let (at, tolerance) = signed_at(file, case)?;
        let now = shift(at, tolerance + Duration::from_millis(1));
        Some(verify_at(file, case, now))
    });
}

#[test]
fn stale_timestamp_is_rejected() {
    assert_outside_window(
        "stale timestamp",
        "timestamp_too_old",
        Timestamp::saturating_add,
    );
}

#[test]
fn future_timestamp_is_rejected() {
    assert_outside_window(
        "future timestamp",
        "timestamp_in_future",
        Timestamp::saturating_sub,
    );
}

#[test]
fn timestamp_at_the_edge_of_the_window_is_accepted() {
    let files = load_vectors();
    let mut n = 0;
    for (file, case) in valid_cases(&files) {
        let Some((at, tolerance)) = signed_at(file, case) else {
            continue;
        };
        for now in [at.saturating_add(tolerance), at.saturating_sub(tolerance)] {
            verify_at(file, case, now)
                .unwrap_or_else(|e| panic!("{}/{}: {e}", file.scheme, case.name));
        }
        n += 1;
    }
    assert!(n >= 20);
}

#[test]
fn negative_timestamp_is_rejected() {
    // Re-signed by hookline at t = -1 so that the MAC is valid and only the timestamp is wrong:
    // this tests the timestamp parser, not the MAC.
    assert_rejected(
        "negative timestamp",
        &["invalid_timestamp"],
        15,
        |file, case| {
            let k = kind(file);
            if !matches!(
                k,
                SchemeKind::StandardWebhooks
                    | SchemeKind::Stripe
                    | SchemeKind::Slack
                    | SchemeKind::Zoom
                    | SchemeKind::Paddle
                    | SchemeKind::Discord
                    | SchemeKind::Linear
                    | SchemeKind::Generic
            ) {
                return None;
            }
            let scheme = scheme_for(file, case);
            // RFC 3339 cannot write a negative time: those generic cases are not applicable.
            if k == SchemeKind::Generic
                && !matches!(scheme.generic_params(), Some(g)
                    if g.timestamp_header.is_some()
                        && g.timestamp_format != hookline_core::verify::TimestampFormat::Rfc3339)
            {
                return None;
            }
            let mut body = case.body_bytes();
            if k == SchemeKind::Linear {
                let mut v: serde_json::Value = serde_json::from_slice(&body).ok()?;
                v["webhookTimestamp"] = serde_json::json!(-1000);
                body = serde_json::to_vec(&v).unwrap();
            }
            let (_, id) = signed_at_and_id(file, case);
            let signer = Signer::new(scheme, signing_secrets(file, case)).unwrap();
            let base: Headers = case.header_list();
            let signed = signer
                .sign(
                    &case.request(&base, &body),
                    &id,
                    Timestamp::from_unix_secs(-1),
                )
                .ok()?;
            let headers: Headers = case
                .headers
                .iter()
                .filter(|(n, _)| !signed.iter().any(|(s, _)| s.eq_ignore_ascii_case(n)))
                .map(|(n, v)| (n.clone(), v.clone()))
                .chain(signed.iter().map(|(n, v)| (n.clone(), v.clone())))
                .filter(|(n, _)| !n.to_ascii_lowercase().starts_with("svix-"))
                .collect();
            Some(verify_with(file, case, &headers, &body, case.now()))
        },
    );
}

#[test]
fn replayed_with_another_message_id_is_rejected() {
    // Standard Webhooks signs the message id: a captured request replayed under a new id
    // (to dodge consumer-side deduplication) must fail.
    assert_rejected(
        "new message id",
        &["signature_mismatch"],
        4,
        |file, case| {
            if kind(file) != SchemeKind::StandardWebhooks {
                return None;
            }
            let id_header = if has(case, "svix-id") {
                "svix-id"
            } else {
                "webhook-id"
            };
            let headers = with_header(case, id_header, |v| format!("{v}-replayed"));
            Some(verify_headers(file, case, &headers))
        },
    );
}

#[test]
fn signature_from_one_scheme_does_not_verify_under_another() {
    // GitHub and Intercom share the X-Hub-Signature family; Stripe and Paddle share a layout.
    // A request valid for one must not pass the other with the same secret.
    let files = load_vectors();
    let mut n = 0;
    // The generic scheme can be configured to be any provider's (its sha1-prefixed vector is
    // Intercom's layout), so only the built-in schemes are crossed.
    for (file, case) in valid_cases(&files)
        .into_iter()
        .filter(|(f, _)| kind(f) != SchemeKind::Generic)
    {
        for other in SchemeKind::ALL {
            if other == kind(file) || other == SchemeKind::Generic {
                continue;
            }
            // GitHub still sends the legacy `X-Hub-Signature: sha1=..` beside the SHA-256 one,
            // and that header is exactly Intercom's scheme: under the same secret it must verify.
            if kind(file) == SchemeKind::Github && other == SchemeKind::Intercom {
                continue;
            }
            let Some(scheme) = Scheme::from_kind(other) else {
                continue;
            };
            let Ok(v) = Verifier::new(scheme, case.secret_list()) else {
                continue;
            };
            let headers = case.header_list();
            let body = case.body_bytes();
            assert!(
                v.verify(&case.request(&headers, &body), case.now())
                    .is_err(),
                "{}/{} verified as {other}",
                file.scheme,
                case.name
            );
            n += 1;
        }
    }
    assert!(n > 100);
}

#[test]
fn timestamp_respelled_with_a_leading_zero_or_another_offset_is_rejected() {
    // `01763899990` is the instant of `1763899990`, and `...Z` of `...+00:00`. Accepted, a second
    // spelling would let bytes move between the timestamp and the content signed next to it
    // (Discord and Zendesk sign `{timestamp}{body}`). The timestamp is refused as such, before
    // any MAC is computed: `signature_mismatch` here would mean the spelling was accepted.
    assert_rejected(
        "timestamp re-spelled",
        &["invalid_timestamp"],
        25,
        |file, case| {
            let respell = |ts: &str| match ts.strip_suffix('Z') {
                Some(rfc3339) => format!("{rfc3339}+00:00"),
                None => format!("0{ts}"),
            };
            let headers = match kind(file) {
                SchemeKind::Stripe | SchemeKind::Paddle => {
                    let (sep, key) = if kind(file) == SchemeKind::Stripe {
                        (",", "t=")
                    } else {
                        (";", "ts=")
                    };
                    with_header(case, &sig_header(file, case), |v| {
                        v.split(sep)
                            .map(|item| match item.strip_prefix(key) {
                                Some(ts) => format!("{key}{}", respell(ts)),
                                None => item.to_owned(),
                            })
                            .collect::<Vec<_>>()
                            .join(sep)
                    })
                }
                _ => with_header(case, &ts_header(file, case)?, respell),
            };
            Some(verify_headers(file, case, &headers))
        },
    );
}
