//! `template.yaml`: the sender function, its environment, its event source and its queue.

use std::collections::{BTreeMap, BTreeSet};

use hookline_core::config::Config;
use hookline_core::contract::sender::{
    ARCHITECTURE, BINARY as SENDER_BINARY, CONFIG_VAR, DEFAULT_FUNCTION_TIMEOUT_SECS,
    DEFAULT_VISIBILITY_TIMEOUT_SECS, DLQ_URL_VAR, FUNCTION_TYPES, MAX_ENVIRONMENT_BYTES,
    QUEUE_URL_VAR, REPORT_BATCH_ITEM_FAILURES, RUNTIME, SAM_TRANSFORM,
};
use serde_norway::Value as Yaml;

use super::api::{ApiFacts, SenderSide, TABLE_VAR, check_api, is_api};
use super::cfn::{
    Cfn, Ev, assignments, defaults, dependencies, entries, get, intrinsic, referenced,
};
use super::embedded::config_from_json;
use super::report::{Report, join, redact};
use super::secrets::{endpoint_refs, env_name, literal_secrets, looks_like_secret};

/// What the cross-file checks need from `template.yaml`.
#[derive(Debug, Default)]
pub(super) struct SenderFacts {
    /// The sender function's path (`Resources.SenderFunction`).
    pub(super) function: Option<String>,
    /// Its environment variable names, when it has a literal `Variables` map.
    pub(super) env_vars: Option<BTreeSet<String>>,
    /// Its configuration, when `HOOKLINE_CONFIG` is a JSON string in the template.
    pub(super) config: Option<Config>,
    /// The queue's `maxReceiveCount` with default parameters, and its path.
    pub(super) max_receive: Option<(String, u64)>,
    /// The queue the sender reads.
    pub(super) queue: Option<String>,
    /// The management API's function, when the template has one.
    pub(super) api: Option<ApiFacts>,
}

pub(super) fn check_template(text: &str, r: &mut Report) -> SenderFacts {
    let mut facts = SenderFacts::default();
    let root: Yaml = match serde_norway::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let at = e
                .location()
                .map(|l| format!("line {}, column {}", l.line(), l.column()))
                .unwrap_or_default();
            r.error(at, format!("not valid YAML: {}", redact(&e.to_string())));
            return facts;
        }
    };
    let resources = entries(get(&root, "Resources"));
    if resources.is_empty() {
        r.error("Resources", "missing or empty: a template needs resources");
        return facts;
    }

    if resources
        .iter()
        .any(|(_, v)| type_of(v).starts_with("AWS::Serverless::"))
    {
        let transform = get(&root, "Transform");
        let has = match transform {
            Some(Yaml::String(s)) => s == SAM_TRANSFORM,
            Some(Yaml::Sequence(s)) => s.iter().any(|t| t.as_str() == Some(SAM_TRANSFORM)),
            _ => false,
        };
        if !has {
            r.error(
                "Transform",
                "AWS::Serverless resources need Transform: AWS::Serverless-2016-10-31",
            );
        }
    }

    // The sender: the function that builds hookline-sender or reads hookline's variables.
    let functions: Vec<&(String, &Yaml)> = resources
        .iter()
        .filter(|(_, v)| FUNCTION_TYPES.contains(&type_of(v).as_str()))
        .collect();
    let is_sender = |v: &Yaml| {
        let binary = get(v, "Metadata")
            .and_then(|m| get(m, "BuildProperties"))
            .and_then(|b| get(b, "Binary"))
            .and_then(Yaml::as_str);
        let vars = get(v, "Properties")
            .and_then(|p| get(p, "Environment"))
            .and_then(|e| get(e, "Variables"));
        // The API function reads HOOKLINE_CONFIG too: it is told apart by its binary.
        !is_api(v)
            && (binary == Some(SENDER_BINARY)
                || vars.is_some_and(|vars| get(vars, CONFIG_VAR).is_some()))
    };
    let mut senders: Vec<&(String, &Yaml)> = functions
        .iter()
        .copied()
        .filter(|(_, v)| is_sender(v))
        .collect();
    if senders.is_empty() && functions.len() == 1 && !functions.iter().any(|(_, v)| is_api(v)) {
        senders = functions.clone();
    }
    if senders.is_empty() {
        r.error(
            "Resources",
            "no sender function: expected an AWS::Serverless::Function built from \
             hookline-sender (Metadata.BuildProperties.Binary) with HOOKLINE_CONFIG in its \
             environment",
        );
        return facts;
    }
    let globals = get(&root, "Globals").and_then(|g| get(g, "Function"));
    let cfn = Cfn {
        root: &root,
        params: defaults(&root),
    };
    let mut sender_table = None;
    for (name, function) in senders {
        let at = format!("Resources.{name}");
        facts.function = Some(at.clone());
        let serverless = type_of(function) == FUNCTION_TYPES[0];
        let props = get(function, "Properties");
        let (vars, vars_known) = environment(serverless.then_some(globals).flatten(), props);
        facts.env_vars = vars_known.then(|| vars.keys().cloned().collect());
        sender_table = vars_known.then(|| vars.get(TABLE_VAR).map(|v| referenced(v)));
        let sender = Sender {
            root: &root,
            resources: &resources,
            cfn: &cfn,
            vars_at: format!("{at}.Properties.Environment.Variables"),
            at,
            name,
            function,
            props,
            globals: serverless.then_some(globals).flatten(),
            vars,
            vars_known,
        };
        sender.build(r);
        let (config, config_from_default) = sender.config_var(r);
        facts.config = config;
        sender.queue_url_vars(r);
        let from = facts
            .config
            .as_ref()
            .map(|c| (sender.var_at(CONFIG_VAR), c))
            .or(config_from_default.as_ref().map(|(p, c)| (p.clone(), c)));
        sender.environment_secrets(from, r);
        sender.event_sources(r, &mut facts);
    }
    let side = SenderSide {
        function: facts.function.as_deref(),
        queue: facts.queue.as_deref(),
        lacks_table: matches!(sender_table, Some(None)),
        table: sender_table.as_ref().and_then(|t| t.as_ref()?.as_deref()),
    };
    facts.api = check_api(&cfn, &resources, &side, r);
    facts
}

