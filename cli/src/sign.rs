//! `hookline sign`: the headers a provider would send for a body, or a ready-to-paste `curl`
//! command, so a receiver can be tested without the provider (like `stripe trigger` or the Svix
//! CLI).
//!
//! Signing goes through the core's [`Signer`], the code the sender uses for its own deliveries
//! and the tests use against the verifiers, so what this prints verifies exactly where the
//! provider's real requests do.

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hookline_core::config::closest;
use hookline_core::headers::Headers;
use hookline_core::secret::Secret;
use hookline_core::time::Timestamp;
use hookline_core::verify::{
    GenericHmac, KeyError, Request, Scheme, SchemeKind, Signer, twilio_body_sha256_hex,
};

use crate::error::{FileError, UsageError};
use crate::now;
use crate::{CliError, Ui};

/// The body signed when neither `--body` nor `--data` is given.
pub const DEMO_BODY: &str =
    r#"{"type":"hookline.test","data":{"message":"Hello from hookline sign"}}"#;

/// The URL signed when neither `--url` nor `--curl` names one (only the generic scheme's
/// `{url}` and Twilio read it, and Twilio insists on a real one).
const PLACEHOLDER_URL: &str = "http://localhost/";

/// `hookline sign` options.
#[derive(Debug, clap::Args)]
#[command(after_help = SIGN_EXAMPLES)]
pub struct Args {
    /// The provider's scheme (the help lists them, from the core's scheme table).
    #[arg(
        long,
        value_name = "SCHEME",
        default_value = "standard-webhooks",
        help = scheme_help()
    )]
    pub scheme: String,
    /// The signing secret, as the provider hands it out (`whsec_...` for Standard Webhooks, the
    /// 32-byte hex private seed for Discord). Repeat to sign with several (rotation).
    #[arg(
        long,
        value_name = "SECRET",
        env = "HOOKLINE_SECRET",
        hide_env_values = true,
        required = true
    )]
    pub secret: Vec<String>,
    /// Sign the contents of FILE (`-` reads standard input), byte for byte.
    #[arg(long, value_name = "FILE", conflicts_with = "data")]
    pub body: Option<PathBuf>,
    /// Sign this text as the body [default: a small JSON demo event].
    #[arg(long, value_name = "STRING")]
    pub data: Option<String>,
    /// The message id (signed by Standard Webhooks only) [default: a random `msg_...`].
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// The signing time in Unix seconds [default: now].
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    pub timestamp: Option<i64>,
    /// The full URL the provider sends to (Twilio signs it) [default: the `--curl` URL].
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// The request's content type.
    #[arg(long, value_name = "TYPE", default_value = "application/json")]
    pub content_type: String,
    /// Another request header, `Name: value` (repeatable; the generic scheme's
    /// `{header:Name}` reads these).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Parameters of the generic scheme, as JSON with the fields of hookline.toml's `generic`
    /// table, e.g. '{"header":"X-Signature","prefix":"sha256="}'.
    #[arg(long, value_name = "JSON")]
    pub generic: Option<String>,
    /// Print a curl command that POSTs the exact body, with the headers, to URL.
    #[arg(long, value_name = "URL")]
    pub curl: Option<String>,
}

/// `--scheme`'s help: every scheme's name, with its aliases.
fn scheme_help() -> String {
    let names: Vec<String> = SchemeKind::ALL
        .iter()
        .map(|k| {
            let spec = k.spec();
            match spec.aliases {
                [] => spec.name.to_owned(),
                aliases => format!("{} (also `{}`)", spec.name, aliases.join("`, `")),
            }
        })
        .collect();
    match names.split_last() {
        Some((last, [])) => format!("The provider's scheme: {last}."),
        Some((last, rest)) => format!("The provider's scheme: {} or {last}.", rest.join(", ")),
        None => "The provider's scheme.".to_owned(),
    }
}

const SIGN_EXAMPLES: &str = "\
Examples:
  hookline sign --scheme stripe --secret whsec_test --body event.json
  hookline sign --scheme standard \\
    --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw \\
    --body event.json --curl http://127.0.0.1:8787/hooks/demo | sh
  echo -n 'Body=Hi&From=%2B15551234567' | \\
    hookline sign --scheme twilio --secret \"$TOKEN\" --body - \\
    --content-type application/x-www-form-urlencoded \\
    --url https://example.com/sms";

