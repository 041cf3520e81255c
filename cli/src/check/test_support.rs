//! Fixtures and helpers shared by the `check` modules' unit tests.

pub(super) use super::{Finding, Input, Inputs, Severity, check};

pub(super) const WRANGLER: &str = r#"
name = "hookline-receiver"
main = "functions/receiver/build/index.js"
compatibility_date = "2026-07-01"

[[queues.producers]]
binding = "INBOUND_QUEUE"
queue = "hookline-inbound"

[[queues.consumers]]
queue = "hookline-inbound"
max_retries = 10
dead_letter_queue = "hookline-inbound-dlq"

[[r2_buckets]]
binding = "BODIES"
bucket_name = "hookline-bodies"

[vars]
HOOKLINE_BODIES_BUCKET = "hookline-bodies"
HOOKLINE_SQS_QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/inbound"

[vars.HOOKLINE_CONFIG.sources.stripe]
scheme = "stripe"
secrets = ["env:STRIPE_WEBHOOK_SECRET"]
"#;

pub(super) const TEMPLATE: &str = r#"
Transform: AWS::Serverless-2016-10-31
Parameters:
  ConfigJson:
    Type: String
    Default: "{}"
  FunctionTimeout:
    Type: Number
    Default: 30
    AllowedValues: [10, 30, 60]
Mappings:
  Visibility:
    "10": { Value: 60 }
    "30": { Value: 180 }
    "60": { Value: 360 }
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: !FindInMap [Visibility, !Ref FunctionTimeout, Value]
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Dlq.Arn
        maxReceiveCount: 10
  Dlq:
    Type: AWS::SQS::Queue
  Sender:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: rust-cargolambda
      BuildProperties:
        Binary: hookline-sender
    Properties:
      CodeUri: .
      Handler: bootstrap
      Runtime: provided.al2023
      Architectures: [arm64]
      Timeout: !Ref FunctionTimeout
      Environment:
        Variables:
          HOOKLINE_CONFIG: !Ref ConfigJson
          HOOKLINE_QUEUE_URL: !Ref Queue
          HOOKLINE_DLQ_URL: !Ref Dlq
          BILLING_WHSEC: "{{resolve:secretsmanager:hookline/endpoints:SecretString:BILLING_WHSEC}}"
      Events:
        Outbound:
          Type: SQS
          Properties:
            Queue: !GetAtt Queue.Arn
            BatchSize: 10
            FunctionResponseTypes: [ReportBatchItemFailures]
"#;

pub(super) const CONFIG: &str = r#"
[sources.stripe]
scheme = "stripe"
secrets = ["env:STRIPE_WEBHOOK_SECRET"]

[endpoints.billing]
url = "https://billing.example.com/webhooks"
secrets = ["env:BILLING_WHSEC"]
"#;

pub(super) fn run_check(
    config: Option<&str>,
    wrangler: Option<&str>,
    template: Option<&str>,
) -> Vec<Finding> {
    let inputs = Inputs {
        config: config.map(|text| Input {
            name: "hookline.toml",
            text,
        }),
        wrangler: wrangler.map(|text| Input {
            name: "wrangler.toml",
            text,
        }),
        template: template.map(|text| Input {
            name: "template.yaml",
            text,
        }),
    };
    check(&inputs, None)
}

pub(super) fn wrangler(text: &str) -> Vec<Finding> {
    run_check(None, Some(text), None)
}

pub(super) fn template(text: &str) -> Vec<Finding> {
    run_check(None, None, Some(text))
}

pub(super) fn errors(findings: &[Finding]) -> Vec<&Finding> {
    findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect()
}

/// The one finding at `path` with `severity`, whose message contains `text`.
#[track_caller]
pub(super) fn expect(findings: &[Finding], severity: Severity, path: &str, text: &str) {
    assert!(
        findings
            .iter()
            .any(|f| f.severity == severity && f.path == path && f.message.contains(text)),
        "no {severity:?} at {path:?} containing {text:?} in:\n{}",
        findings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[track_caller]
pub(super) fn no_errors(findings: &[Finding]) {
    let e = errors(findings);
    assert!(e.is_empty(), "unexpected errors: {e:#?}");
}
