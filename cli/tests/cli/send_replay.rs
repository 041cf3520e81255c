//! `hookline send` and `hookline replay` against moto: the real binary, the real SQS client, and
//! the queues read back with the SDK.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{Message, MessageAttributeValue, MessageSystemAttributeName};
use hookline_tests::harness::{Moto, free_port, fresh_queue, queue_with_dlq, sqs_client};
use serde_json::{Value, json};

use super::common::{hookline, stderr, stdout};

fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(Moto::start)
}

/// Runs `hookline <args> --endpoint-url <moto>`.
fn run(args: &[&str]) -> std::process::Output {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--endpoint-url", moto().endpoint.as_str()]);
    hookline(&all)
}

fn json_lines(out: &std::process::Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

fn code(out: &std::process::Output) -> i32 {
    out.status.code().expect("exit code")
}

fn explain(out: &std::process::Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    )
}

/// Receives (and keeps hidden) messages until `n` distinct ones have arrived, long-polling with
/// a deadline.
async fn receive_n(client: &aws_sdk_sqs::Client, queue: &str, n: usize) -> Vec<Message> {
    let until = Instant::now() + Duration::from_secs(20);
    let mut got: BTreeMap<String, Message> = BTreeMap::new();
    while got.len() < n {
        assert!(
            Instant::now() < until,
            "only {} of {n} messages arrived on {queue}",
            got.len()
        );
        let out = client
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .visibility_timeout(60)
            .wait_time_seconds(1)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .unwrap();
        for m in out.messages.unwrap_or_default() {
            got.insert(m.message_id().unwrap().to_owned(), m);
        }
    }
    got.into_values().collect()
}

/// Asserts the queue has nothing visible (a long poll of 1 s comes back empty).
async fn assert_empty(client: &aws_sdk_sqs::Client, queue: &str) {
    let out = client
        .receive_message()
        .queue_url(queue)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();
    let n = out.messages().len();
    assert_eq!(n, 0, "{queue} should be empty, has {n} visible");
}

fn string_attr(v: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(v)
        .build()
        .unwrap()
}

fn number_attr(v: u32) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("Number")
        .string_value(v.to_string())
        .build()
        .unwrap()
}

fn delivery_body(message_id: &str, event_type: &str, endpoint: &str) -> String {
    json!({
        "hookline": "delivery",
        "version": 1,
        "message_id": message_id,
        "endpoint": endpoint,
        "type": event_type,
        "timestamp": "2026-11-23T12:00:00Z",
        "data": {"n": message_id},
    })
    .to_string()
}

/// Puts a dead letter as the sender writes one: the delivery body, the four `hookline-*`
/// attributes, plus an attribute of the app's (`trace`) that a replay must keep.
async fn dead_letter(
    client: &aws_sdk_sqs::Client,
    dlq: &str,
    message_id: &str,
    event_type: &str,
    endpoint: &str,
) -> String {
    let body = delivery_body(message_id, event_type, endpoint);
    client
        .send_message()
        .queue_url(dlq)
        .message_body(&body)
        .message_attributes("hookline-error", string_attr("exhausted: HTTP 503"))
        .message_attributes("hookline-status", number_attr(503))
        .message_attributes("hookline-attempts", number_attr(5))
        .message_attributes("hookline-endpoint", string_attr(endpoint))
        .message_attributes("trace", string_attr(&format!("t-{message_id}")))
        .send()
        .await
        .unwrap();
    body
}

