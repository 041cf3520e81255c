//! Building and signing requests.

use hookline_core::time::Timestamp;
use hookline_sqs::json::{TARGET_SEND_MESSAGE_BATCH, send_message_batch_input};
use hookline_sqs::limits::{MAX_BATCH_ENTRIES, MAX_MESSAGE_BYTES, is_valid_entry_id};
use hookline_sqs::sigv4::{AmzDate, Credentials, sign_json_post};

use super::queue::{is_valid_region, parse_url};
use super::{Entry, HttpRequest, Queue, SqsError};

/// 9999-12-31T23:59:59Z. Later times cannot be formatted as a SigV4 date (four-digit years), so
/// they are refused up front.
const MAX_UNIX_SECONDS: u64 = 253_402_300_799;

/// Byte limit this module enforces on a batch: message bodies plus, for each message attribute,
/// its name, data type and value (all as UTF-8). The long-standing SQS limit every queue
/// accepts; AWS has since documented 1 MiB, but a queue's `MaximumMessageSize` may still be
/// lower, so the forwarder stays at the conservative value.
pub const MAX_BATCH_BYTES: usize = MAX_MESSAGE_BYTES;

fn validate_batch(entries: &[Entry]) -> Result<(), SqsError> {
    if entries.is_empty() || entries.len() > MAX_BATCH_ENTRIES {
        return Err(SqsError::BatchSize(entries.len()));
    }
    // Duplicates are found by scanning what came before: at most 10 entries with a few
    // attributes each, where a scan beats a hash set (and keeps hashbrown's code for these types
    // out of the Worker's bundle).
    let mut size = 0usize;
    for (index, entry) in entries.iter().enumerate() {
        if !is_valid_entry_id(&entry.id) {
            return Err(SqsError::InvalidEntryId { index });
        }
        if entries.iter().take(index).any(|e| e.id == entry.id) {
            return Err(SqsError::DuplicateEntryId(entry.id.clone()));
        }
        for (i, (name, _)) in entry.attributes.iter().enumerate() {
            if entry.attributes.iter().take(i).any(|(n, _)| n == name) {
                return Err(SqsError::DuplicateAttribute {
                    id: entry.id.clone(),
                    name: name.clone(),
                });
            }
        }
        size = size.saturating_add(entry.size_bytes());
    }
    if size > MAX_BATCH_BYTES {
        return Err(SqsError::BatchTooLarge {
            size,
            max: MAX_BATCH_BYTES,
        });
    }
    Ok(())
}

/// Builds a signed AWS JSON 1.0 request for any SQS operation: `POST` to the queue URL's origin
/// with `X-Amz-Target: <target>` (e.g. `AmazonSQS.ReceiveMessage`) and `json_body` as the
/// payload, signed for service `sqs` in `queue.region` at `unix_seconds`.
///
/// [`send_message_batch`] is this plus validation and serialization of the batch.
pub fn signed_json_request(
    queue: &Queue,
    creds: &Credentials,
    target: &str,
    json_body: Vec<u8>,
    unix_seconds: u64,
) -> Result<HttpRequest, SqsError> {
    let parts = parse_url(&queue.url)?;
    if !is_valid_region(&queue.region) {
        return Err(SqsError::InvalidRegion);
    }
    if unix_seconds > MAX_UNIX_SECONDS {
        return Err(SqsError::InvalidTime);
    }
    // In range, so the conversion cannot fail; the fallback keeps this panic-free.
    let secs = i64::try_from(unix_seconds).unwrap_or(i64::MAX);
    let time = AmzDate::from_rfc3339(&Timestamp::from_unix_secs(secs).to_rfc3339())?;
    let headers = sign_json_post(
        parts.origin,
        &queue.region,
        creds,
        target,
        &json_body,
        &time,
    )?;
    let url = format!("{}/", parts.origin);
    Ok(HttpRequest {
        method: "POST",
        url,
        headers,
        body: json_body,
    })
}