/// The `Type` of a resource.
fn type_of(v: &Yaml) -> String {
    get(v, "Type")
        .and_then(Yaml::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The function's environment variables (SAM's `Globals` first, then its own), and whether every
/// one is known (`false` when `Variables` is an intrinsic, known only at deploy time).
fn environment<'a>(
    globals: Option<&'a Yaml>,
    props: Option<&'a Yaml>,
) -> (BTreeMap<String, &'a Yaml>, bool) {
    let mut vars: BTreeMap<String, &Yaml> = BTreeMap::new();
    let mut vars_known = true;
    for source in [
        globals.and_then(|g| get(g, "Environment")),
        props.and_then(|p| get(p, "Environment")),
    ]
    .into_iter()
    .flatten()
    {
        match get(source, "Variables") {
            Some(v @ Yaml::Mapping(_)) => vars.extend(entries(Some(v))),
            Some(_) => vars_known = false,
            None => {}
        }
    }
    (vars, vars_known)
}

/// One sender function of the template, and what its checks share.
struct Sender<'a> {
    root: &'a Yaml,
    resources: &'a [(String, &'a Yaml)],
    cfn: &'a Cfn<'a>,
    /// `Resources.NAME`.
    at: String,
    name: &'a str,
    function: &'a Yaml,
    props: Option<&'a Yaml>,
    /// SAM's `Globals.Function`, for an `AWS::Serverless::Function`.
    globals: Option<&'a Yaml>,
    vars: BTreeMap<String, &'a Yaml>,
    vars_known: bool,
    vars_at: String,
}