fn attrs(m: &Message) -> HashMap<String, String> {
    m.message_attributes()
        .map(|a| {
            a.iter()
                .map(|(k, v)| (k.clone(), v.string_value().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn body_type(m: &Message) -> String {
    let v: Value = serde_json::from_str(m.body().unwrap()).unwrap_or(Value::Null);
    v["type"].as_str().unwrap_or("").to_owned()
}

// ---- send ---------------------------------------------------------------------------------------

/// A client on moto and a fresh queue named after `prefix`.
async fn fresh_moto_queue(prefix: &str) -> (aws_sdk_sqs::Client, String) {
    let client = sqs_client(&moto().endpoint).await;
    let queue = fresh_queue(&client, prefix, &[]).await;
    (client, queue)
}

/// Runs `hookline <global> send --queue-url <queue> --file <a file holding text>`.
fn send_file(global: &[&str], queue: &str, text: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    std::fs::write(&path, text).unwrap();
    let file = path.to_str().unwrap();
    run(&[global, &["send", "--queue-url", queue, "--file", file]].concat())
}

#[tokio::test(flavor = "multi_thread")]
async fn send_queues_one_validated_event() {
    let (client, queue) = fresh_moto_queue("send-one").await;
    let out = run(&[
        "--json",
        "send",
        "--queue-url",
        &queue,
        "--type",
        "order.created",
        "--data",
        r#"{"id": 1, "total": 4200}"#,
        "--id",
        "ord_1:created",
        "--endpoint",
        "billing",
    ]);
    assert_eq!(code(&out), 0, "{}", explain(&out));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "{}", explain(&out));
    assert_eq!(lines[0]["queue_url"], queue);
    assert_eq!(lines[0]["type"], "order.created");
    assert_eq!(lines[0]["id"], "ord_1:created");

    let got = receive_n(&client, &queue, 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].message_id().unwrap(),
        lines[0]["message_id"].as_str().unwrap()
    );
    assert_eq!(
        got[0].body().unwrap(),
        r#"{"version":1,"type":"order.created","id":"ord_1:created","endpoints":["billing"],"data":{"id": 1, "total": 4200}}"#
    );
    assert!(
        hookline_core::envelope::OutboundMessage::from_json(got[0].body().unwrap().as_bytes())
            .is_ok()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn send_prints_a_human_line() {
    let (client, queue) = fresh_moto_queue("send-human").await;
    let out = run(&["send", "--queue-url", &queue, "--type", "ping"]);
    assert_eq!(code(&out), 0, "{}", explain(&out));
    let name = queue.rsplit('/').next().unwrap();
    let text = stdout(&out);
    assert!(
        text.starts_with("queued ping as ") && text.trim_end().ends_with(&format!("on {name}")),
        "{}",
        explain(&out)
    );
    let got = receive_n(&client, &queue, 1).await;
    assert_eq!(
        got[0].body().unwrap(),
        r#"{"version":1,"type":"ping","data":{}}"#
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn send_file_of_json_lines_uses_batches() {
    let (client, queue) = fresh_moto_queue("send-file").await;
    let lines: Vec<String> = (0..25)
        .map(|i| {
            json!({"type": "invoice.paid", "id": format!("inv_{i}"), "data": {"i": i}}).to_string()
        })
        .collect();
    let out = send_file(&["--json"], &queue, &(lines.join("\n") + "\n"));
    assert_eq!(code(&out), 0, "{}", explain(&out));
    let printed = json_lines(&out);
    assert_eq!(printed.len(), 25, "{}", explain(&out));

    let got = receive_n(&client, &queue, 25).await;
    let mut ids: Vec<String> = got
        .iter()
        .map(|m| {
            let v: Value = serde_json::from_str(m.body().unwrap()).unwrap();
            assert_eq!(v["version"], 1);
            v["id"].as_str().unwrap().to_owned()
        })
        .collect();
    ids.sort();
    let mut want: Vec<String> = (0..25).map(|i| format!("inv_{i}")).collect();
    want.sort();
    assert_eq!(ids, want);
}

#[tokio::test(flavor = "multi_thread")]
async fn send_file_with_a_bad_line_sends_nothing() {
    let (client, queue) = fresh_moto_queue("send-bad-file").await;
    let out = send_file(&[], &queue, "{\"type\":\"a\",\"data\":1}\n{\"data\":2}\n");
    assert_eq!(code(&out), 2, "{}", explain(&out));
    assert!(
        stderr(&out).contains("line 2: type: missing"),
        "{}",
        explain(&out)
    );
    assert_empty(&client, &queue).await;
}

#[test]
fn send_invalid_data_exits_2() {
    // Validation comes first: no SQS is needed (nothing listens on port 9).
    let queue = "http://127.0.0.1:9/000000000000/q";
    let out = hookline(&[
        "send",
        "--queue-url",
        queue,
        "--type",
        "a",
        "--data",
        "{nope",
    ]);
    assert_eq!(code(&out), 2, "{}", explain(&out));
    assert!(
        stderr(&out).contains("--data is not valid JSON"),
        "{}",
        explain(&out)
    );

    let out = hookline(&["send", "--queue-url", queue, "--type", "has space"]);
    assert_eq!(code(&out), 2, "{}", explain(&out));
    assert!(stderr(&out).contains("type:"), "{}", explain(&out));

    let out = hookline(&["send", "--queue-url", queue]);
    assert_eq!(code(&out), 2, "clap: --type is required\n{}", explain(&out));
}

#[test]
fn send_to_an_unreachable_endpoint_exits_69() {
    let port = free_port();
    let queue = format!("http://127.0.0.1:{port}/000000000000/hookline-outbound");
    let out = hookline(&["send", "--queue-url", &queue, "--type", "a"]);
    assert_eq!(code(&out), 69, "{}", explain(&out));
    assert!(stderr(&out).contains("cannot reach"), "{}", explain(&out));

    let dev = format!("http://127.0.0.1:{port}");
    let out = hookline(&["send", "--dev", "--dev-url", &dev, "--type", "a"]);
    assert_eq!(code(&out), 69, "{}", explain(&out));
    assert!(
        stderr(&out).contains("hookline dev` running"),
        "{}",
        explain(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn send_to_a_missing_queue_says_so() {
    let queue = format!(
        "{}/123456789012/no-such-queue-{}",
        moto().endpoint,
        free_port()
    );
    let out = run(&["send", "--queue-url", &queue, "--type", "a"]);
    assert_eq!(code(&out), 2, "{}", explain(&out));
    assert!(stderr(&out).contains("does not exist"), "{}", explain(&out));
}

// ---- replay -------------------------------------------------------------------------------------

/// A DLQ with three `invoice.*` deliveries, two `order.created` and one unreadable body (as the
/// sender writes for `malformed`), and an empty target queue: (client, dlq, target, invoice bodies).
async fn mixed_dlq(prefix: &str) -> (aws_sdk_sqs::Client, String, String, Vec<String>) {
    let client = sqs_client(&moto().endpoint).await;
    let dlq = fresh_queue(&client, &format!("{prefix}-dlq"), &[]).await;
    let target = fresh_queue(&client, prefix, &[]).await;
    let mut invoices = Vec::new();
    invoices.push(dead_letter(&client, &dlq, "m1", "invoice.paid", "billing").await);
    dead_letter(&client, &dlq, "m2", "order.created", "billing").await;
    invoices.push(dead_letter(&client, &dlq, "m3", "invoice.payment.failed", "crm").await);
    dead_letter(&client, &dlq, "m4", "order.created", "crm").await;
    invoices.push(dead_letter(&client, &dlq, "m5", "invoice.voided", "billing").await);
    client
        .send_message()
        .queue_url(&dlq)
        .message_body("not json at all")
        .message_attributes("hookline-error", string_attr("malformed: invalid JSON"))
        .message_attributes("hookline-attempts", number_attr(0))
        .send()
        .await
        .unwrap();
    (client, dlq, target, invoices)
}

/// Runs `hookline <global> replay --from <dlq> --to <target> <args>` against moto and asserts
/// it succeeded.
fn replay(global: &[&str], dlq: &str, target: &str, args: &[&str]) -> std::process::Output {
    let all: Vec<&str> = [global, &["replay", "--from", dlq, "--to", target], args].concat();
    let out = run(&all);
    assert_eq!(code(&out), 0, "{}", explain(&out));
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_moves_only_matching_types_and_drops_dead_letter_attributes() {
    let (client, dlq, target, invoices) = mixed_dlq("replay-type").await;
    let out = replay(&["--json"], &dlq, &target, &["--type", "invoice.*"]);
    let lines = json_lines(&out);
    let summary = lines.last().unwrap();
    assert_eq!(summary["kind"], "summary", "{}", explain(&out));
    assert_eq!(summary["moved"], 3, "{}", explain(&out));
    assert_eq!(summary["skipped"], 3, "{}", explain(&out));
    assert_eq!(summary["failed"], 0);
    assert_eq!(summary["scanned"], 6);
    let moved = lines.iter().filter(|l| l["action"] == "moved").count();
    assert_eq!(moved, 3);

    // The target holds exactly the three invoices, bodies unchanged, app attributes kept.
    let got = receive_n(&client, &target, 3).await;
    assert_eq!(got.len(), 3);
    let mut bodies: Vec<String> = got.iter().map(|m| m.body().unwrap().to_owned()).collect();
    bodies.sort();
    let mut want = invoices.clone();
    want.sort();
    assert_eq!(bodies, want);
    for m in &got {
        let a = attrs(m);
        assert!(
            a.keys().all(|k| !k.starts_with("hookline-")),
            "dead-letter attributes must be dropped: {a:?}"
        );
        assert!(
            a.get("trace").is_some_and(|t| t.starts_with("t-m")),
            "{a:?}"
        );
    }
    assert_empty(&client, &target).await;

    // The rest are still on the DLQ, visible again, with their attributes.
    let rest = receive_n(&client, &dlq, 3).await;
    let mut types: Vec<String> = rest.iter().map(body_type).collect();
    types.sort();
    assert_eq!(types, vec!["", "order.created", "order.created"]);
    assert!(rest.iter().all(|m| attrs(m).contains_key("hookline-error")));
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_dry_run_moves_nothing_and_leaves_everything_visible() {
    let (client, dlq, target, _) = mixed_dlq("replay-dry").await;
    let out = replay(&["--json"], &dlq, &target, &["--dry-run"]);
    let lines = json_lines(&out);
    let would = lines.iter().filter(|l| l["action"] == "would_move").count();
    assert_eq!(would, 6, "{}", explain(&out));
    let summary = lines.last().unwrap();
    assert_eq!(summary["dry_run"], true);
    assert_eq!(summary["moved"], 0);
    assert_eq!(summary["would_move"], 6);

    assert_empty(&client, &target).await;
    // Every message is receivable at once: the dry run made them visible again.
    let all = receive_n(&client, &dlq, 6).await;
    assert_eq!(all.len(), 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_dry_run_lists_in_human_form() {
    let (_client, dlq, target, _) = mixed_dlq("replay-dry-human").await;
    let out = replay(&[], &dlq, &target, &["--dry-run", "--endpoint", "crm"]);
    let text = stdout(&out);
    let listed: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("would move"))
        .collect();
    assert_eq!(listed.len(), 2, "{}", explain(&out));
    assert!(
        listed.iter().all(|l| l.contains("-> crm")),
        "{}",
        explain(&out)
    );
    assert!(text.contains("nothing was moved"), "{}", explain(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_respects_the_limit() {
    let (client, dlq, target, _) = mixed_dlq("replay-limit").await;
    let out = replay(&["--json"], &dlq, &target, &["--limit", "2"]);
    let summary = json_lines(&out).pop().unwrap();
    assert_eq!(summary["moved"], 2, "{}", explain(&out));

    let moved = receive_n(&client, &target, 2).await;
    assert_eq!(moved.len(), 2);
    assert_empty(&client, &target).await;
    let rest = receive_n(&client, &dlq, 4).await;
    assert_eq!(rest.len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_finds_the_target_from_the_redrive_policy() {
    let client = sqs_client(&moto().endpoint).await;
    let (queue, dlq) = queue_with_dlq(&client, "replay-redrive", 3).await;
    let body = dead_letter(&client, &dlq, "m1", "invoice.paid", "billing").await;
    let out = run(&["--json", "replay", "--from", &dlq]);
    assert_eq!(code(&out), 0, "{}", explain(&out));
    let summary = json_lines(&out).pop().unwrap();
    assert_eq!(summary["to"], queue, "{}", explain(&out));
    assert_eq!(summary["moved"], 1);
    let got = receive_n(&client, &queue, 1).await;
    assert_eq!(got[0].body().unwrap(), body);
}

#[test]
fn replay_argument_errors_exit_2() {
    let out = hookline(&["replay"]);
    assert_eq!(code(&out), 2, "{}", explain(&out));
    assert!(stderr(&out).contains("--from"), "{}", explain(&out));
    let out = hookline(&["replay", "--dev", "--since", "yesterday"]);
    assert_eq!(code(&out), 2, "{}", explain(&out));
    let out = hookline(&["replay", "--dev", "--type", "a b"]);
    assert_eq!(code(&out), 2, "{}", explain(&out));
}

#[test]
fn replay_against_a_stopped_dev_exits_69() {
    let dev = format!("http://127.0.0.1:{}", free_port());
    let out = hookline(&["replay", "--dev", "--dev-url", &dev]);
    assert_eq!(code(&out), 69, "{}", explain(&out));
    assert!(
        stderr(&out).contains("hookline dev` running"),
        "{}",
        explain(&out)
    );
}