/// Where the body came from: it decides how `--curl` passes it on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodySource {
    /// A file: curl reads it itself (`--data-binary @FILE`).
    File(PathBuf),
    /// `--data`, standard input or the demo event: passed inline.
    Inline,
}

/// Everything `hookline sign` prints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed {
    /// Every header to send, content type first, in order.
    pub headers: Vec<(String, String)>,
    /// The body that was signed.
    pub body: Vec<u8>,
    /// The URL that was signed, when there is one (Twilio may have added `bodySHA256`).
    pub url: Option<String>,
}

/// The inputs of [`sign`], read from the command line.
#[derive(Clone, Debug)]
pub struct Input<'a> {
    /// The scheme, with its parameters.
    pub scheme: Scheme,
    /// The body bytes.
    pub body: &'a [u8],
    /// The content type.
    pub content_type: &'a str,
    /// Extra headers, in order.
    pub extra_headers: &'a [(String, String)],
    /// The URL the provider sends to, if known.
    pub url: Option<&'a str>,
    /// The message id.
    pub id: &'a str,
    /// The signing time.
    pub timestamp: Timestamp,
}

/// Runs `hookline sign`.
pub fn run(args: Args, ui: Ui) -> Result<(), CliError> {
    let scheme = parse_scheme(&args.scheme, args.generic.as_deref())?;
    let secrets = args
        .secret
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Secret::new(s.as_bytes().to_vec()).map_err(|_| UsageError::EmptySecret { index: i + 1 })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let signer = Signer::new(scheme.clone(), secrets).map_err(|e| key_error(scheme.kind(), e))?;
    let extra_headers = args
        .headers
        .iter()
        .map(|h| parse_header(h))
        .collect::<Result<Vec<_>, _>>()?;
    let id = args.id.clone().unwrap_or_else(random_id);
    let timestamp = args.timestamp.map_or_else(now, Timestamp::from_unix_secs);
    let (body, source) = read_body(&args, &demo_body(scheme.kind(), timestamp))?;
    if scheme.kind() == SchemeKind::Linear && !has_linear_timestamp(&body) {
        ui.note(
            "note: Linear's verifiers also check `webhookTimestamp` (Unix milliseconds) in the \
             JSON body; this body has none, so they will refuse it",
        );
    }
    let url = args.url.as_deref().or(args.curl.as_deref());
    let input = Input {
        scheme,
        body: &body,
        content_type: &args.content_type,
        extra_headers: &extra_headers,
        url,
        id: &id,
        timestamp,
    };
    let signed = sign(&signer, &input)?;
    if let (Some(given), Some(signed_url)) = (url, &signed.url)
        && given != signed_url
    {
        ui.note(&format!(
            "note: Twilio signs a {} body through the URL: send it to {signed_url}",
            args.content_type
        ));
    }
    // The curl target gets Twilio's `bodySHA256` too, whichever URL was signed.
    let curl_url = args
        .curl
        .as_deref()
        .map(|c| match (&args.url, &signed.url) {
            (None, Some(signed_url)) => signed_url.clone(),
            (Some(_), _) if input.scheme.kind() == SchemeKind::Twilio => {
                with_body_sha256(c, &signed.body, &args.content_type)
            }
            _ => c.to_owned(),
        });
    let curl = curl_url.map(|u| curl_command(&u, &signed, &source));
    if ui.json {
        ui.json_line(&to_json(&signed, curl.as_deref()));
    } else if let Some(curl) = curl {
        ui.line(&curl);
    } else {
        for (name, value) in &signed.headers {
            ui.line(&format!("{name}: {value}"));
        }
    }
    Ok(())
}