impl<'a> Sender<'a> {
    /// A property of the function, or of SAM's globals.
    fn prop(&self, key: &str) -> Option<&'a Yaml> {
        self.props
            .and_then(|p| get(p, key))
            .or_else(|| self.globals.and_then(|g| get(g, key)))
    }

    fn var_at(&self, name: &str) -> String {
        format!("{}.{name}", self.vars_at)
    }

    fn resource(&self, name: &str) -> Option<&'a Yaml> {
        self.resources
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }

    /// The binary, runtime and architecture.
    fn build(&self, r: &mut Report) {
        let (at, function, cfn) = (&self.at, self.function, self.cfn);
        let prop = |key: &str| self.prop(key);
        if get(function, "Metadata")
            .and_then(|m| get(m, "BuildProperties"))
            .and_then(|b| get(b, "Binary"))
            .and_then(Yaml::as_str)
            .is_some_and(|b| b != SENDER_BINARY)
        {
            r.warn(
                format!("{at}.Metadata.BuildProperties.Binary"),
                format!("builds another binary than {SENDER_BINARY}, the sender"),
            );
        }
        let image = prop("PackageType").and_then(Yaml::as_str) == Some("Image");
        if !image {
            match prop("Runtime").and_then(|v| cfn.eval(v, 0)) {
                Some(Ev::Scalar(rt)) if rt == RUNTIME => {}
                Some(Ev::Scalar(rt)) if rt == "provided.al2" => r.warn(
                    format!("{at}.Properties.Runtime"),
                    "provided.al2 is the older OS-only runtime; use provided.al2023",
                ),
                Some(Ev::Scalar(_)) => r.error(
                    format!("{at}.Properties.Runtime"),
                    "the sender is a native binary (bootstrap): use Runtime: provided.al2023",
                ),
                None if prop("Runtime").is_none() => r.error(
                    format!("{at}.Properties.Runtime"),
                    "missing: use Runtime: provided.al2023 (the sender is a native binary)",
                ),
                _ => r.note(
                    format!("{at}.Properties.Runtime"),
                    "set by an expression that cannot be evaluated here; expected provided.al2023",
                ),
            }
        }
        match prop("Architectures").and_then(|v| cfn.eval(v, 0)) {
            Some(Ev::List(a)) if a == [Ev::Scalar(ARCHITECTURE.to_owned())] => {}
            None if prop("Architectures").is_some() => r.note(
                format!("{at}.Properties.Architectures"),
                "set by an expression that cannot be evaluated here; expected [arm64]",
            ),
            _ => r.warn(
                format!("{at}.Properties.Architectures"),
                "not [arm64]: the sender is built and tested for arm64 (Graviton, cheaper per \
             GB-second); set Architectures: [arm64]",
            ),
        }
    }

    /// `HOOKLINE_CONFIG`: checked when the template holds it, or its parameter's default.
    /// Returns the template's own configuration, and the default's with its path.
    fn config_var(&self, r: &mut Report) -> (Option<Config>, Option<(String, Config)>) {
        let (vars, vars_known, root) = (&self.vars, self.vars_known, self.root);
        let var_at = |name: &str| self.var_at(name);
        let mut config = None;
        let mut config_secrets_from_default = None;
        match vars.get(CONFIG_VAR) {
            None if vars_known => r.error(
                var_at(CONFIG_VAR),
                "missing: the sender refuses to start without its configuration; add \
             HOOKLINE_CONFIG: !Ref ConfigJson",
            ),
            None => {}
            Some(Yaml::String(json)) => {
                let parsed = config_from_json(json, &var_at(CONFIG_VAR), r);
                if let Some(config) = &parsed {
                    literal_secrets(
                        r,
                        &var_at(CONFIG_VAR),
                        config,
                        "a Secrets Manager dynamic reference for NAME (docs/sender.md#secrets)",
                    );
                }
                config = parsed;
            }
            Some(v) => match referenced(v)
                .filter(|_| intrinsic(v).is_some_and(|(f, _)| f == "Ref"))
                .and_then(|p| {
                    get(root, "Parameters")
                        .and_then(|ps| get(ps, &p))
                        .map(|d| (p, d))
                }) {
                Some((param, decl)) => match get(decl, "Default").and_then(Yaml::as_str) {
                    Some(default) => {
                        let p_at = format!("Parameters.{param}.Default");
                        if let Some(config) = config_from_json(default, &p_at, r) {
                            literal_secrets(
                                r,
                                &p_at,
                                &config,
                                "a Secrets Manager dynamic reference for NAME",
                            );
                            config_secrets_from_default = Some((p_at, config));
                        }
                        r.note(
                            var_at(CONFIG_VAR),
                            format!(
                                "comes from the {param} parameter at deploy time: only its \
                             default was checked; check the JSON you deploy with `hookline \
                             check` on the hookline.toml it is made from"
                            ),
                        );
                    }
                    None => r.note(
                        var_at(CONFIG_VAR),
                        format!("comes from the {param} parameter at deploy time; not checked"),
                    ),
                },
                None => r.note(
                    var_at(CONFIG_VAR),
                    "set by an intrinsic function (!Sub, !Join, ...): the configuration is \
                 only known at deploy time and was not checked",
                ),
            },
        }

        (config, config_secrets_from_default)
    }

    /// The queue URLs the sender refuses to start without.
    fn queue_url_vars(&self, r: &mut Report) {
        let (vars, vars_known) = (&self.vars, self.vars_known);
        let var_at = |name: &str| self.var_at(name);
        for name in [QUEUE_URL_VAR, DLQ_URL_VAR] {
            if vars_known && !vars.contains_key(name) {
                let what = if name == QUEUE_URL_VAR {
                    "the outbound queue's URL (fan-out re-enqueues onto it): HOOKLINE_QUEUE_URL: !Ref OutboundQueue"
                } else {
                    "the dead-letter queue's URL: HOOKLINE_DLQ_URL: !Ref DeadLetterQueue"
                };
                r.error(
                    var_at(name),
                    format!("missing: the sender refuses to start without {what}"),
                );
            }
        }
    }

    /// Secrets in the environment: every `env:` secret of the configuration (`from`: its path
    /// and the configuration) is a variable, none is written into the template, and the
    /// variables fit Lambda's limit.
    fn environment_secrets(&self, from: Option<(String, &Config)>, r: &mut Report) {
        let (vars, vars_known, vars_at) = (&self.vars, self.vars_known, &self.vars_at);
        let var_at = |name: &str| self.var_at(name);
        let literal_var = |name: &str| matches!(vars.get(name), Some(Yaml::String(_)));
        let needed: Vec<(String, String)> = from
            .map(|(prefix, c)| {
                endpoint_refs(c)
                    .into_iter()
                    .map(|(path, reference)| (join(&prefix, &path), reference))
                    .collect()
            })
            .unwrap_or_default();
        for (path, reference) in &needed {
            let Some(env) = env_name(reference) else {
                continue;
            };
            if vars_known && !vars.contains_key(env) {
                r.error(
                    var_at(env),
                    format!(
                        "missing: {path} reads env:{env} and the sender refuses to start without \
                     it; add {env} as a dynamic reference like BILLING_WHSEC \
                     (docs/sender.md#secrets)"
                    ),
                );
            } else if literal_var(env) {
                r.error(
                    var_at(env),
                    format!(
                        "a secret written into the template ({path} reads env:{env}): use a \
                     {{{{resolve:secretsmanager:...}}}} dynamic reference instead"
                    ),
                );
            }
        }
        for (name, v) in vars {
            if let Yaml::String(s) = v
                && looks_like_secret(s)
                && !needed
                    .iter()
                    .any(|(_, r)| env_name(r) == Some(name.as_str()))
            {
                r.error(
                    var_at(name),
                    "looks like a signing secret written into the template: use a \
                 {{resolve:secretsmanager:...}} dynamic reference instead",
                );
            }
        }
        let literal_bytes: usize = vars
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|v| k.len() + v.len()))
            .sum();
        if literal_bytes > MAX_ENVIRONMENT_BYTES {
            r.error(
                vars_at.clone(),
                "the variables written here already exceed Lambda's 4 KB limit for all of a \
             function's environment variables together",
            );
        }
    }

    /// The SQS event sources reading into the function, their queues and redrive policies.
    fn event_sources(&self, r: &mut Report, facts: &mut SenderFacts) {
        let sources = self.sqs_sources();
        if sources.is_empty() {
            r.error(
                format!("{}.Properties.Events", self.at),
                "no SQS event source: the sender is never invoked; add an event of Type: SQS \
                 reading the outbound queue, with FunctionResponseTypes: [ReportBatchItemFailures]",
            );
        }
        let queue_url_ref = self.vars.get(QUEUE_URL_VAR).and_then(|v| referenced(v));
        let dlq_url_ref = self.vars.get(DLQ_URL_VAR).and_then(|v| referenced(v));
        for source in sources {
            source.batch_item_failures(self.cfn, r);
            let queue_name = source.queue.and_then(referenced);
            let queue = queue_name
                .as_deref()
                .and_then(|q| self.resource(q).map(|v| (q, v)))
                .filter(|(_, v)| type_of(v) == "AWS::SQS::Queue");
            let Some((queue_name, queue)) = queue else {
                r.note(
                    format!("{}.Queue", source.at),
                    "the queue is not a resource of this template: its redrive policy and \
                     visibility timeout were not checked",
                );
                continue;
            };
            if let Some(url) = &queue_url_ref
                && url != queue_name
            {
                r.error(
                    self.var_at(QUEUE_URL_VAR),
                    format!(
                        "names {url}, but the function reads {queue_name}: fan-out deliveries \
                         must go back onto the queue the function reads (!Ref {queue_name})"
                    ),
                );
            }
            facts.queue = Some(queue_name.to_owned());
            let q_at = format!("Resources.{queue_name}.Properties");
            let q_props = get(queue, "Properties");
            match q_props.and_then(|p| get(p, "RedrivePolicy")) {
                None => r.error(
                    format!("{q_at}.RedrivePolicy"),
                    "missing: a message the function keeps failing on (crash, timeout, bad \
                     configuration) is received again and again until its retention ends, then \
                     lost; add RedrivePolicy: {deadLetterTargetArn: !GetAtt DeadLetterQueue.Arn, \
                     maxReceiveCount: 10}",
                ),
                Some(redrive) => {
                    let redrive_at = format!("{q_at}.RedrivePolicy");
                    self.dead_letter_target(&redrive_at, redrive, queue_name, &dlq_url_ref, r);
                    self.max_receive_count(&redrive_at, redrive, r, facts);
                }
            }
            if let Some(dlq) = &dlq_url_ref
                && dlq == queue_name
            {
                r.error(
                    self.var_at(DLQ_URL_VAR),
                    "is the queue the function reads: dead letters would be delivered again; \
                     name the dead-letter queue",
                );
            }
            visibility(
                r,
                self.root,
                &q_at,
                q_props,
                &format!("{}.Properties.Timeout", self.at),
                self.prop("Timeout"),
                get(source.props, "MaximumBatchingWindowInSeconds"),
            );
        }
    }

    /// The function's SQS events (SAM's `Events`), then the event source mappings naming it.
    fn sqs_sources(&self) -> Vec<EventSource<'a>> {
        let mut sources = Vec::new();
        for (event, e) in entries(self.props.and_then(|p| get(p, "Events"))) {
            if get(e, "Type").and_then(Yaml::as_str) == Some("SQS") {
                let p = get(e, "Properties");
                sources.push(EventSource {
                    at: format!("{}.Properties.Events.{event}.Properties", self.at),
                    props: p.unwrap_or(e),
                    queue: p.and_then(|p| get(p, "Queue")),
                });
            }
        }
        for (res, v) in self.resources {
            if type_of(v) == "AWS::Lambda::EventSourceMapping"
                && let Some(p) = get(v, "Properties")
                && get(p, "FunctionName").and_then(referenced).as_deref() == Some(self.name)
            {
                sources.push(EventSource {
                    at: format!("Resources.{res}.Properties"),
                    props: p,
                    queue: get(p, "EventSourceArn"),
                });
            }
        }
        sources
    }

    /// The redrive policy's `deadLetterTargetArn`: present, another queue, and the one
    /// `HOOKLINE_DLQ_URL` names.
    fn dead_letter_target(
        &self,
        redrive_at: &str,
        redrive: &Yaml,
        queue_name: &str,
        dlq_url_ref: &Option<String>,
        r: &mut Report,
    ) {
        let Some(target) = get(redrive, "deadLetterTargetArn") else {
            r.error(
                format!("{redrive_at}.deadLetterTargetArn"),
                "missing: the dead-letter queue's ARN, e.g. !GetAtt DeadLetterQueue.Arn",
            );
            return;
        };
        let target = referenced(target);
        if target.as_deref() == Some(queue_name) {
            r.error(
                format!("{redrive_at}.deadLetterTargetArn"),
                "is the queue itself; name a separate dead-letter queue",
            );
        }
        if let (Some(target), Some(dlq)) = (&target, dlq_url_ref)
            && target != dlq
        {
            r.warn(
                self.var_at(DLQ_URL_VAR),
                format!(
                    "names {dlq}, but the queue's redrive policy moves messages to {target}: \
                     dead letters would be in two places"
                ),
            );
        }
    }

    /// The redrive policy's `maxReceiveCount`, kept for the cross-file checks.
    fn max_receive_count(
        &self,
        redrive_at: &str,
        redrive: &Yaml,
        r: &mut Report,
        facts: &mut SenderFacts,
    ) {
        let at = format!("{redrive_at}.maxReceiveCount");
        match get(redrive, "maxReceiveCount") {
            None => r.error(at, "missing: SQS needs it with a dead-letter target"),
            Some(v) => {
                if let Some(n) = self.cfn.number(v) {
                    facts.max_receive = Some((at, n));
                }
            }
        }
    }
}

