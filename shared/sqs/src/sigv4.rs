//! AWS Signature Version 4 for SQS JSON-protocol requests (feature `sigv4`).
//!
//! Written out for this one request shape (`POST /`, `Content-Type`, `X-Amz-Target`, a JSON
//! body) instead of calling `aws-sigv4`: that crate's tree (`http`, `time`, `tracing`, ...) was a
//! seventh of the receiver Worker's gzipped bundle. The result is byte for byte what `aws-sigv4`
//! 1.x produces with its default settings (signed headers sorted, `host` without the scheme's
//! default port, payload hash not sent, session token signed); the `sigv4_reference` test
//! compares the two on many inputs.
//!
//! No clock: the caller passes the signing time as an [`AmzDate`].

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::json::CONTENT_TYPE;

const SERVICE: &str = "sqs";
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// AWS credentials used to sign requests.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Access key id (`AKIA…`, or `ASIA…` for temporary credentials).
    pub access_key_id: String,
    /// Secret access key. Never printed.
    pub secret_access_key: String,
    /// Session token of temporary credentials. Never printed.
    pub session_token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "** redacted **"),
            )
            .finish()
    }
}

impl Credentials {
    /// Checks that the credentials can go into headers: a non-empty alphanumeric key id, a
    /// non-empty secret, a printable session token.
    pub fn validate(&self) -> Result<(), SigningError> {
        if self.access_key_id.is_empty()
            || !self
                .access_key_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric())
        {
            return Err(SigningError::InvalidCredentials(
                "the access key id must be non-empty ASCII letters and digits",
            ));
        }
        if self.secret_access_key.is_empty() {
            return Err(SigningError::InvalidCredentials(
                "the secret access key is empty",
            ));
        }
        if let Some(token) = &self.session_token
            && (token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(SigningError::InvalidCredentials(
                "the session token must be non-empty printable ASCII",
            ));
        }
        Ok(())
    }
}

/// Why a request cannot be signed. `Display` never includes a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningError {
    /// The credentials cannot be used (empty, or characters not allowed in a header).
    #[error("invalid credentials: {0}")]
    InvalidCredentials(&'static str),
    /// The `X-Amz-Target` is empty or has characters other than letters, digits and `.`.
    #[error("invalid X-Amz-Target")]
    InvalidTarget,
    /// The time is not `YYYY-MM-DDTHH:MM:SSZ` (four-digit years only).
    #[error("invalid signing time")]
    InvalidTime,
}

/// The signing time in SigV4's basic format, `20150830T123600Z`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmzDate(String);

impl AmzDate {
    /// Reads an RFC 3339 UTC time of whole seconds, `2015-08-30T12:36:00Z`.
    pub fn from_rfc3339(time: &str) -> Result<Self, SigningError> {
        let b = time.as_bytes();
        let shape_ok = b.len() == 20
            && b.iter().enumerate().all(|(i, c)| match i {
                4 | 7 => *c == b'-',
                10 => *c == b'T',
                13 | 16 => *c == b':',
                19 => *c == b'Z',
                _ => c.is_ascii_digit(),
            });
        if !shape_ok {
            return Err(SigningError::InvalidTime);
        }
        Ok(Self(
            time.chars().filter(|c| !matches!(c, '-' | ':')).collect(),
        ))
    }

    /// `20150830T123600Z`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The date part, `20150830`.
    fn date(&self) -> &str {
        self.0.get(..8).unwrap_or_default()
    }
}

