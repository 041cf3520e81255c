//! Reading `SendMessageBatch` responses and errors.

use hookline_sqs::attributes::{md5_hex, md5_of_string_attributes};
use hookline_sqs::json::{SendMessageBatchOutput, code_of_error_type, is_throttling, is_transient};
use serde::Deserialize;

use super::{
    BatchOutcome, CODE_MD5_MISMATCH, CODE_MISSING_FROM_RESPONSE, Entry, Failure, SqsError,
};

/// Longest server-provided error message kept in an [`SqsError::Api`].
const MAX_ERROR_MESSAGE_CHARS: usize = 1024;

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(rename = "__type", default)]
    error_type: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(rename = "Code", default)]
    code_upper: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(rename = "Message", default)]
    message_upper: Option<String>,
}

fn digest_matches(expected: Option<&str>, got: Option<&str>) -> bool {
    match (expected, got) {
        (None, None) => true,
        (Some(e), Some(g)) => e.eq_ignore_ascii_case(g.trim()),
        _ => false,
    }
}

fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => s.get(..i).unwrap_or(s).to_owned(),
        None => s.to_owned(),
    }
}

/// The text of the first `<name>…</name>` element, if it is non-empty and holds no markup.
fn xml_element<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = text.find(&open)?.checked_add(open.len())?;
    let rest = text.get(start..)?;
    let inner = rest.get(..rest.find(&close)?)?.trim();
    (!inner.is_empty() && !inner.contains('<')).then_some(inner)
}

fn api_error(status: u16, query_error: Option<&str>, body: &[u8]) -> SqsError {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let query_code = query_error
        .and_then(|h| h.split(';').next())
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let (code, message) = match parsed {
        Some(b) => {
            let code = b
                .error_type
                .as_deref()
                .map(code_of_error_type)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .or_else(|| query_code.map(str::to_owned))
                .or(b.code)
                .or(b.code_upper)
                .unwrap_or_else(|| "Unknown".to_owned());
            let message = b.message.or(b.message_upper).unwrap_or_default();
            (code, message)
        }
        None => {
            let text: String = String::from_utf8_lossy(body)
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            // Not JSON: maybe a query-protocol XML error (moto answers failed signature checks
            // that way even for JSON-protocol requests), maybe a proxy's HTML page.
            let code = xml_element(&text, "Code")
                .or(query_code)
                .unwrap_or("Unknown")
                .to_owned();
            let message = xml_element(&text, "Message")
                .unwrap_or(text.trim())
                .to_owned();
            (code, message)
        }
    };
    let retryable = status >= 500
        || status == 429
        || is_throttling(&code)
        || is_transient(&code)
        || query_code.is_some_and(is_throttling);
    SqsError::Api {
        status,
        code: truncate_chars(&code, 256),
        message: truncate_chars(&message, MAX_ERROR_MESSAGE_CHARS),
        retryable,
    }
}

/// Interprets the response to a request built by [`send_message_batch`](super::send_message_batch) for `sent`.
///
/// On 2xx every sent id ends up exactly once in the outcome: ids SQS lists as failed keep SQS's
/// code; ids listed as successful are checked against the MD5 of the body (and of the
/// attributes) that was sent and become [`CODE_MD5_MISMATCH`] failures when they differ or the
/// digest is missing; ids the response does not mention become [`CODE_MISSING_FROM_RESPONSE`]
/// failures. Ids in the response that were not sent are ignored. A 2xx body that is not a
/// `SendMessageBatch` result is an [`SqsError::InvalidResponse`].
///
/// Any other status is an [`SqsError::Api`] for the whole batch.
pub fn parse_send_message_batch(
    status: u16,
    body: &[u8],
    sent: &[Entry],
) -> Result<BatchOutcome, SqsError> {
    parse_send_message_batch_response(status, None, body, sent)
}