/// One SQS event source of the sender: a SAM event or an event source mapping.
struct EventSource<'a> {
    /// The path of its properties.
    at: String,
    props: &'a Yaml,
    /// The queue it reads (`Queue` or `EventSourceArn`).
    queue: Option<&'a Yaml>,
}

impl EventSource<'_> {
    /// Partial batch responses, without which a failed delivery deletes the whole batch.
    fn batch_item_failures(&self, cfn: &Cfn<'_>, r: &mut Report) {
        match get(self.props, "FunctionResponseTypes").and_then(|v| cfn.eval(v, 0)) {
            Some(Ev::List(t)) if t.contains(&Ev::Scalar(REPORT_BATCH_ITEM_FAILURES.to_owned())) => {
            }
            _ => r.error(
                format!("{}.FunctionResponseTypes", self.at),
                "must include ReportBatchItemFailures: the sender reports which records to \
                 retry, and without it Lambda deletes the whole batch, failed deliveries included",
            ),
        }
    }
}

/// The queue's visibility timeout against the function's timeout, for every combination of the
/// parameters both depend on: AWS refuses an event source whose queue's visibility timeout is
/// shorter than the function's timeout, and recommends 6 × (plus the batching window).
pub(super) fn visibility(
    r: &mut Report,
    root: &Yaml,
    q_at: &str,
    q_props: Option<&Yaml>,
    timeout_at: &str,
    timeout: Option<&Yaml>,
    window: Option<&Yaml>,
) {
    let vt = q_props.and_then(|p| get(p, "VisibilityTimeout"));
    let values: Vec<&Yaml> = [vt, timeout, window].into_iter().flatten().collect();
    let Some(assignments) = assignments(root, &values) else {
        r.note(
            format!("{q_at}.VisibilityTimeout"),
            "depends on too many parameters to check every combination",
        );
        return;
    };
    let params_used: BTreeSet<String> = {
        let (mut p, mut s) = (BTreeSet::new(), BTreeSet::new());
        for v in &values {
            dependencies(root, v, &mut p, &mut s);
        }
        p
    };
    let mut error = None;
    let mut warning = None;
    for a in &assignments {
        let cfn = Cfn {
            root,
            params: a.clone(),
        };
        let value = |v: Option<&Yaml>, default: u64| match v {
            None => Some(default),
            Some(v) => cfn.number(v),
        };
        let (Some(vt), Some(t), Some(w)) = (
            value(vt, DEFAULT_VISIBILITY_TIMEOUT_SECS),
            value(timeout, DEFAULT_FUNCTION_TIMEOUT_SECS),
            value(window, 0),
        ) else {
            r.note(
                format!("{q_at}.VisibilityTimeout"),
                "cannot be evaluated here (it depends on something only known at deploy time); \
                 it must be at least the function's timeout, ideally 6 × it",
            );
            return;
        };
        let with = {
            let set: Vec<String> = a
                .iter()
                .filter(|(k, _)| params_used.contains(*k))
                .map(|(k, v)| format!("{k} = {v}"))
                .collect();
            if set.is_empty() {
                String::new()
            } else {
                format!("with {}: ", set.join(", "))
            }
        };
        if vt < t && error.is_none() {
            error = Some(format!(
                "{with}the queue's visibility timeout ({vt}s) is shorter than the function's \
                 timeout ({t}s, {timeout_at}): AWS refuses such an event source; make it at least \
                 6 × the timeout ({}s)",
                6 * t + w
            ));
        } else if vt >= t && vt < 6 * t + w && warning.is_none() {
            warning = Some(format!(
                "{with}the queue's visibility timeout ({vt}s) is below the recommended 6 × the \
                 function's timeout{} ({}s): a throttled batch may reappear while it is still \
                 being worked on",
                if w > 0 {
                    " plus the batching window"
                } else {
                    ""
                },
                6 * t + w
            ));
        }
    }
    if let Some(e) = error {
        r.error(format!("{q_at}.VisibilityTimeout"), e);
    }
    if let Some(w) = warning {
        r.warn(format!("{q_at}.VisibilityTimeout"), w);
    }
}