/// The headers of a `POST /` to `origin` (`scheme://host[:port]`, validated by the caller, as is
/// `region`: `[a-z0-9-]+`) carrying `body` with `X-Amz-Target: target`, signed for service
/// `sqs` in `region` at `time`: `content-type`, `x-amz-target`, `x-amz-date`, `authorization`,
/// and `x-amz-security-token` with temporary credentials.
///
/// Nothing is escaped or trimmed: every input is validated (here or by the caller), so none
/// needs it.
pub fn sign_json_post(
    origin: &str,
    region: &str,
    creds: &Credentials,
    target: &str,
    body: &[u8],
    time: &AmzDate,
) -> Result<Vec<(String, String)>, SigningError> {
    creds.validate()?;
    if target.is_empty()
        || !target
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.')
    {
        return Err(SigningError::InvalidTarget);
    }
    let date_time = time.as_str();
    let scope = format!("{}/{region}/{SERVICE}/aws4_request", time.date());

    let (scheme, authority) = origin.split_once("://").unwrap_or(("", origin));
    let host = match authority.split_once(':') {
        Some((host, "443")) if scheme == "https" => host,
        Some((host, "80")) if scheme == "http" => host,
        _ => authority,
    };
    let token = creds.session_token.as_deref();
    let signed_headers = if token.is_some() {
        "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
    } else {
        "content-type;host;x-amz-date;x-amz-target"
    };
    let token_line = token.map_or_else(String::new, |t| format!("x-amz-security-token:{t}\n"));
    let canonical_request = format!(
        "POST\n/\n\ncontent-type:{CONTENT_TYPE}\nhost:{host}\nx-amz-date:{date_time}\n\
         {token_line}x-amz-target:{target}\n\n{signed_headers}\n{}",
        hex::encode(Sha256::digest(body))
    );
    let string_to_sign = format!(
        "{ALGORITHM}\n{date_time}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let secret = format!("AWS4{}", creds.secret_access_key);
    let mut key = hmac_sha256(secret.as_bytes(), time.date().as_bytes());
    for part in [region, SERVICE, "aws4_request"] {
        key = hmac_sha256(&key, part.as_bytes());
    }
    let signature = hex::encode(hmac_sha256(&key, string_to_sign.as_bytes()));

    let mut headers = vec![
        ("content-type".to_owned(), CONTENT_TYPE.to_owned()),
        ("x-amz-target".to_owned(), target.to_owned()),
        ("x-amz-date".to_owned(), date_time.to_owned()),
        (
            "authorization".to_owned(),
            format!(
                "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, \
                 Signature={signature}",
                creds.access_key_id
            ),
        ),
    ];
    if let Some(token) = token {
        headers.push(("x-amz-security-token".to_owned(), token.to_owned()));
    }
    Ok(headers)
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail; the fallback keeps this
    // panic-free.
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| Hmac::new(&Default::default()));
    mac.update(data);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        }
    }

    fn date() -> AmzDate {
        AmzDate::from_rfc3339("2015-08-30T12:36:00Z").unwrap()
    }

    const ORIGIN: &str = "https://sqs.us-east-1.amazonaws.com";

    #[test]
    fn amz_date_reads_rfc3339_seconds_only() {
        assert_eq!(date().as_str(), "20150830T123600Z");
        assert_eq!(date().date(), "20150830");
        for bad in [
            "",
            "2015-08-30T12:36:00",
            "2015-08-30T12:36:00.5Z",
            "2015-08-30 12:36:00Z",
            "+12015-08-30T12:36:00Z",
            "2015-08-30T12:36:0xZ",
        ] {
            assert_eq!(
                AmzDate::from_rfc3339(bad),
                Err(SigningError::InvalidTime),
                "{bad}"
            );
        }
    }

    #[test]
    fn known_answer() {
        // The value aws-sigv4 1.6.4 gives, written down so the test outlives the reference crate.
        let mut c = creds();
        c.session_token = Some("TOKEN/with+base64=".into());
        let body = br#"{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/my-queue"}"#;
        let headers = sign_json_post(
            ORIGIN,
            "us-east-1",
            &c,
            "AmazonSQS.SendMessageBatch",
            body,
            &date(),
        )
        .unwrap();
        let auth = headers.iter().find(|(n, _)| n == "authorization").unwrap();
        assert_eq!(
            auth.1,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sqs/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, \
             Signature=20a10147e7a66a607ac9580136439ae3fe5a17ceb1f60be554709ed58966e933"
        );
        assert!(headers.contains(&("x-amz-security-token".into(), "TOKEN/with+base64=".into())));
    }

    #[test]
    fn credentials_debug_redacts_secret_and_token() {
        let mut c = creds();
        c.session_token = Some("FQoGZXIvYXdzEXAMPLETOKEN".into());
        let s = format!("{c:?}");
        assert!(s.contains("AKIDEXAMPLE"));
        assert!(!s.contains("wJalrXUtnFEMI"), "{s}");
        assert!(!s.contains("FQoGZXIvYXdzEXAMPLETOKEN"), "{s}");
        assert!(s.contains("redacted"));
        let s = format!("{c:#?}");
        assert!(!s.contains("wJalrXUtnFEMI") && !s.contains("EXAMPLETOKEN"));
    }

    #[test]
    fn refuses_bad_credentials_and_targets() {
        let sign = |c: &Credentials, target: &str| {
            sign_json_post(ORIGIN, "us-east-1", c, target, b"{}", &date())
        };
        for broken in [
            |c: &mut Credentials| c.access_key_id.clear(),
            |c: &mut Credentials| c.access_key_id = "AKID\r\nX-Injected: 1".into(),
            |c: &mut Credentials| c.secret_access_key.clear(),
            |c: &mut Credentials| c.session_token = Some("SECRETTOK\nEN".into()),
            |c: &mut Credentials| c.session_token = Some(String::new()),
        ] {
            let mut c = creds();
            broken(&mut c);
            let err = sign(&c, "AmazonSQS.SendMessageBatch").unwrap_err();
            assert!(
                matches!(err, SigningError::InvalidCredentials(_)),
                "{err:?}"
            );
            assert!(!err.to_string().contains("SECRETTOK"));
        }
        for target in ["", "AmazonSQS.Send\nX", "a b"] {
            assert_eq!(sign(&creds(), target), Err(SigningError::InvalidTarget));
        }
    }
}
