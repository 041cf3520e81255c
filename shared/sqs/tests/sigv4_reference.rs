//! The hand-written SigV4 (kept for the receiver's bundle size) against `aws-sigv4`, the
//! well-kept crate it replaces: byte-for-byte equal headers on many inputs.

use hookline_sqs::json::CONTENT_TYPE;
use hookline_sqs::sigv4::{AmzDate, Credentials, sign_json_post};

/// What `aws-sigv4` (default settings) signs for the same request.
#[cfg(test)] // lets clippy see a test helper, where unwrap is allowed (clippy.toml)
fn aws_sigv4_headers(
    origin: &str,
    region: &str,
    creds: &Credentials,
    target: &str,
    body: &[u8],
    unix_seconds: u64,
) -> Vec<(String, String)> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4;
    use std::time::{Duration, UNIX_EPOCH};

    let url = format!("{origin}/");
    let identity = aws_credential_types::Credentials::new(
        creds.access_key_id.as_str(),
        creds.secret_access_key.as_str(),
        creds.session_token.clone(),
        None,
        "test",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sqs")
        .time(UNIX_EPOCH + Duration::from_secs(unix_seconds))
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let base = [("content-type", CONTENT_TYPE), ("x-amz-target", target)];
    let signable = SignableRequest::new(
        "POST",
        url.as_str(),
        base.iter().copied(),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let (headers, _) = instructions.into_parts();
    base.iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .chain(
            headers
                .iter()
                .map(|h| (h.name().to_owned(), h.value().to_owned())),
        )
        .collect()
}

#[test]
fn sigv4_matches_aws_sigv4() {
    // Origins as the receiver's queue-URL parser passes them, with the signing region.
    let origins = [
        ("https://sqs.us-east-1.amazonaws.com", "us-east-1"),
        ("https://sqs.eu-west-2.amazonaws.com:443", "eu-west-2"),
        ("https://sqs.eu-west-2.amazonaws.com:8443", "eu-west-2"),
        ("https://sqs.eu-west-2.amazonaws.com:0443", "eu-west-2"),
        ("https://sqs.cn-north-1.amazonaws.com.cn", "cn-north-1"),
        (
            "https://sqs-fips.us-gov-west-1.amazonaws.com",
            "us-gov-west-1",
        ),
        ("https://sqs.us-east-1.amazonaws.com", "eu-central-2"),
        (
            "https://vpce-1a2b3c4d.sqs.us-east-1.vpce.amazonaws.com",
            "us-east-1",
        ),
        ("http://127.0.0.1", "us-east-1"),
        ("http://127.0.0.1:80", "x"),
        ("http://localhost:4566", "local-1"),
        ("https://127.0.0.1:443", "us-east-1"),
        ("https://localhost:80", "us-east-1"),
    ];
    let printable: String = (b'!'..=b'~').map(char::from).collect();
    let tokens = [None, Some("TOKEN/with+base64="), Some(printable.as_str())];
    let secrets = [
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        " s\u{e9}cret with spaces ",
    ];
    // Unix seconds and the same instant in RFC 3339 (aws-sigv4 checks that they agree).
    let times = [
        (0, "1970-01-01T00:00:00Z"),
        (951_782_400, "2000-02-29T00:00:00Z"),
        (1_440_938_160, "2015-08-30T12:36:00Z"),
        (1_795_435_199, "2026-11-23T11:59:59Z"),
        (253_402_300_799, "9999-12-31T23:59:59Z"),
    ];
    let targets = ["AmazonSQS.SendMessageBatch", "AmazonSQS.ReceiveMessage"];
    let long = vec![0xa5u8; 70_000];
    let bodies: [&[u8]; 4] = [b"", b"{}", "{\"x\":\"\u{1F600}\"}".as_bytes(), &long];
    let mut checked = 0;
    for (i, (origin, region)) in origins.iter().enumerate() {
        for (j, token) in tokens.iter().enumerate() {
            let creds = Credentials {
                access_key_id: if j == 1 {
                    "ASIAEXAMPLE0"
                } else {
                    "AKIDEXAMPLE"
                }
                .into(),
                secret_access_key: secrets[(i + j) % secrets.len()].into(),
                session_token: token.map(str::to_owned),
            };
            for (k, (unix, rfc3339)) in times.iter().enumerate() {
                let target = targets[(i + k) % targets.len()];
                let date = AmzDate::from_rfc3339(rfc3339).unwrap();
                for body in bodies {
                    let ours = sign_json_post(origin, region, &creds, target, body, &date).unwrap();
                    let theirs = aws_sigv4_headers(origin, region, &creds, target, body, *unix);
                    assert_eq!(ours, theirs, "{origin} {token:?} {unix} {target}");
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 13 * 3 * 5 * 4);
}

#[test]
fn known_answer_is_what_aws_sigv4_gives() {
    let creds = Credentials {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        session_token: Some("TOKEN/with+base64=".into()),
    };
    let origin = "https://sqs.us-east-1.amazonaws.com";
    let body = br#"{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/my-queue"}"#;
    let target = "AmazonSQS.SendMessageBatch";
    let date = AmzDate::from_rfc3339("2015-08-30T12:36:00Z").unwrap();
    assert_eq!(
        sign_json_post(origin, "us-east-1", &creds, target, body, &date).unwrap(),
        aws_sigv4_headers(origin, "us-east-1", &creds, target, body, 1_440_938_160)
    );
}
