//! `template.yaml`: the management API's function and its DynamoDB table.
//!
//! The API function is the one built from [`BINARY`]. It needs its configuration, the outbound
//! queue the sender reads (a message is answered 202 once it is there), and the table; the
//! sender needs the same table (it reads applications' endpoints from it). The table's keys are
//! the store's (`hookline_dynamodb`): another key schema fails every request.

use serde_norway::Value as Yaml;

use super::cfn::{Cfn, Ev, entries, get, referenced};
use super::embedded::config_from_json;
use super::report::Report;
use super::secrets::{env_name, literal_secrets, looks_like_secret};

// The API Lambda's deploy contract, defined once in `hookline_core::contract::api`.
use hookline_core::contract::api::TABLE_KEYS as KEYS;
pub(super) use hookline_core::contract::api::{BINARY, TABLE_VAR, TTL_ATTRIBUTE};

use hookline_core::contract::sender::{
    ARCHITECTURE, CONFIG_VAR, FUNCTION_TYPES, QUEUE_URL_VAR, RUNTIME,
};

/// What the cross-file checks need from the API function.
#[derive(Debug, Default)]
pub(super) struct ApiFacts {
    /// The function's path.
    pub(super) function: String,
    /// Its environment variable names, when it has a literal `Variables` map.
    pub(super) env_vars: Option<Vec<String>>,
    /// Whether `HOOKLINE_CONFIG` is a JSON string in the template (then checked here).
    pub(super) literal_config: bool,
}

/// Whether the function resource `v` is the API's.
pub(super) fn is_api(v: &Yaml) -> bool {
    get(v, "Metadata")
        .and_then(|m| get(m, "BuildProperties"))
        .and_then(|b| get(b, "Binary"))
        .and_then(Yaml::as_str)
        == Some(BINARY)
}

/// What the API checks need to know about the sender.
pub(super) struct SenderSide<'a> {
    /// The sender's path, when the template has one.
    pub(super) function: Option<&'a str>,
    /// The queue the sender reads.
    pub(super) queue: Option<&'a str>,
    /// Whether the sender's variables are known and `HOOKLINE_TABLE` is not among them.
    pub(super) lacks_table: bool,
    /// The table the sender's `HOOKLINE_TABLE` names.
    pub(super) table: Option<&'a str>,
}