/// [`parse_send_message_batch`], also given the `x-amzn-query-error` response header (e.g.
/// `AWS.SimpleQueueService.NonExistentQueue;Sender`), whose code is used when the body has no
/// `__type`, and which also counts for deciding whether an error is throttling.
pub fn parse_send_message_batch_response(
    status: u16,
    x_amzn_query_error: Option<&str>,
    body: &[u8],
    sent: &[Entry],
) -> Result<BatchOutcome, SqsError> {
    if !(200..300).contains(&status) {
        return Err(api_error(status, x_amzn_query_error, body));
    }
    let output: SendMessageBatchOutput =
        serde_json::from_slice(body).map_err(|e| SqsError::InvalidResponse {
            status,
            reason: format!("not a SendMessageBatch result: {e}"),
        })?;

    // Looked up by scanning (a batch has at most 10 entries); the first listing of an id counts.
    let mut failed = output.failed.unwrap_or_default();
    let mut successful = output.successful.unwrap_or_default();

    let mut outcome = BatchOutcome::default();
    for (index, entry) in sent.iter().enumerate() {
        if sent.iter().take(index).any(|e| e.id == entry.id) {
            continue;
        }
        // An id listed as failed is failed even if it is (also) listed as successful.
        if let Some(f) = take_first(&mut failed, |f| f.id == entry.id) {
            outcome.failed.push(Failure {
                id: entry.id.clone(),
                code: f.code.unwrap_or_else(|| "Unknown".to_owned()),
                sender_fault: f.sender_fault.unwrap_or(false),
                message: f.message.unwrap_or_default(),
            });
        } else if let Some(ok) = take_first(&mut successful, |s| s.id == entry.id) {
            let body_ok = digest_matches(
                Some(md5_hex(entry.body.as_bytes()).as_str()),
                ok.md5_of_body.as_deref(),
            );
            let attrs_ok = digest_matches(
                md5_of_string_attributes(&entry.attributes).as_deref(),
                ok.md5_of_attributes.as_deref(),
            );
            if body_ok && attrs_ok {
                outcome.successful.push(entry.id.clone());
            } else {
                let what = if body_ok {
                    "MD5OfMessageAttributes"
                } else {
                    "MD5OfMessageBody"
                };
                outcome.failed.push(Failure {
                    id: entry.id.clone(),
                    code: CODE_MD5_MISMATCH.to_owned(),
                    sender_fault: false,
                    message: format!("{what} in the response does not match what was sent"),
                });
            }
        } else {
            outcome.failed.push(Failure {
                id: entry.id.clone(),
                code: CODE_MISSING_FROM_RESPONSE.to_owned(),
                sender_fault: false,
                message: "the response lists this entry neither as successful nor as failed"
                    .to_owned(),
            });
        }
    }
    Ok(outcome)
}