#[cfg(test)]
mod tests {
    use crate::check::test_support::*;

    #[test]
    fn template_that_is_not_yaml_or_lacks_a_transform_or_a_sender() {
        let no_transform = TEMPLATE.replace("Transform: AWS::Serverless-2016-10-31", "");
        for (text, path, message) in [
            ("Resources: [\n", "line 2, column 1", "not valid YAML"),
            (&no_transform, "Transform", "AWS::Serverless-2016-10-31"),
            (
                "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n",
                "Resources",
                "no sender function",
            ),
        ] {
            expect(&template(text), Severity::Error, path, message);
        }
    }

    #[test]
    fn template_missing_environment_variables() {
        for var in ["HOOKLINE_CONFIG", "HOOKLINE_QUEUE_URL", "HOOKLINE_DLQ_URL"] {
            let text: String = TEMPLATE
                .lines()
                .filter(|l| !l.trim_start().starts_with(&format!("{var}:")))
                .map(|l| format!("{l}\n"))
                .collect();
            let f = template(&text);
            expect(
                &f,
                Severity::Error,
                &format!("Resources.Sender.Properties.Environment.Variables.{var}"),
                "missing",
            );
        }
    }

    #[test]
    fn template_literal_config_is_validated() {
        let f = template(&TEMPLATE.replace(
            "HOOKLINE_CONFIG: !Ref ConfigJson",
            r#"HOOKLINE_CONFIG: '{"endpoints":{"b":{"url":"ftp://x","secrets":["env:B"]}}}'
          B: "{{resolve:secretsmanager:s:SecretString:B}}""#,
        ));
        expect(
            &f,
            Severity::Error,
            "Resources.Sender.Properties.Environment.Variables.HOOKLINE_CONFIG.endpoints.b.url",
            "scheme \"ftp\"",
        );
    }