/// Signs a body: the content type and extra headers, then the scheme's headers.
pub fn sign(signer: &Signer, input: &Input<'_>) -> Result<Signed, CliError> {
    let mut headers: Vec<(String, String)> =
        vec![("Content-Type".to_owned(), input.content_type.to_owned())];
    headers.extend(input.extra_headers.iter().cloned());
    let request_headers: Headers = headers.iter().cloned().collect();
    let twilio = input.scheme.kind() == SchemeKind::Twilio;
    let url = match (twilio, input.url) {
        (true, None) => {
            return Err(UsageError::TwilioNeedsUrl.into());
        }
        (true, Some(u)) => Some(with_body_sha256(u, input.body, input.content_type)),
        (_, u) => u.map(str::to_owned),
    };
    let request = Request {
        method: "POST",
        url: url.as_deref().unwrap_or(PLACEHOLDER_URL),
        headers: &request_headers,
        body: input.body,
    };
    let signature = signer
        .sign(&request, input.id, input.timestamp)
        .map_err(UsageError::MissingHeader)?;
    headers.extend(signature);
    Ok(Signed {
        headers,
        body: input.body.to_vec(),
        url,
    })
}

/// Twilio signs a JSON (any non-form) body by adding its SHA-256 to the URL's query as
/// `bodySHA256`, then signing the URL; a form body is signed as parameters instead.
fn with_body_sha256(url: &str, body: &[u8], content_type: &str) -> String {
    let is_form = content_type
        .trim_start()
        .get(..33)
        .is_some_and(|p| p.eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    if is_form || body.is_empty() || url.contains("bodySHA256=") {
        return url.to_owned();
    }
    let (base, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let sep = if base.contains('?') { '&' } else { '?' };
    let mut out = format!("{base}{sep}bodySHA256={}", twilio_body_sha256_hex(body));
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// The scheme named on the command line; the generic one needs `--generic`.
pub fn parse_scheme(name: &str, generic: Option<&str>) -> Result<Scheme, CliError> {
    let Some(kind) = SchemeKind::from_name(name) else {
        return Err(UsageError::UnknownScheme {
            name: name.to_owned(),
            suggestion: closest(name, &SchemeKind::names()),
        }
        .into());
    };
    match (Scheme::from_kind(kind), generic) {
        (Some(_), Some(_)) => Err(UsageError::GenericNotTaken {
            scheme: kind.name(),
        }
        .into()),
        (Some(scheme), None) => Ok(scheme),
        (None, None) => Err(UsageError::GenericMissing.into()),
        (None, Some(json)) => serde_json::from_str::<GenericHmac>(json)
            .map(Scheme::generic)
            .map_err(|e| UsageError::GenericInvalid(e).into()),
    }
}

/// A key error, with what the scheme expects; never the secret itself.
fn key_error(kind: SchemeKind, source: KeyError) -> CliError {
    UsageError::BadSecret {
        source,
        expected: kind.spec().signing_secret,
    }
    .into()
}

/// `Name: value`, split at the first colon.
fn parse_header(text: &str) -> Result<(String, String), CliError> {
    let bad = || UsageError::BadHeader {
        text: text.to_owned(),
    };
    let (name, value) = text.split_once(':').ok_or_else(bad)?;
    let name = name.trim();
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !valid {
        return Err(bad().into());
    }
    Ok((name.to_owned(), value.trim().to_owned()))
}

/// The body bytes and where they came from.
fn read_body(args: &Args, demo: &str) -> Result<(Vec<u8>, BodySource), CliError> {
    match (&args.body, &args.data) {
        (Some(path), _) if path.as_os_str() == "-" => {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut buf).map_err(
                |source| FileError::Stdin {
                    what: "the body from stdin",
                    source,
                },
            )?;
            Ok((buf, BodySource::Inline))
        }
        (Some(path), _) => std::fs::read(path)
            .map(|b| (b, BodySource::File(path.clone())))
            .map_err(|source| {
                FileError::BodyUnreadable {
                    path: path.clone(),
                    source,
                }
                .into()
            }),
        (None, Some(data)) => Ok((data.as_bytes().to_vec(), BodySource::Inline)),
        (None, None) => Ok((demo.as_bytes().to_vec(), BodySource::Inline)),
    }
}

/// The demo event; Linear's carries the `webhookTimestamp` its verifiers check.
pub fn demo_body(kind: SchemeKind, timestamp: Timestamp) -> String {
    if kind == SchemeKind::Linear {
        format!(
            r#"{{"type":"Issue","action":"create","data":{{"title":"Hello from hookline sign"}},"webhookTimestamp":{}}}"#,
            timestamp.unix_millis()
        )
    } else {
        DEMO_BODY.to_owned()
    }
}

/// True when a body is a JSON object with a numeric `webhookTimestamp`.
fn has_linear_timestamp(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("webhookTimestamp").map(serde_json::Value::is_i64))
        .unwrap_or(false)
}

/// A message id in the style of Svix's (`msg_` and 24 random alphanumerics).
fn random_id() -> String {
    let mut id = String::from("msg_");
    id.extend(std::iter::repeat_with(fastrand::alphanumeric).take(24));
    id
}

/// `{"headers":{...},"body":"..."}`: the body as the exact text that was signed (re-encoding a
/// JSON value could reorder keys and break the signature), or `body_base64` when it is not
/// UTF-8.
pub fn to_json(signed: &Signed, curl: Option<&str>) -> serde_json::Value {
    let headers: serde_json::Map<String, serde_json::Value> = signed
        .headers
        .iter()
        .map(|(n, v)| (n.clone(), serde_json::Value::String(v.clone())))
        .collect();
    let mut out = serde_json::Map::new();
    out.insert("headers".into(), headers.into());
    match std::str::from_utf8(&signed.body) {
        Ok(text) => out.insert("body".into(), text.into()),
        Err(_) => out.insert("body_base64".into(), BASE64.encode(&signed.body).into()),
    };
    if let Some(url) = &signed.url {
        out.insert("url".into(), url.clone().into());
    }
    if let Some(curl) = curl {
        out.insert("curl".into(), curl.into());
    }
    out.into()
}

/// A POSIX-shell command that POSTs the signed body with its headers to `url`.
pub fn curl_command(url: &str, signed: &Signed, source: &BodySource) -> String {
    let mut lines = Vec::with_capacity(signed.headers.len() + 2);
    // A shell word cannot hold NUL (and should not hold invalid UTF-8): such bodies go through
    // printf's octal escapes.
    let inline_text = std::str::from_utf8(&signed.body)
        .ok()
        .filter(|t| !t.contains('\0'));
    let mut prefix = String::new();
    if source == &BodySource::Inline && inline_text.is_none() {
        prefix = format!("printf '{}' | ", printf_escape(&signed.body));
    }
    lines.push(format!("{prefix}curl -sS -X POST {}", shell_quote(url)));
    for (name, value) in &signed.headers {
        lines.push(format!("  -H {}", shell_quote(&format!("{name}: {value}"))));
    }
    let data = match source {
        BodySource::File(path) => shell_quote(&format!("@{}", path.display())),
        BodySource::Inline => inline_text.map_or_else(|| "@-".to_owned(), shell_quote),
    };
    lines.push(format!("  --data-binary {data}"));
    lines.join(" \\\n")
}

/// One shell word: single quotes, each `'` written as `'\''`.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A printf format that prints `bytes` exactly: printable ASCII as itself, everything else
/// (and `%`, `\`, `'`) as a three-digit octal escape.
fn printf_escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if (b' '..=b'~').contains(&b) && !matches!(b, b'%' | b'\\' | b'\'') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("\\{b:03o}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use hookline_core::verify::Verifier;

    use super::*;

    const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const NOW: Timestamp = Timestamp::from_unix_secs(1_763_900_000);

    fn secret(s: &str) -> Vec<Secret> {
        vec![Secret::new(s.as_bytes().to_vec()).unwrap()]
    }

    fn input<'a>(scheme: Scheme, body: &'a [u8], url: Option<&'a str>) -> Input<'a> {
        Input {
            scheme,
            body,
            content_type: "application/json",
            extra_headers: &[],
            url,
            id: "msg_1",
            timestamp: NOW,
        }
    }

    fn verify(scheme: Scheme, key: &str, signed: &Signed) -> Result<(), String> {
        let headers: Headers = signed.headers.iter().cloned().collect();
        let req = Request {
            method: "POST",
            url: signed.url.as_deref().unwrap_or(PLACEHOLDER_URL),
            headers: &headers,
            body: &signed.body,
        };
        let v = Verifier::new(scheme, secret(key)).unwrap();
        v.verify(&req, NOW).map(|_| ()).map_err(|e| e.to_string())
    }

    #[test]
    fn every_parameterless_hmac_scheme_signs_what_its_verifier_accepts() {
        for kind in SchemeKind::ALL {
            let demo = demo_body(kind, NOW);
            let body = demo.as_bytes();
            let (Some(scheme), false) = (Scheme::from_kind(kind), kind == SchemeKind::Discord)
            else {
                continue;
            };
            let key = if kind == SchemeKind::StandardWebhooks {
                WHSEC
            } else {
                "shhh"
            };
            let signer = Signer::new(scheme.clone(), secret(key)).unwrap();
            let signed = sign(
                &signer,
                &input(scheme.clone(), body, Some("https://example.com/hook")),
            )
            .unwrap();
            assert_eq!(
                signed.headers[0],
                ("Content-Type".into(), "application/json".into())
            );
            verify(scheme, key, &signed).unwrap_or_else(|e| panic!("{kind}: {e}"));
        }
    }

    #[test]
    fn twilio_needs_a_url_and_signs_a_json_body_through_body_sha256() {
        let signer = Signer::new(Scheme::from(SchemeKind::Twilio), secret("token")).unwrap();
        let err = sign(
            &signer,
            &input(Scheme::from(SchemeKind::Twilio), b"{}", None),
        )
        .unwrap_err();
        assert!(matches!(err, CliError::Usage(UsageError::TwilioNeedsUrl)));
        assert!(err.to_string().contains("--url"), "{err}");
        let signed = sign(
            &signer,
            &input(
                Scheme::from(SchemeKind::Twilio),
                b"{}",
                Some("https://e.com/sms?x=1"),
            ),
        )
        .unwrap();
        let url = signed.url.clone().unwrap();
        assert!(
            url.starts_with("https://e.com/sms?x=1&bodySHA256="),
            "{url}"
        );
        verify(Scheme::from(SchemeKind::Twilio), "token", &signed).unwrap();
    }

    #[test]
    fn twilio_form_bodies_are_signed_as_parameters() {
        let signer = Signer::new(Scheme::from(SchemeKind::Twilio), secret("token")).unwrap();
        let mut inp = input(
            Scheme::from(SchemeKind::Twilio),
            b"Body=Hi&From=%2B1555",
            Some("https://e.com/sms"),
        );
        inp.content_type = "application/x-www-form-urlencoded";
        let signed = sign(&signer, &inp).unwrap();
        assert_eq!(signed.url.as_deref(), Some("https://e.com/sms"));
        verify(Scheme::from(SchemeKind::Twilio), "token", &signed).unwrap();
    }

    #[test]
    fn generic_needs_parameters_and_reads_extra_headers() {
        let Err(e @ CliError::Usage(UsageError::GenericMissing)) = parse_scheme("generic", None)
        else {
            panic!()
        };
        assert!(e.to_string().contains("--generic"), "{e}");
        assert!(parse_scheme("stripe", Some("{}")).is_err());
        assert!(parse_scheme("generic", Some("{\"nope\":1}")).is_err());
        let scheme = parse_scheme(
            "generic",
            Some(r#"{"header":"X-Sig","signed_content":"{header:X-Acct}\n{body}"}"#),
        )
        .unwrap();
        let signer = Signer::new(scheme.clone(), secret("k")).unwrap();
        let err = sign(&signer, &input(scheme.clone(), b"{}", None)).unwrap_err();
        assert!(
            matches!(err, CliError::Usage(UsageError::MissingHeader(_))),
            "{err}"
        );
        assert!(err.to_string().to_lowercase().contains("x-acct"), "{err}");
        let extra = [("X-Acct".to_owned(), "42".to_owned())];
        let mut inp = input(scheme.clone(), b"{}", None);
        inp.extra_headers = &extra;
        let signed = sign(&signer, &inp).unwrap();
        assert_eq!(signed.headers[1], extra[0]);
        verify(scheme, "k", &signed).unwrap();
    }

    #[test]
    fn unknown_schemes_list_the_valid_names_and_suggest_one() {
        let Err(e @ CliError::Usage(UsageError::UnknownScheme { .. })) =
            parse_scheme("strpe", None)
        else {
            panic!()
        };
        let m = e.to_string();
        assert!(m.contains("did you mean `stripe`"), "{m}");
        assert!(m.contains("standard-webhooks, stripe, github"), "{m}");
        for alias in ["standard", "svix", "standard-webhooks"] {
            assert_eq!(
                parse_scheme(alias, None).unwrap(),
                Scheme::from(SchemeKind::StandardWebhooks)
            );
        }
    }

    #[test]
    fn key_errors_never_echo_the_secret() {
        let e = Signer::new(
            Scheme::from(SchemeKind::StandardWebhooks),
            secret("not*base64*topsecret"),
        )
        .unwrap_err();
        let m = key_error(SchemeKind::StandardWebhooks, e).to_string();
        assert!(!m.contains("topsecret"), "{m}");
        assert!(m.contains("whsec_"), "{m}");
    }

    #[test]
    fn headers_parse_as_name_colon_value() {
        assert_eq!(
            parse_header("X-A:  b: c ").unwrap(),
            ("X-A".into(), "b: c".into())
        );
        assert!(parse_header("no colon").is_err());
        assert!(parse_header("bad name: x").is_err());
        assert!(parse_header(": x").is_err());
    }

    #[test]
    fn shell_quoting_survives_quotes_and_expansions() {
        assert_eq!(shell_quote("it's $HOME"), r"'it'\''s $HOME'");
        assert_eq!(printf_escape(b"a%\\'\0\xff"), r"a\045\134\047\000\377");
    }

    /// A signed JSON body with only its content type, as `to_json` and `curl_command` see it.
    fn json_signed(body: &[u8]) -> Signed {
        Signed {
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_vec(),
            url: None,
        }
    }

    #[test]
    fn curl_passes_files_by_name_and_text_inline() {
        let signed = json_signed(b"{\"a\":\"it's\"}");
        let inline = curl_command("http://h/x", &signed, &BodySource::Inline);
        assert_eq!(
            inline,
            "curl -sS -X POST 'http://h/x' \\\n  -H 'Content-Type: application/json' \\\n  \
             --data-binary '{\"a\":\"it'\\''s\"}'"
        );
        let file = curl_command("http://h/x", &signed, &BodySource::File("a b.json".into()));
        assert!(file.ends_with("--data-binary '@a b.json'"), "{file}");
        let binary = Signed {
            body: vec![0, 1],
            ..signed
        };
        let piped = curl_command("http://h/x", &binary, &BodySource::Inline);
        assert!(piped.starts_with(r"printf '\000\001' | curl"), "{piped}");
        assert!(piped.ends_with("--data-binary @-"), "{piped}");
    }

    #[test]
    fn json_keeps_the_exact_body_text() {
        let signed = json_signed(b"{ \"b\":1, \"a\":2 }");
        let v = to_json(&signed, None);
        assert_eq!(v["body"], "{ \"b\":1, \"a\":2 }");
        assert_eq!(v["headers"]["Content-Type"], "application/json");
        let v = to_json(
            &Signed {
                body: vec![0xff],
                ..signed
            },
            Some("curl"),
        );
        assert_eq!(v["body_base64"], "/w==");
        assert_eq!(v["curl"], "curl");
    }

    #[test]
    fn linear_demo_bodies_carry_the_signed_timestamp() {
        assert!(has_linear_timestamp(
            demo_body(SchemeKind::Linear, NOW).as_bytes()
        ));
        assert!(!has_linear_timestamp(
            demo_body(SchemeKind::Stripe, NOW).as_bytes()
        ));
        assert!(!has_linear_timestamp(b"{\"webhookTimestamp\":\"1\"}"));
        assert!(!has_linear_timestamp(b"not json"));
    }

    #[test]
    fn random_ids_look_like_svix_ids() {
        let id = random_id();
        assert_eq!(id.len(), 28);
        assert!(id.starts_with("msg_"));
        assert_ne!(random_id(), id);
    }
}