/// Removes and returns the first item that matches.
fn take_first<T>(items: &mut Vec<T>, matches: impl Fn(&T) -> bool) -> Option<T> {
    let index = items.iter().position(matches)?;
    Some(items.remove(index))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqs::fixtures::{creds, entry, queue};
    use crate::sqs::request::send_message_batch;

    // ---- responses ------------------------------------------------------------------------

    /// `(id, code)` of every failure, in order.
    fn id_and_code(out: &BatchOutcome) -> Vec<(&str, &str)> {
        out.failed
            .iter()
            .map(|f| (f.id.as_str(), f.code.as_str()))
            .collect()
    }

    fn ok_entry(e: &Entry) -> serde_json::Value {
        let mut v = serde_json::json!({
            "Id": e.id,
            "MessageId": format!("mid-{}", e.id),
            "MD5OfMessageBody": md5_hex(e.body.as_bytes()),
        });
        if let Some(a) = md5_of_string_attributes(&e.attributes) {
            v["MD5OfMessageAttributes"] = a.into();
        }
        v
    }

    #[test]
    fn parses_full_success() {
        let mut a = entry("a", "body a");
        a.attributes = vec![("k".into(), "v".into())];
        let sent = vec![a, entry("b", "body b")];
        let body = serde_json::json!({
            "Successful": [ok_entry(&sent[1]), ok_entry(&sent[0])],
            "Failed": []
        });
        let out = parse_send_message_batch(200, body.to_string().as_bytes(), &sent).unwrap();
        assert_eq!(out.successful, ["a", "b"], "in sent order");
        assert!(out.failed.is_empty());
        // MD5 comparison is case-insensitive; missing Failed list is fine.
        let mut upper = ok_entry(&sent[1]);
        upper["MD5OfMessageBody"] = md5_hex(b"body b").to_uppercase().into();
        let body = serde_json::json!({"Successful": [ok_entry(&sent[0]), upper]});
        let out = parse_send_message_batch(200, body.to_string().as_bytes(), &sent).unwrap();
        assert_eq!(out.successful, ["a", "b"]);
    }

    #[test]
    fn parses_partial_failure() {
        let sent = vec![entry("a", "1"), entry("b", "2"), entry("c", "3")];
        let body = serde_json::json!({
            "Successful": [ok_entry(&sent[0]), ok_entry(&sent[2])],
            "Failed": [{
                "Id": "b", "SenderFault": true, "Code": "InvalidMessageContents",
                "Message": "Invalid characters found."
            }]
        });
        let out = parse_send_message_batch(200, body.to_string().as_bytes(), &sent).unwrap();
        assert_eq!(out.successful, ["a", "c"]);
        assert_eq!(
            out.failed,
            [Failure {
                id: "b".into(),
                code: "InvalidMessageContents".into(),
                sender_fault: true,
                message: "Invalid characters found.".into()
            }]
        );
        // Server-side failure without SenderFault/Message.
        let body = serde_json::json!({
            "Successful": [ok_entry(&sent[0]), ok_entry(&sent[2])],
            "Failed": [{"Id": "b", "Code": "InternalError"}]
        });
        let out = parse_send_message_batch(200, body.to_string().as_bytes(), &sent).unwrap();
        assert_eq!(out.failed.len(), 1);
        assert_eq!(out.failed[0].code, "InternalError");
        assert!(!out.failed[0].sender_fault);
    }

    #[test]
    fn md5_mismatch_is_a_failure() {
        let mut with_attrs = entry("c", "3");
        with_attrs.attributes = vec![("k".into(), "v".into())];
        let sent = vec![
            entry("a", "1"),
            entry("b", "2"),
            with_attrs,
            entry("d", "4"),
        ];
        let mut wrong_body = ok_entry(&sent[1]);
        wrong_body["MD5OfMessageBody"] = md5_hex(b"something else").into();
        let mut wrong_attrs = ok_entry(&sent[2]);
        wrong_attrs["MD5OfMessageAttributes"] = md5_hex(b"x").into();
        let mut no_digest = ok_entry(&sent[3]);
        no_digest
            .as_object_mut()
            .unwrap()
            .remove("MD5OfMessageBody");
        let body = serde_json::json!({
            "Successful": [ok_entry(&sent[0]), wrong_body, wrong_attrs, no_digest],
            "Failed": []
        });
        let out = parse_send_message_batch(200, body.to_string().as_bytes(), &sent).unwrap();
        assert_eq!(out.successful, ["a"]);
        let failed = id_and_code(&out);
        assert_eq!(
            failed,
            [
                ("b", "MD5Mismatch"),
                ("c", "MD5Mismatch"),
                ("d", "MD5Mismatch")
            ]
        );
        assert!(out.failed.iter().all(|f| !f.sender_fault));
        assert!(out.failed[1].message.contains("MD5OfMessageAttributes"));

        // Attributes digest where none were sent is also a mismatch.
        let sent = vec![entry("a", "1")];
        let mut extra = ok_entry(&sent[0]);
        extra["MD5OfMessageAttributes"] = md5_hex(b"x").into();
        let body = serde_json::json!({"Successful": [extra]});
        let out = parse_send_message_batch(200, body.to_string().as_bytes(), &sent).unwrap();
        assert!(out.successful.is_empty());
        assert_eq!(out.failed[0].code, "MD5Mismatch");
    }

    #[test]
    fn missing_and_unknown_ids() {
        let sent = vec![entry("a", "1"), entry("b", "2"), entry("c", "3")];
        let stranger = ok_entry(&entry("zzz", "9"));
        let body = serde_json::json!({
            "Successful": [ok_entry(&sent[0]), stranger],
            "Failed": [{"Id": "nope", "SenderFault": true, "Code": "X"}]
        });
        let out = parse_send_message_batch(200, body.to_string().as_bytes(), &sent).unwrap();
        assert_eq!(out.successful, ["a"]);
        let failed = id_and_code(&out);
        assert_eq!(
            failed,
            [("b", "MissingFromResponse"), ("c", "MissingFromResponse")]
        );

        // Empty object, nulls: everything missing, nothing acked.
        for body in [r#"{}"#, r#"{"Successful":null,"Failed":null}"#] {
            let out = parse_send_message_batch(200, body.as_bytes(), &sent).unwrap();
            assert!(out.successful.is_empty());
            assert_eq!(out.failed.len(), 3);
        }
    }

    #[test]
    fn listed_as_both_counts_as_failed_and_duplicates_collapse() {
        let sent = vec![entry("a", "1"), entry("a", "1")];
        let body = serde_json::json!({
            "Successful": [ok_entry(&sent[0]), ok_entry(&sent[0])],
            "Failed": [{"Id": "a", "SenderFault": false, "Code": "InternalError"}]
        });
        let out = parse_send_message_batch(200, body.to_string().as_bytes(), &sent).unwrap();
        assert!(out.successful.is_empty());
        assert_eq!(out.failed.len(), 1);
        assert_eq!(out.failed[0].code, "InternalError");
    }

    #[test]
    fn the_first_listing_of_an_id_counts() {
        let sent = vec![entry("a", "1"), entry("b", "2")];
        let body = serde_json::json!({
            "Successful": [ok_entry(&sent[1]), {"Id": "b", "MD5OfMessageBody": "0"}],
            "Failed": [
                {"Id": "a", "SenderFault": true, "Code": "First"},
                {"Id": "a", "SenderFault": false, "Code": "Second"}
            ]
        });
        let out = parse_send_message_batch(200, body.to_string().as_bytes(), &sent).unwrap();
        assert_eq!(out.successful, vec!["b".to_owned()]);
        assert_eq!(out.failed.len(), 1);
        assert_eq!(
            (out.failed[0].code.as_str(), out.failed[0].sender_fault),
            ("First", true)
        );
    }

    #[test]
    fn unreadable_success_body() {
        let sent = vec![entry("a", "1")];
        for body in [
            &b""[..],
            b"<xml/>",
            b"[1,2]",
            br#"{"Successful":[{"NoId":1}]}"#,
        ] {
            let err = parse_send_message_batch(200, body, &sent).unwrap_err();
            assert!(
                matches!(err, SqsError::InvalidResponse { status: 200, .. }),
                "{err:?}"
            );
            assert!(err.is_retryable());
        }
    }

    #[test]
    fn error_shape_json_1_0() {
        let body = br#"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}"#;
        let err = parse_send_message_batch(400, body, &[]).unwrap_err();
        assert_eq!(
            err,
            SqsError::Api {
                status: 400,
                code: "QueueDoesNotExist".into(),
                message: "The specified queue does not exist.".into(),
                retryable: false
            }
        );
        assert!(!err.is_retryable());
        assert_eq!(
            err.to_string(),
            "SQS error QueueDoesNotExist (HTTP 400): The specified queue does not exist."
        );
    }

    #[test]
    fn error_shape_query_compatible_codes() {
        // A bare query-protocol code in __type is kept whole.
        let body = br#"{"__type":"AWS.SimpleQueueService.NonExistentQueue","Message":"gone"}"#;
        let err = parse_send_message_batch(400, body, &[]).unwrap_err();
        assert!(matches!(
            &err,
            SqsError::Api { code, message, retryable: false, .. }
                if code == "AWS.SimpleQueueService.NonExistentQueue" && message == "gone"
        ));
        // No __type: the x-amzn-query-error header supplies the code.
        let err = parse_send_message_batch_response(
            400,
            Some("AWS.SimpleQueueService.NonExistentQueue;Sender"),
            br#"{"message":"The specified queue does not exist."}"#,
            &[],
        )
        .unwrap_err();
        assert!(matches!(
            &err,
            SqsError::Api { code, .. } if code == "AWS.SimpleQueueService.NonExistentQueue"
        ));
        // Both: __type wins.
        let err = parse_send_message_batch_response(
            400,
            Some("AWS.SimpleQueueService.NonExistentQueue;Sender"),
            br#"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"m"}"#,
            &[],
        )
        .unwrap_err();
        assert!(matches!(&err, SqsError::Api { code, .. } if code == "QueueDoesNotExist"));
        // __type with a ":url" suffix.
        let err = parse_send_message_batch(
            400,
            br#"{"__type":"InvalidParameterValue:http://internal.amazon.com/coral/","message":"m"}"#,
            &[],
        )
        .unwrap_err();
        assert!(matches!(&err, SqsError::Api { code, .. } if code == "InvalidParameterValue"));
    }

    #[test]
    fn retryable_errors() {
        let retryable = |status: u16, q: Option<&str>, body: &[u8]| {
            parse_send_message_batch_response(status, q, body, &[])
                .unwrap_err()
                .is_retryable()
        };
        assert!(retryable(
            500,
            None,
            br#"{"__type":"com.amazonaws.sqs#InternalError"}"#
        ));
        assert!(retryable(503, None, b"<html>Service Unavailable</html>"));
        assert!(retryable(429, None, b""));
        assert!(retryable(
            400,
            None,
            br#"{"__type":"com.amazonaws.sqs#RequestThrottled"}"#
        ));
        assert!(retryable(
            400,
            None,
            br#"{"__type":"com.amazonaws.sqs#KmsThrottled"}"#
        ));
        assert!(retryable(400, None, br#"{"__type":"ThrottlingException"}"#));
        assert!(retryable(
            400,
            Some("AWS.SimpleQueueService.RequestThrottled;Sender"),
            br#"{"__type":"com.amazonaws.sqs#Something"}"#
        ));
        assert!(!retryable(
            400,
            None,
            br#"{"__type":"com.amazonaws.sqs#InvalidAddress"}"#
        ));
        assert!(!retryable(
            403,
            None,
            br#"{"__type":"com.amazonaws.sqs#AccessDenied"}"#
        ));
    }

    #[test]
    fn xml_error_body() {
        // What moto 5.2.5 sends for a bad signature, even to a JSON-protocol request.
        let body = br#"<?xml version="1.0" encoding="utf-8"?>
<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message><Type>Sender</Type></Error></Errors></ErrorResponse>"#;
        let err = parse_send_message_batch(403, body, &[]).unwrap_err();
        assert_eq!(
            err,
            SqsError::Api {
                status: 403,
                code: "SignatureDoesNotMatch".into(),
                message:
                    "The request signature we calculated does not match the signature you provided."
                        .into(),
                retryable: false
            }
        );
        // Query-protocol throttling in XML is retryable.
        let body = b"<ErrorResponse><Error><Code>AWS.SimpleQueueService.RequestThrottled</Code></Error></ErrorResponse>";
        assert!(
            parse_send_message_batch(400, body, &[])
                .unwrap_err()
                .is_retryable()
        );
        // Empty or nested elements are not taken.
        assert_eq!(xml_element("<Code></Code>", "Code"), None);
        assert_eq!(xml_element("<Code><b>x</b></Code>", "Code"), None);
        assert_eq!(xml_element("<Code>x", "Code"), None);
    }

    #[test]
    fn non_json_error_body() {
        let err =
            parse_send_message_batch(403, b"<html><body>Forbidden\x00</body>\xff</html>", &[])
                .unwrap_err();
        match err {
            SqsError::Api {
                status,
                code,
                message,
                retryable,
            } => {
                assert_eq!(status, 403);
                assert_eq!(code, "Unknown");
                assert!(message.starts_with("<html><body>Forbidden"), "{message}");
                assert!(!message.contains('\0'));
                assert!(!retryable);
            }
            other => panic!("{other:?}"),
        }
        let huge = vec![b'a'; 100_000];
        match parse_send_message_batch(500, &huge, &[]).unwrap_err() {
            SqsError::Api { message, .. } => assert_eq!(message.len(), MAX_ERROR_MESSAGE_CHARS),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn round_trip_of_a_built_request() {
        // The body send_message_batch produced, echoed back as SQS would acknowledge it.
        let mut e = entry("x", "päyload\t\u{1F980}");
        e.attributes = vec![("b".into(), "2".into()), ("a".into(), "\u{e9}".into())];
        let sent = vec![e, entry("y", "plain")];
        let req = send_message_batch(&queue(), &creds(), &sent, 0).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
        let successful: Vec<serde_json::Value> = v["Entries"]
            .as_array()
            .unwrap()
            .iter()
            .zip(&sent)
            .map(|(_, e)| ok_entry(e))
            .collect();
        let body = serde_json::json!({"Successful": successful, "Failed": []});
        let out = parse_send_message_batch(200, body.to_string().as_bytes(), &sent).unwrap();
        assert_eq!(out.successful, ["x", "y"]);
    }
}