pub(super) fn check_api(
    cfn: &Cfn<'_>,
    resources: &[(String, &Yaml)],
    sender: &SenderSide<'_>,
    r: &mut Report,
) -> Option<ApiFacts> {
    let type_of = |v: &Yaml| {
        get(v, "Type")
            .and_then(Yaml::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let apis: Vec<&(String, &Yaml)> = resources
        .iter()
        .filter(|(_, v)| FUNCTION_TYPES.contains(&type_of(v).as_str()) && is_api(v))
        .collect();
    let mut facts = None;
    for (name, function) in apis {
        let at = format!("Resources.{name}");
        let props = get(function, "Properties");
        let prop = |k: &str| props.and_then(|p| get(p, k));
        let vars_yaml = prop("Environment").and_then(|e| get(e, "Variables"));
        let vars_known = !matches!(vars_yaml, Some(v) if !matches!(v, Yaml::Mapping(_)));
        let vars = entries(vars_yaml);
        let vars_at = format!("{at}.Properties.Environment.Variables");
        let var = |n: &str| vars.iter().find(|(k, _)| k == n).map(|(_, v)| *v);

        // Runtime and architecture, as for the sender.
        match prop("Runtime").and_then(|v| cfn.eval(v, 0)) {
            Some(Ev::Scalar(rt)) if rt == RUNTIME => {}
            Some(_) => r.error(
                format!("{at}.Properties.Runtime"),
                "the API is a native binary (bootstrap): use Runtime: provided.al2023",
            ),
            None => r.error(
                format!("{at}.Properties.Runtime"),
                "missing or not evaluable: use Runtime: provided.al2023",
            ),
        }
        if !matches!(prop("Architectures").and_then(|v| cfn.eval(v, 0)),
            Some(Ev::List(a)) if a == [Ev::Scalar(ARCHITECTURE.to_owned())])
        {
            r.warn(
                format!("{at}.Properties.Architectures"),
                "not [arm64]: the API is built and tested for arm64; set Architectures: [arm64]",
            );
        }

        // Its environment.
        let mut literal_config = false;
        if vars_known {
            for (n, why) in [
                (
                    CONFIG_VAR,
                    "its configuration ([api] tokens): HOOKLINE_CONFIG: !Ref ConfigJson",
                ),
                (
                    QUEUE_URL_VAR,
                    "the outbound queue it puts messages on: HOOKLINE_QUEUE_URL: !Ref OutboundQueue",
                ),
                (TABLE_VAR, "its table: HOOKLINE_TABLE: !Ref ApiTable"),
            ] {
                if var(n).is_none() {
                    r.error(
                        format!("{vars_at}.{n}"),
                        format!("missing: the API refuses to start without {why}"),
                    );
                }
            }
        }
        if let Some(Yaml::String(json)) = var(CONFIG_VAR) {
            literal_config = true;
            let config_at = format!("{vars_at}.{CONFIG_VAR}");
            if let Some(config) = config_from_json(json, &config_at, r) {
                literal_secrets(
                    r,
                    &config_at,
                    &config,
                    "a Secrets Manager dynamic reference for NAME",
                );
                for (i, t) in config.api.tokens.iter().enumerate() {
                    if let Some(env) = env_name(&t.secret)
                        && vars_known
                        && var(env).is_none()
                    {
                        r.error(
                            format!("{vars_at}.{env}"),
                            format!(
                                "missing: {config_at}.api.tokens[{i}] reads env:{env} and the API \
                                 refuses to start without it; add it as a dynamic reference like \
                                 API_TOKEN"
                            ),
                        );
                    }
                }
            }
        }
        for (n, v) in &vars {
            if let Yaml::String(s) = v
                && looks_like_secret(s)
            {
                r.error(
                    format!("{vars_at}.{n}"),
                    "looks like a secret written into the template: use a \
                     {{resolve:secretsmanager:...}} dynamic reference instead",
                );
            }
        }
        if let (Some(url), Some(queue)) = (var(QUEUE_URL_VAR).and_then(referenced), sender.queue)
            && url != queue
        {
            r.error(
                format!("{vars_at}.{QUEUE_URL_VAR}"),
                format!(
                    "names {url}, but the sender reads {queue}: messages the API accepts would \
                     never be delivered; use !Ref {queue}"
                ),
            );
        }

        // The table.
        let table = var(TABLE_VAR).and_then(referenced);
        if let Some(table) = &table {
            check_table(resources, table, &format!("{vars_at}.{TABLE_VAR}"), r);
        }
        match (sender.function, sender.table) {
            (Some(f), _) if sender.lacks_table => r.warn(
                format!("{f}.Properties.Environment.Variables.{TABLE_VAR}"),
                format!(
                    "missing while the template has an API ({at}): the sender cannot read \
                     applications' endpoints, so messages sent through the API reach none; add \
                     {TABLE_VAR}: !Ref {}",
                    table.as_deref().unwrap_or("ApiTable")
                ),
            ),
            (Some(f), Some(theirs)) if table.as_deref().is_some_and(|t| t != theirs) => {
                r.error(
                    format!("{f}.Properties.Environment.Variables.{TABLE_VAR}"),
                    format!(
                        "names {theirs}, but the API ({at}) writes to {}: the sender would never \
                         see the API's endpoints",
                        table.as_deref().unwrap_or_default()
                    ),
                );
            }
            _ => {}
        }

        // Its URL: the svix SDKs send a bearer token and cannot sign with SigV4.
        match prop("FunctionUrlConfig") {
            None => r.note(
                format!("{at}.Properties.FunctionUrlConfig"),
                "none: the API has no URL of its own (fine behind API Gateway or CloudFront \
                 with an origin of your own)",
            ),
            Some(u) => {
                if get(u, "AuthType").and_then(Yaml::as_str) == Some("AWS_IAM") {
                    r.warn(
                        format!("{at}.Properties.FunctionUrlConfig.AuthType"),
                        "AWS_IAM: the svix SDKs authenticate with a bearer token, not SigV4, so \
                         they cannot call this URL; use AuthType: NONE (the function checks the \
                         token)",
                    );
                }
            }
        }

        facts = Some(ApiFacts {
            function: at,
            env_vars: vars_known.then(|| vars.iter().map(|(k, _)| k.clone()).collect()),
            literal_config,
        });
    }
    facts
}

/// The table `HOOKLINE_TABLE` names: a DynamoDB table with the store's keys and TTL attribute.
fn check_table(resources: &[(String, &Yaml)], name: &str, var_at: &str, r: &mut Report) {
    let Some((_, table)) = resources.iter().find(|(n, _)| n == name) else {
        r.note(
            var_at,
            format!("{name} is not a resource of this template: its keys were not checked"),
        );
        return;
    };
    if get(table, "Type").and_then(Yaml::as_str) != Some("AWS::DynamoDB::Table") {
        r.error(
            var_at,
            format!("names {name}, which is not an AWS::DynamoDB::Table"),
        );
        return;
    }
    let at = format!("Resources.{name}");
    let props = get(table, "Properties");
    let list = |k: &str| match props.and_then(|p| get(p, k)) {
        Some(Yaml::Sequence(s)) => s.iter().collect::<Vec<_>>(),
        _ => Vec::new(),
    };
    let field = |v: &Yaml, k: &str| get(v, k).and_then(Yaml::as_str).map(str::to_owned);
    let schema: Vec<(String, String)> = list("KeySchema")
        .into_iter()
        .filter_map(|k| Some((field(k, "AttributeName")?, field(k, "KeyType")?)))
        .collect();
    let want: Vec<(String, String)> = KEYS
        .iter()
        .map(|(a, t)| ((*a).to_owned(), (*t).to_owned()))
        .collect();
    if schema != want {
        r.error(
            format!("{at}.Properties.KeySchema"),
            "must be pk (HASH) then sk (RANGE), the keys the API's store reads and writes",
        );
    }
    for (attr, _) in KEYS {
        let ty = list("AttributeDefinitions")
            .into_iter()
            .find(|d| field(d, "AttributeName").as_deref() == Some(attr))
            .and_then(|d| field(d, "AttributeType"));
        if ty.as_deref() != Some("S") {
            r.error(
                format!("{at}.Properties.AttributeDefinitions"),
                format!(
                    "{attr} must be defined with AttributeType: S (the store's keys are strings)"
                ),
            );
        }
    }
    let ttl = props.and_then(|p| get(p, "TimeToLiveSpecification"));
    let ttl_ok = ttl.is_some_and(|t| {
        field(t, "AttributeName").as_deref() == Some(TTL_ATTRIBUTE)
            && get(t, "Enabled").and_then(Yaml::as_bool) == Some(true)
    });
    if !ttl_ok {
        r.warn(
            format!("{at}.Properties.TimeToLiveSpecification"),
            "should be { AttributeName: expires, Enabled: true }: without it, messages and \
             attempts past [api].retention are never returned but are kept (and paid for) forever",
        );
    }
    if get(table, "DeletionPolicy").and_then(Yaml::as_str) != Some("Retain") {
        r.warn(
            format!("{at}.DeletionPolicy"),
            "not Retain: deleting the stack would delete every application, endpoint and \
             endpoint secret; set DeletionPolicy: Retain and UpdateReplacePolicy: Retain",
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::check::test_support::*;

    /// The fixture template with an API function and its table.
    fn with_api() -> String {
        TEMPLATE.replace(
            "          HOOKLINE_DLQ_URL: !Ref Dlq\n",
            "          HOOKLINE_DLQ_URL: !Ref Dlq\n          HOOKLINE_TABLE: !Ref Table\n",
        ) + API
    }

    const API: &str = r#"  Table:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - { AttributeName: pk, AttributeType: S }
        - { AttributeName: sk, AttributeType: S }
      KeySchema:
        - { AttributeName: pk, KeyType: HASH }
        - { AttributeName: sk, KeyType: RANGE }
      TimeToLiveSpecification: { AttributeName: expires, Enabled: true }
  Api:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: hookline-api-lambda
    Properties:
      CodeUri: .
      Handler: bootstrap
      Runtime: provided.al2023
      Architectures: [arm64]
      FunctionUrlConfig:
        AuthType: NONE
      Environment:
        Variables:
          HOOKLINE_CONFIG: !Ref ConfigJson
          HOOKLINE_QUEUE_URL: !Ref Queue
          HOOKLINE_TABLE: !Ref Table
"#;

    const VARS: &str = "Resources.Api.Properties.Environment.Variables";

    #[test]
    fn api_function_and_table_as_deployed_pass() {
        let f = template(&with_api());
        no_errors(&f);
        assert!(
            !f.iter()
                .any(|f| f.path.starts_with("Resources.Api")
                    || f.path.starts_with("Resources.Table")),
            "{f:#?}"
        );
        // The API is not mistaken for a second sender (it has HOOKLINE_CONFIG but no SQS event).
        assert!(!f.iter().any(|f| f.message.contains("no SQS event source")));
    }

    #[test]
    fn api_missing_environment_variables() {
        for var in [
            hookline_core::contract::api::CONFIG_VAR,
            hookline_core::contract::api::QUEUE_URL_VAR,
            hookline_core::contract::api::TABLE_VAR,
        ] {
            let text = with_api().replace(
                &format!("          {var}: "),
                &format!("          X_{var}: "),
            );
            // Only the API's line is renamed when the sender lacks the variable.
            let f = template(&text);
            expect(&f, Severity::Error, &format!("{VARS}.{var}"), "missing");
        }
    }

    #[test]
    fn api_queue_must_be_the_senders() {
        let text = with_api().replace(
            "          HOOKLINE_QUEUE_URL: !Ref Queue\n          HOOKLINE_TABLE",
            "          HOOKLINE_QUEUE_URL: !Ref Dlq\n          HOOKLINE_TABLE",
        );
        expect(
            &template(&text),
            Severity::Error,
            &format!("{VARS}.HOOKLINE_QUEUE_URL"),
            "never be delivered",
        );
    }

    #[test]
    fn sender_without_the_table_or_another_table() {
        let without = TEMPLATE.to_owned() + API;
        expect(
            &template(&without),
            Severity::Warning,
            "Resources.Sender.Properties.Environment.Variables.HOOKLINE_TABLE",
            "cannot read applications' endpoints",
        );
        let other = with_api().replacen(
            "HOOKLINE_TABLE: !Ref Table",
            "HOOKLINE_TABLE: !Ref Other",
            1,
        );
        expect(
            &template(&other),
            Severity::Error,
            "Resources.Sender.Properties.Environment.Variables.HOOKLINE_TABLE",
            "never see the API's endpoints",
        );
    }

    #[test]
    fn table_keys_ttl_and_retention() {
        let text = with_api()
            .replace(
                "{ AttributeName: sk, KeyType: RANGE }",
                "{ AttributeName: id, KeyType: RANGE }",
            )
            .replace("AttributeName: expires", "AttributeName: ttl")
            .replace(
                "    DeletionPolicy: Retain\n",
                "    DeletionPolicy: Delete\n",
            );
        let f = template(&text);
        expect(
            &f,
            Severity::Error,
            "Resources.Table.Properties.KeySchema",
            "pk (HASH) then sk (RANGE)",
        );
        expect(
            &f,
            Severity::Warning,
            "Resources.Table.Properties.TimeToLiveSpecification",
            "expires",
        );
        expect(
            &f,
            Severity::Warning,
            "Resources.Table.DeletionPolicy",
            "Retain",
        );
        let queue = with_api().replace(
            "          HOOKLINE_TABLE: !Ref Table\n",
            "          HOOKLINE_TABLE: !Ref Dlq\n",
        );
        expect(
            &template(&queue),
            Severity::Error,
            &format!("{VARS}.HOOKLINE_TABLE"),
            "not an AWS::DynamoDB::Table",
        );
    }

    #[test]
    fn api_url_with_iam_auth_and_literal_tokens() {
        let iam = with_api().replace("AuthType: NONE", "AuthType: AWS_IAM");
        expect(
            &template(&iam),
            Severity::Warning,
            "Resources.Api.Properties.FunctionUrlConfig.AuthType",
            "bearer token",
        );
        let config = r#"{"api":{"tokens":[{"secret":"env:API_TOKEN"}]}}"#;
        let literal = with_api().replace(
            "          HOOKLINE_CONFIG: !Ref ConfigJson\n          HOOKLINE_QUEUE_URL: !Ref Queue\n          HOOKLINE_TABLE",
            &format!("          HOOKLINE_CONFIG: '{config}'\n          HOOKLINE_QUEUE_URL: !Ref Queue\n          HOOKLINE_TABLE"),
        );
        expect(
            &template(&literal),
            Severity::Error,
            &format!("{VARS}.API_TOKEN"),
            "refuses to start",
        );
        let plain = literal + "          API_TOKEN: whsec_abcdefabcdef\n";
        expect(
            &template(&plain),
            Severity::Error,
            &format!("{VARS}.API_TOKEN"),
            "written into the template",
        );
    }

    #[test]
    fn runtime_and_architecture() {
        let text = with_api().replacen(
            "Runtime: provided.al2023\n      Architectures: [arm64]\n      FunctionUrlConfig",
            "Runtime: nodejs22.x\n      Architectures: [x86_64]\n      FunctionUrlConfig",
            1,
        );
        let f = template(&text);
        expect(
            &f,
            Severity::Error,
            "Resources.Api.Properties.Runtime",
            "provided.al2023",
        );
        expect(
            &f,
            Severity::Warning,
            "Resources.Api.Properties.Architectures",
            "arm64",
        );
    }
}