    #[test]
    fn template_literal_config_secret_variables() {
        let with = |config: &str| {
            TEMPLATE.replace(
                "HOOKLINE_CONFIG: !Ref ConfigJson",
                &format!("HOOKLINE_CONFIG: '{config}'"),
            )
        };
        let f = template(&with(
            r#"{"endpoints":{"b":{"url":"https://b.example","secrets":["env:B_WHSEC"]}}}"#,
        ));
        expect(
            &f,
            Severity::Error,
            "Resources.Sender.Properties.Environment.Variables.B_WHSEC",
            "refuses to start",
        );
        let f = template(&with(
            r#"{"endpoints":{"b":{"url":"https://b.example","secrets":["literal:whsec_x"]}}}"#,
        ));
        expect(
            &f,
            Severity::Error,
            "Resources.Sender.Properties.Environment.Variables.HOOKLINE_CONFIG.endpoints.b.secrets[0]",
            "local development only",
        );
        // The API's tokens ride in the same ConfigJson.
        let f = template(&with(r#"{"api":{"tokens":[{"secret":"literal:tok"}]}}"#));
        expect(
            &f,
            Severity::Error,
            "Resources.Sender.Properties.Environment.Variables.HOOKLINE_CONFIG.api.tokens[0].secret",
            "local development only",
        );
        let text =
            with(r#"{"endpoints":{"b":{"url":"https://b.example","secrets":["env:B_WHSEC"]}}}"#)
                .replace(
                    "HOOKLINE_DLQ_URL: !Ref Dlq",
                    "HOOKLINE_DLQ_URL: !Ref Dlq\n          B_WHSEC: whsec_plain",
                );
        expect(
            &template(&text),
            Severity::Error,
            "Resources.Sender.Properties.Environment.Variables.B_WHSEC",
            "dynamic reference",
        );
    }

    #[test]
    fn template_plain_secret_in_environment() {
        let f = template(&TEMPLATE.replace(
            "HOOKLINE_DLQ_URL: !Ref Dlq",
            "HOOKLINE_DLQ_URL: !Ref Dlq\n          X: whsec_abcdef",
        ));
        expect(
            &f,
            Severity::Error,
            "Resources.Sender.Properties.Environment.Variables.X",
            "looks like a signing secret",
        );
    }

    #[test]
    fn template_parameter_config_default_is_checked_and_intrinsics_skipped() {
        let f = template(TEMPLATE);
        expect(
            &f,
            Severity::Note,
            "Resources.Sender.Properties.Environment.Variables.HOOKLINE_CONFIG",
            "only its default",
        );
        let f = template(&TEMPLATE.replace("Default: \"{}\"", "Default: \"{\\\"x\\\":1}\""));
        expect(
            &f,
            Severity::Error,
            "Parameters.ConfigJson.Default.x",
            "unknown field",
        );
        let f = template(&TEMPLATE.replace("!Ref ConfigJson", "!Sub '${ConfigJson}'"));
        expect(
            &f,
            Severity::Note,
            "Resources.Sender.Properties.Environment.Variables.HOOKLINE_CONFIG",
            "not checked",
        );
    }

    #[test]
    fn template_queue_url_must_be_the_queue_read() {
        let f = template(&TEMPLATE.replace(
            "HOOKLINE_QUEUE_URL: !Ref Queue",
            "HOOKLINE_QUEUE_URL: !Ref Dlq",
        ));
        expect(
            &f,
            Severity::Error,
            "Resources.Sender.Properties.Environment.Variables.HOOKLINE_QUEUE_URL",
            "fan-out",
        );
        let f = template(
            &TEMPLATE.replace("HOOKLINE_DLQ_URL: !Ref Dlq", "HOOKLINE_DLQ_URL: !Ref Queue"),
        );
        expect(
            &f,
            Severity::Error,
            "Resources.Sender.Properties.Environment.Variables.HOOKLINE_DLQ_URL",
            "is the queue the function reads",
        );
    }

    #[test]
    fn template_without_report_batch_item_failures() {
        let f = template(&TEMPLATE.replace(
            "            FunctionResponseTypes: [ReportBatchItemFailures]\n",
            "",
        ));
        expect(
            &f,
            Severity::Error,
            "Resources.Sender.Properties.Events.Outbound.Properties.FunctionResponseTypes",
            "ReportBatchItemFailures",
        );
    }

    #[test]
    fn template_without_event_source() {
        let f = template(&TEMPLATE.replace("Type: SQS", "Type: Schedule"));
        expect(
            &f,
            Severity::Error,
            "Resources.Sender.Properties.Events",
            "never invoked",
        );
    }

    #[test]
    fn template_event_source_mapping_resource_counts() {
        let text = TEMPLATE.replace("Type: SQS", "Type: Schedule").replace(
            "Resources:\n",
            "Resources:\n  Mapping:\n    Type: AWS::Lambda::EventSourceMapping\n    Properties:\n      FunctionName: !Ref Sender\n      EventSourceArn: !GetAtt Queue.Arn\n",
        );
        let f = template(&text);
        expect(
            &f,
            Severity::Error,
            "Resources.Mapping.Properties.FunctionResponseTypes",
            "ReportBatchItemFailures",
        );
        assert!(!f.iter().any(|f| f.message.contains("never invoked")));
    }

    #[test]
    fn template_queue_without_redrive_policy() {
        let f = template(&TEMPLATE.replace("      RedrivePolicy:\n        deadLetterTargetArn: !GetAtt Dlq.Arn\n        maxReceiveCount: 10\n", ""));
        expect(
            &f,
            Severity::Error,
            "Resources.Queue.Properties.RedrivePolicy",
            "lost",
        );
    }

    #[test]
    fn template_visibility_timeout_shorter_than_function_timeout() {
        let f = template(
            &TEMPLATE.replace("!FindInMap [Visibility, !Ref FunctionTimeout, Value]", "20"),
        );
        expect(
            &f,
            Severity::Error,
            "Resources.Queue.Properties.VisibilityTimeout",
            "with FunctionTimeout = 30",
        );
        // Missing: SQS's default of 30 s against a 60 s function.
        let f = template(&TEMPLATE.replace(
            "      VisibilityTimeout: !FindInMap [Visibility, !Ref FunctionTimeout, Value]\n",
            "",
        ));
        expect(
            &f,
            Severity::Error,
            "Resources.Queue.Properties.VisibilityTimeout",
            "FunctionTimeout = 60",
        );
    }

    #[test]
    fn template_visibility_timeout_checked_for_every_allowed_value() {
        // Only FunctionTimeout = 60 (not the default) breaks the 6 × rule.
        let f = template(&TEMPLATE.replace("\"60\": { Value: 360 }", "\"60\": { Value: 100 }"));
        expect(
            &f,
            Severity::Warning,
            "Resources.Queue.Properties.VisibilityTimeout",
            "with FunctionTimeout = 60: the queue's visibility timeout (100s) is below the recommended 6 ×",
        );
        no_errors(&f);
    }

    #[test]
    fn template_visibility_timeout_with_conditions_and_batching_window() {
        let text = TEMPLATE
            .replace(
                "Mappings:",
                "  Window:\n    Type: Number\n    Default: 0\n    MinValue: 0\n    MaxValue: 300\nConditions:\n  HasWindow: !Not [!Equals [!Ref Window, \"0\"]]\nMappings:",
            )
            .replace(
                "VisibilityTimeout: !FindInMap [Visibility, !Ref FunctionTimeout, Value]",
                "VisibilityTimeout: !If [HasWindow, 400, !FindInMap [Visibility, !Ref FunctionTimeout, Value]]",
            )
            .replace("BatchSize: 10", "BatchSize: 10\n            MaximumBatchingWindowInSeconds: !Ref Window");
        // With a 300 s window, 400 is short of 6 × 30 + 300 = 480.
        let f = template(&text);
        expect(
            &f,
            Severity::Warning,
            "Resources.Queue.Properties.VisibilityTimeout",
            "Window = 300",
        );
        no_errors(&f);
    }

    #[test]
    fn template_runtime_and_architecture() {
        let f = template(&TEMPLATE.replace("provided.al2023", "python3.12"));
        expect(
            &f,
            Severity::Error,
            "Resources.Sender.Properties.Runtime",
            "provided.al2023",
        );
        let f = template(&TEMPLATE.replace("provided.al2023", "provided.al2"));
        expect(
            &f,
            Severity::Warning,
            "Resources.Sender.Properties.Runtime",
            "provided.al2023",
        );
        let f = template(&TEMPLATE.replace("[arm64]", "[x86_64]"));
        expect(
            &f,
            Severity::Warning,
            "Resources.Sender.Properties.Architectures",
            "arm64",
        );
    }

    #[test]
    fn template_globals_are_merged() {
        let text = TEMPLATE
            .replace("      Runtime: provided.al2023\n", "")
            .replace(
                "Resources:\n",
                "Globals:\n  Function:\n    Runtime: provided.al2023\nResources:\n",
            );
        no_errors(&template(&text));
    }

    #[test]
    fn cyclic_conditions_do_not_overflow() {
        let text = TEMPLATE
            .replace(
                "Mappings:",
                "Conditions:\n  A: !Condition B\n  B: !Condition A\nMappings:",
            )
            .replace(
                "Runtime: provided.al2023",
                "Runtime: !If [A, provided.al2023, provided.al2]",
            );
        let f = template(&text);
        expect(
            &f,
            Severity::Note,
            "Resources.Sender.Properties.Runtime",
            "cannot be evaluated",
        );
    }
}