/// Builds the signed `SendMessageBatch` request for `entries`.
///
/// Checked here: 1 to 10 entries, ids `[A-Za-z0-9_-]{1,80}` and unique, attribute names unique
/// per entry, total size (see [`Entry::size_bytes`]) at most [`MAX_BATCH_BYTES`]. Message
/// contents (e.g. characters SQS does not allow) and attribute names are left to SQS, so that a
/// bad entry can come back as one failure in the response instead of this call refusing the
/// whole batch.
pub fn send_message_batch(
    queue: &Queue,
    creds: &Credentials,
    entries: &[Entry],
    unix_seconds: u64,
) -> Result<HttpRequest, SqsError> {
    validate_batch(entries)?;
    let input = send_message_batch_input(&queue.url, entries);
    let body = serde_json::to_vec(&input)
        .map_err(|_| SqsError::Request("serializing the batch failed".to_owned()))?;
    signed_json_request(queue, creds, TARGET_SEND_MESSAGE_BATCH, body, unix_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqs::fixtures::{creds, entry, queue};

    #[test]
    fn request_debug_redacts_token_and_authorization() {
        let mut c = creds();
        c.session_token = Some("FQoGZXIvYXdzEXAMPLETOKEN".into());
        let req = send_message_batch(&queue(), &c, &[entry("a", "hi")], 1_440_938_160).unwrap();
        let auth = req.header("authorization").unwrap().to_owned();
        let s = format!("{req:?}");
        assert!(!s.contains("EXAMPLETOKEN"), "{s}");
        assert!(!s.contains(&auth), "{s}");
        assert!(!s.contains("wJalrXUtnFEMI"), "{s}");
    }

    // ---- send_message_batch -----------------------------------------------------------

    #[test]
    fn builds_the_request() {
        let mut e = entry("m-1", "hello \"world\"\n\u{1F600}");
        e.attributes = vec![("source".into(), "stripe".into()), ("z".into(), "1".into())];
        e.group_id = Some("g".into());
        e.dedup_id = Some("d".into());
        let req =
            send_message_batch(&queue(), &creds(), &[e, entry("m_2", "x")], 1_440_938_160).unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "https://sqs.us-east-1.amazonaws.com/");
        assert_eq!(
            req.header("content-type"),
            Some("application/x-amz-json-1.0")
        );
        assert_eq!(
            req.header("x-amz-target"),
            Some("AmazonSQS.SendMessageBatch")
        );
        assert_eq!(req.header("x-amz-date"), Some("20150830T123600Z"));
        assert_eq!(req.header("x-amz-security-token"), None);
        let auth = req.header("authorization").unwrap();
        assert!(
            auth.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sqs/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="
            ),
            "{auth}"
        );
        let sig = auth.rsplit("Signature=").next().unwrap();
        assert_eq!(sig.len(), 64);
        assert!(sig.bytes().all(|b| b.is_ascii_hexdigit()));

        // The body is the batch input for this queue (its JSON shape is tested in hookline-sqs).
        let v: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(
            v["QueueUrl"],
            "https://sqs.us-east-1.amazonaws.com/123456789012/my-queue"
        );
        assert_eq!(v["Entries"][0]["MessageBody"], "hello \"world\"\n\u{1F600}");
        assert_eq!(
            v["Entries"][0]["MessageAttributes"]["z"]["StringValue"],
            "1"
        );
        assert_eq!(v["Entries"][1]["Id"], "m_2");
    }

    #[test]
    fn signs_the_session_token() {
        let mut c = creds();
        c.session_token = Some("TOKEN/with+base64=".into());
        let req = send_message_batch(&queue(), &c, &[entry("a", "b")], 1_440_938_160).unwrap();
        assert_eq!(
            req.header("x-amz-security-token"),
            Some("TOKEN/with+base64=")
        );
        assert!(req.header("authorization").unwrap().contains(
            "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,"
        ));
    }

    #[test]
    fn signature_changes_with_every_input() {
        let base =
            send_message_batch(&queue(), &creds(), &[entry("a", "b")], 1_440_938_160).unwrap();
        let sig = |r: &HttpRequest| r.header("authorization").unwrap().to_owned();
        let other_body =
            send_message_batch(&queue(), &creds(), &[entry("a", "c")], 1_440_938_160).unwrap();
        let other_time =
            send_message_batch(&queue(), &creds(), &[entry("a", "b")], 1_440_938_161).unwrap();
        let mut c = creds();
        c.secret_access_key.push('x');
        let other_secret =
            send_message_batch(&queue(), &c, &[entry("a", "b")], 1_440_938_160).unwrap();
        let mut q = queue();
        q.region = "us-east-2".into();
        let other_region =
            send_message_batch(&q, &creds(), &[entry("a", "b")], 1_440_938_160).unwrap();
        for other in [other_body, other_time, other_secret, other_region] {
            assert_ne!(sig(&base), sig(&other));
        }
    }

    #[test]
    fn signs_at_the_given_unix_time() {
        // Unix seconds become the same instant for hookline-sqs's SigV4 (whose known answer and
        // aws-sigv4 cross-check live there).
        let at = AmzDate::from_rfc3339("2015-08-30T12:36:00Z").unwrap();
        let req = signed_json_request(
            &queue(),
            &creds(),
            "AmazonSQS.X",
            b"{}".to_vec(),
            1_440_938_160,
        );
        let origin = "https://sqs.us-east-1.amazonaws.com";
        let expected = sign_json_post(origin, "us-east-1", &creds(), "AmazonSQS.X", b"{}", &at);
        assert_eq!(req.unwrap().headers, expected.unwrap());
        assert_eq!(
            signed_json_request(&queue(), &creds(), "Amazon SQS", vec![], 0),
            Err(SqsError::Request("invalid X-Amz-Target".to_owned()))
        );
    }

    #[test]
    fn validation_errors() {
        let q = queue();
        let c = creds();
        assert_eq!(
            send_message_batch(&q, &c, &[], 0),
            Err(SqsError::BatchSize(0))
        );
        let eleven: Vec<Entry> = (0..11).map(|i| entry(&format!("e{i}"), "x")).collect();
        assert_eq!(
            send_message_batch(&q, &c, &eleven, 0),
            Err(SqsError::BatchSize(11))
        );
        assert!(send_message_batch(&q, &c, &eleven[..10], 0).is_ok());

        for bad in ["", "has space", "dot.ted", "é", &"a".repeat(81)] {
            assert_eq!(
                send_message_batch(&q, &c, &[entry("ok", "x"), entry(bad, "x")], 0),
                Err(SqsError::InvalidEntryId { index: 1 }),
                "{bad:?}"
            );
        }
        assert!(send_message_batch(&q, &c, &[entry(&"a".repeat(80), "x")], 0).is_ok());
        assert_eq!(
            send_message_batch(
                &q,
                &c,
                &[entry("a", "x"), entry("b", "x"), entry("a", "y")],
                0
            ),
            Err(SqsError::DuplicateEntryId("a".into()))
        );

        let mut dup_attr = entry("a", "x");
        dup_attr.attributes = vec![("k".into(), "1".into()), ("k".into(), "2".into())];
        assert_eq!(
            send_message_batch(&q, &c, &[dup_attr], 0),
            Err(SqsError::DuplicateAttribute {
                id: "a".into(),
                name: "k".into()
            })
        );

        // Exactly at the limit is fine, one byte over is not; attributes count.
        let at_limit = entry("a", &"x".repeat(MAX_BATCH_BYTES));
        assert!(send_message_batch(&q, &c, &[at_limit], 0).is_ok());
        let mut over = entry("a", &"x".repeat(MAX_BATCH_BYTES - 10));
        over.attributes = vec![("ab".into(), "cde".into())]; // 2 + 6 + 3 = 11
        assert_eq!(
            send_message_batch(&q, &c, &[over], 0),
            Err(SqsError::BatchTooLarge {
                size: MAX_BATCH_BYTES + 1,
                max: MAX_BATCH_BYTES
            })
        );
        let split = [
            entry("a", &"x".repeat(MAX_BATCH_BYTES / 2)),
            entry("b", &"x".repeat(MAX_BATCH_BYTES / 2 + 1)),
        ];
        assert!(matches!(
            send_message_batch(&q, &c, &split, 0),
            Err(SqsError::BatchTooLarge { .. })
        ));
        // Size is in UTF-8 bytes, not chars.
        let multibyte = entry("a", &"\u{e9}".repeat(MAX_BATCH_BYTES / 2 + 1));
        assert!(matches!(
            send_message_batch(&q, &c, &[multibyte], 0),
            Err(SqsError::BatchTooLarge { .. })
        ));
    }

    #[test]
    fn credential_and_time_errors() {
        let q = queue();
        let e = [entry("a", "b")];
        // Which credentials are refused is hookline-sqs's (sigv4 tests); here, that a refusal
        // becomes this module's error without the secret in it.
        let mut c = creds();
        c.session_token = Some("SECRETTOK\nEN".into());
        let err = send_message_batch(&q, &c, &e, 0).unwrap_err();
        assert!(matches!(err, SqsError::InvalidCredentials(_)));
        assert!(!err.to_string().contains("SECRETTOK"));

        assert!(send_message_batch(&q, &creds(), &e, MAX_UNIX_SECONDS).is_ok());
        assert_eq!(
            send_message_batch(&q, &creds(), &e, MAX_UNIX_SECONDS + 1),
            Err(SqsError::InvalidTime)
        );
        assert_eq!(
            send_message_batch(&q, &creds(), &e, u64::MAX),
            Err(SqsError::InvalidTime)
        );
    }

    #[test]
    fn hand_built_queue_is_revalidated() {
        let bad = Queue {
            url: "https://user:pw@sqs.us-east-1.amazonaws.com/123456789012/q".into(),
            region: "us-east-1".into(),
        };
        assert!(matches!(
            send_message_batch(&bad, &creds(), &[entry("a", "b")], 0),
            Err(SqsError::InvalidQueueUrl(_))
        ));
        let bad_region = Queue {
            url: "https://sqs.us-east-1.amazonaws.com/123456789012/q".into(),
            region: "us-east-1/evil".into(),
        };
        assert_eq!(
            send_message_batch(&bad_region, &creds(), &[entry("a", "b")], 0),
            Err(SqsError::InvalidRegion)
        );
    }
}
