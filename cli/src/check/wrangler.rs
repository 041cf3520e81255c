//! `wrangler.toml`: the receiver Worker at the top level and in each `[env.NAME]`.

use std::collections::BTreeSet;

use hookline_core::config::{Config, Destination, closest_within, line_col};
use hookline_core::contract::receiver::{
    ACCESS_KEY_ID_SECRET, AWS_SECRETS, BUCKET_BINDING, BUCKET_VAR, CONFIG_VAR, MAX_RETRY_DELAY,
    QUEUE_BINDING, REGION_VAR, RETRY_BASE_VAR, RETRY_MAX_VAR, SECRET_ACCESS_KEY_SECRET,
    SQS_OUTBOUND_VAR, SQS_QUEUE_VAR, VARS as WORKER_VARS,
};
use toml::{Table, Value as Toml};

use super::embedded::{config_from_json, config_from_tables};
use super::report::{Report, join, names, redact};
use super::secrets::{env_name, literal_secrets, looks_like_secret, source_refs};

/// What the cross-file checks need from `wrangler.toml`.
#[derive(Debug, Default)]
pub(super) struct WorkerFacts {
    /// The Worker configuration of the top level (`vars.HOOKLINE_CONFIG`), when it loads.
    pub(super) config: Option<Config>,
    /// Each `[env.NAME]`'s configuration, by path prefix (`env.production.vars.HOOKLINE_CONFIG`).
    pub(super) env_configs: Vec<(String, Config)>,
}

pub(super) fn check_wrangler(text: &str, r: &mut Report) -> WorkerFacts {
    let mut facts = WorkerFacts::default();
    let doc = match toml::from_str::<Table>(text) {
        Ok(doc) => doc,
        Err(e) => {
            let at = e
                .span()
                .map(|s| line_col(text, s.start))
                .unwrap_or_default();
            r.error(at, format!("not valid TOML: {}", redact(e.message())));
            return facts;
        }
    };
    if !doc.get("name").is_some_and(Toml::is_str) {
        r.error(
            "name",
            "missing: the Worker's name, e.g. name = \"hookline-receiver\" (wrangler deploy needs it)",
        );
    }
    facts.config = check_worker(&doc, "", None, r);
    if let Some(envs) = doc.get("env").and_then(Toml::as_table) {
        for (env_name, env) in envs {
            let Some(env) = env.as_table() else {
                r.error(format!("env.{env_name}"), "must be a table");
                continue;
            };
            let prefix = format!("env.{env_name}");
            if let Some(config) = check_worker(env, &prefix, Some(&doc), r) {
                facts
                    .env_configs
                    .push((format!("{prefix}.vars.{CONFIG_VAR}"), config));
            }
        }
    }
    facts
}

pub(super) fn str_of<'a>(t: &'a Table, key: &str) -> Option<&'a str> {
    t.get(key).and_then(Toml::as_str)
}

pub(super) fn tables(v: Option<&Toml>) -> Vec<(usize, &Table)> {
    v.and_then(Toml::as_array)
        .map(|a| {
            a.iter()
                .enumerate()
                .filter_map(|(i, t)| t.as_table().map(|t| (i, t)))
                .collect()
        })
        .unwrap_or_default()
}

/// One deployable Worker: the top level, or one `[env.NAME]` (`top` is then the top level,
/// from which `main` and `compatibility_date` are inherited; vars and bindings are not).
pub(super) fn check_worker(
    w: &Table,
    prefix: &str,
    top: Option<&Table>,
    r: &mut Report,
) -> Option<Config> {
    let worker = Worker::new(w, prefix, top);
    worker.entry(r);
    let config = worker.config(r);
    let destinations = config.as_ref().map(Destinations::of).unwrap_or_default();
    let mut secrets = worker.config_secrets(config.as_ref(), r);
    worker.plain_vars(&secrets, r);
    let forwarding = worker.forwarding(r);
    if forwarding {
        secrets.extend([ACCESS_KEY_ID_SECRET, SECRET_ACCESS_KEY_SECRET].map(str::to_owned));
    }
    worker.relay_url(&destinations, r);
    worker.queues(forwarding, &destinations, r);
    worker.claim_checks(r);
    worker.secrets_to_set(&secrets, r);
    config
}

/// The entry of an array of tables (`[[queues.producers]]`, `[[r2_buckets]]`) declaring
/// `binding = name`, with its index.
fn binding<'t>(list: Option<&'t Toml>, name: &str) -> Option<(usize, &'t Table)> {
    tables(list)
        .into_iter()
        .find(|(_, t)| str_of(t, "binding") == Some(name))
}

/// The sources of a configuration by where their events go.
#[derive(Default)]
struct Destinations {
    /// `destination = "queue"`: consumed from the inbound queue (or forwarded to SQS).
    queue: BTreeSet<String>,
    /// `destination = "relay"`: forwarded to the sender's outbound queue.
    relay: BTreeSet<String>,
}

impl Destinations {
    fn of(config: &Config) -> Self {
        let pick = |d: Destination| {
            config
                .sources
                .iter()
                .filter(|(_, s)| s.destination == d)
                .map(|(n, _)| n.clone())
                .collect()
        };
        Self {
            queue: pick(Destination::Queue),
            relay: pick(Destination::Relay),
        }
    }
}

/// One Worker of the file, and what its checks share.
struct Worker<'a> {
    w: &'a Table,
    /// `""` for the top level, `env.NAME` for an environment.
    prefix: &'a str,
    top: Option<&'a Table>,
    /// `[vars]`, or an empty table when it is missing or not a table.
    vars: &'a Table,
    /// What missing-binding messages add for an environment.
    not_inherited: String,
    /// The path of `vars.HOOKLINE_CONFIG`.
    config_at: String,
}

/// What a Worker without a `[vars]` table reads.
static NO_VARS: std::sync::LazyLock<Table> = std::sync::LazyLock::new(Table::new);

impl<'a> Worker<'a> {
    fn new(w: &'a Table, prefix: &'a str, top: Option<&'a Table>) -> Self {
        let not_inherited = if prefix.is_empty() {
            String::new()
        } else {
            format!(
                " (environments do not inherit vars and bindings: repeat them under [{prefix}])"
            )
        };
        // A `vars` that is not a table is reported by `config`.
        let vars = w.get("vars").and_then(Toml::as_table).unwrap_or(&NO_VARS);
        Self {
            w,
            prefix,
            top,
            vars,
            not_inherited,
            config_at: join(prefix, &format!("vars.{CONFIG_VAR}")),
        }
    }

    fn at(&self, rest: &str) -> String {
        join(self.prefix, rest)
    }

    fn var_at(&self, name: &str) -> String {
        self.at(&format!("vars.{name}"))
    }

    /// A var's value, when it is a non-empty string.
    fn var(&self, name: &str) -> Option<&'a str> {
        self.vars
            .get(name)
            .and_then(Toml::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A key an environment inherits from the top level, when this Worker must have it: the top
    /// level always, an environment only when it overrides it.
    fn inherited(&self, key: &str) -> Option<Option<&'a Toml>> {
        (self.top.is_none() || self.w.contains_key(key)).then(|| {
            self.w
                .get(key)
                .or_else(|| self.top.and_then(|t| t.get(key)))
        })
    }

    /// `main` and `compatibility_date`.
    fn entry(&self, r: &mut Report) {
        match self.inherited("main") {
            Some(None) => r.error(
                self.at("main"),
                "missing: the Worker's entry module, main = \"functions/receiver/build/index.js\" \
                 (what infra/build-receiver.sh writes)",
            ),
            Some(Some(v)) if !v.is_str() => {
                r.error(self.at("main"), "must be a string (a file path)");
            }
            _ => {}
        }
        let at = || self.at("compatibility_date");
        match self.inherited("compatibility_date") {
            Some(None) => r.error(
                at(),
                "missing: wrangler refuses to deploy without one; set compatibility_date = \
                 \"YYYY-MM-DD\" (not newer than the pinned wrangler's workerd)",
            ),
            Some(Some(Toml::String(s))) if !is_date(s) => {
                r.error(at(), "not a date: write it as \"YYYY-MM-DD\"");
            }
            Some(Some(Toml::String(_))) | None => {}
            Some(Some(_)) => r.error(
                at(),
                "must be a string: write compatibility_date = \"YYYY-MM-DD\", quoted",
            ),
        }
    }

    /// `[vars]`, and `vars.HOOKLINE_CONFIG` in it as TOML tables or a string of JSON.
    fn config(&self, r: &mut Report) -> Option<Config> {
        if self.w.get("vars").is_some_and(|v| !v.is_table()) {
            r.error(self.at("vars"), "must be a table ([vars])");
        }
        let (config_at, not_inherited) = (&self.config_at, &self.not_inherited);
        match self.vars.get(CONFIG_VAR) {
            None => {
                r.error(
                    config_at.clone(),
                    format!(
                        "missing: the receiver answers 500 configuration_error without it; add \
                         [{config_at}.sources.NAME] tables (docs/receiver.md#adding-a-source){not_inherited}"
                    ),
                );
                None
            }
            Some(Toml::Table(t)) => config_from_tables(t, config_at, r),
            Some(Toml::String(json)) => config_from_json(json, config_at, r),
            Some(_) => {
                r.error(
                    config_at.clone(),
                    "must be TOML tables ([vars.HOOKLINE_CONFIG.sources.NAME]) or a string of JSON",
                );
                None
            }
        }
    }

    /// The configuration's secrets: never literal, never set as plain vars. Returns the Worker
    /// secrets it reads.
    fn config_secrets(&self, config: Option<&Config>, r: &mut Report) -> BTreeSet<String> {
        let config_at = &self.config_at;
        let mut secrets = BTreeSet::new();
        let Some(config) = config else {
            return secrets;
        };
        literal_secrets(r, config_at, config, "`npx wrangler secret put NAME`");
        if !config.endpoints.is_empty() {
            r.note(
                format!("{config_at}.endpoints"),
                "the receiver reads only [sources]; endpoints belong to the sender's \
                 configuration (template.yaml's ConfigJson)",
            );
        }
        for (path, reference) in source_refs(config) {
            let Some(name) = env_name(&reference) else {
                continue;
            };
            secrets.insert(name.to_owned());
            if self.vars.contains_key(name) {
                r.error(
                    self.var_at(name),
                    format!(
                        "a secret set as a plain var ({config_at}.{path} reads env:{name}): plain \
                         vars are readable in wrangler.toml, in version control and in the \
                         dashboard. Remove it here and run `npx wrangler secret put {name}`"
                    ),
                );
            }
        }
        secrets
    }

    /// Plain vars holding AWS credentials or what looks like a signing secret, and `HOOKLINE_`
    /// vars the receiver does not read. `secrets` were reported already.
    fn plain_vars(&self, secrets: &BTreeSet<String>, r: &mut Report) {
        for name in AWS_SECRETS {
            if self.vars.contains_key(name) {
                r.error(
                    self.var_at(name),
                    format!(
                        "AWS credentials must be a Worker secret, not a plain var: remove it here \
                         and run `npx wrangler secret put {name}`"
                    ),
                );
            }
        }
        for (name, value) in self.vars {
            if value.as_str().is_some_and(looks_like_secret) && !secrets.contains(name) {
                r.error(
                    self.var_at(name),
                    "looks like a signing secret (whsec_...): secrets must be Worker secrets \
                     (`npx wrangler secret put NAME`), not plain vars",
                );
            }
            if name.starts_with("HOOKLINE_") && !WORKER_VARS.contains(&name.as_str()) {
                let hint = closest(name, &WORKER_VARS)
                    .map(|s| format!(" (did you mean {s}?)"))
                    .unwrap_or_default();
                r.warn(
                    self.var_at(name),
                    format!(
                        "the receiver does not read this var{hint}; it reads {}",
                        WORKER_VARS.join(", ")
                    ),
                );
            }
        }
    }

    /// The SQS queue URLs and the forwarding retry delays. Returns whether the consumer
    /// forwards to SQS (a queue URL is set).
    fn forwarding(&self, r: &mut Report) -> bool {
        let mut forwarding = false;
        for name in [SQS_QUEUE_VAR, SQS_OUTBOUND_VAR] {
            if let Some(url) = self.var(name) {
                forwarding = true;
                if let Err(msg) = check_sqs_url(url, self.var(REGION_VAR).is_some()) {
                    r.error(self.var_at(name), msg);
                }
            }
        }
        for name in [RETRY_BASE_VAR, RETRY_MAX_VAR] {
            if let Some(text) = self.var(name)
                && hookline_core::time::parse_duration(text).is_none_or(|d| d > MAX_RETRY_DELAY)
            {
                r.error(
                    self.var_at(name),
                    "not a duration of at most 12h, like \"30s\", \"5m\" or \"1h\" (the consumer \
                     would refuse to start)",
                );
            }
        }
        forwarding
    }

    /// Relay sources need the sender's queue URL.
    fn relay_url(&self, destinations: &Destinations, r: &mut Report) {
        if !destinations.relay.is_empty() && self.var(SQS_OUTBOUND_VAR).is_none() {
            r.note(
                self.var_at(SQS_OUTBOUND_VAR),
                format!(
                    "relay sources ({}) are forwarded to the sender's queue: set this var to the \
                     OutboundQueueUrl output of `sam deploy` (until then their events wait on the \
                     inbound queue)",
                    names(&destinations.relay)
                ),
            );
        }
    }

    /// The producer binding the receiver enqueues through, and the consumer reading its queue.
    fn queues(&self, forwarding: bool, destinations: &Destinations, r: &mut Report) {
        let queues = self.w.get("queues").and_then(Toml::as_table);
        let Some(inbound) = self.inbound_queue(queues, r) else {
            return;
        };
        let consumers = tables(queues.and_then(|q| q.get("consumers")));
        match consumers
            .iter()
            .find(|(_, c)| str_of(c, "queue") == Some(inbound))
        {
            Some((i, c)) => self.consumer(*i, c, inbound, destinations, r),
            None => self.no_consumer(inbound, forwarding, destinations, r),
        }
    }

    /// The queue of the `INBOUND_QUEUE` producer binding.
    fn inbound_queue(&self, queues: Option<&'a Table>, r: &mut Report) -> Option<&'a str> {
        let Some((i, p)) = binding(queues.and_then(|q| q.get("producers")), QUEUE_BINDING) else {
            r.error(
                self.at("queues.producers"),
                format!(
                    "no producer binding {QUEUE_BINDING}: the receiver cannot enqueue and answers \
                     503 to every webhook; add [[queues.producers]] binding = \"{QUEUE_BINDING}\", \
                     queue = \"hookline-inbound\"{}",
                    self.not_inherited
                ),
            );
            return None;
        };
        let queue = str_of(p, "queue");
        if queue.is_none() {
            r.error(
                self.at(&format!("queues.producers[{i}].queue")),
                "missing: the name of the queue the binding sends to, e.g. \"hookline-inbound\"",
            );
        }
        queue
    }

    /// No consumer in this file reads the inbound queue.
    fn no_consumer(
        &self,
        inbound: &str,
        forwarding: bool,
        destinations: &Destinations,
        r: &mut Report,
    ) {
        let at = self.at("queues.consumers");
        if forwarding {
            r.error(
                at,
                format!(
                    "no consumer for \"{inbound}\", but an SQS queue URL is set: nothing would be \
                     forwarded; add [[queues.consumers]] queue = \"{inbound}\" with a \
                     dead_letter_queue"
                ),
            );
        } else if !destinations.relay.is_empty() {
            // Relayed events reach the sender only through this Worker's consumer: without it
            // they wait on the queue until its retention deletes them.
            r.warn(
                at,
                format!(
                    "no consumer for \"{inbound}\": relay sources ({}) reach the sender only \
                     through this Worker's consumer, so their events would wait on the queue \
                     until its retention period deletes them; add [[queues.consumers]] queue = \
                     \"{inbound}\" with a dead_letter_queue",
                    names(&destinations.relay)
                ),
            );
        } else {
            // Not a warning: with no SQS URL, reading the queue with a consumer declared
            // elsewhere (an HTTP pull consumer, another Worker) is a documented way to run the
            // receiver (docs/receiver.md#reading-events), and this file cannot show it.
            r.note(
                at,
                format!(
                    "no consumer for \"{inbound}\" in this file: events wait on it, for the \
                     queue's retention period, until a consumer you attach reads them \
                     (docs/receiver.md#reading-events); to forward them to SQS add \
                     [[queues.consumers]] queue = \"{inbound}\" with a dead_letter_queue, and \
                     set {SQS_QUEUE_VAR}"
                ),
            );
        }
    }

    /// The consumer `queues.consumers[i]` reading the inbound queue: its dead-letter queue, and
    /// the SQS URL it forwards to.
    fn consumer(
        &self,
        i: usize,
        c: &Table,
        inbound: &str,
        destinations: &Destinations,
        r: &mut Report,
    ) {
        let dlq_at = self.at(&format!("queues.consumers[{i}].dead_letter_queue"));
        match str_of(c, "dead_letter_queue") {
            None => r.error(
                dlq_at,
                format!(
                    "missing: without a dead-letter queue Cloudflare deletes a message after its \
                     last retry, so an event that could not be forwarded is lost; add \
                     dead_letter_queue = \"{inbound}-dlq\" (and create it with `npx wrangler \
                     queues create {inbound}-dlq`)"
                ),
            ),
            Some(dlq) if dlq == inbound => r.error(
                dlq_at,
                "is the queue itself: failed messages would loop; name another queue, e.g. \
                 \"hookline-inbound-dlq\"",
            ),
            Some(_) => {}
        }
        // A note, like the outbound URL's: a value to fill in before forwarding, and nothing is
        // lost meanwhile (held, then dead-lettered, replayable).
        if !destinations.queue.is_empty() && self.var(SQS_QUEUE_VAR).is_none() {
            r.note(
                self.var_at(SQS_QUEUE_VAR),
                format!(
                    "empty, but the consumer for \"{inbound}\" is configured: until it is set, \
                     events of queue sources ({}) are held and then dead-lettered after \
                     max_retries (nothing is lost). Set it to your SQS queue's URL, or remove the \
                     [[queues.consumers]] block and consume \"{inbound}\" yourself",
                    names(&destinations.queue)
                ),
            );
        }
    }

    /// The R2 bucket that holds bodies too large for a queue message.
    fn claim_checks(&self, r: &mut Report) {
        let Some((i, b)) = binding(self.w.get("r2_buckets"), BUCKET_BINDING) else {
            r.warn(
                self.at("r2_buckets"),
                format!(
                    "no R2 binding {BUCKET_BINDING}: webhooks whose envelope exceeds a queue \
                     message (128 KB) are refused with 413; add [[r2_buckets]] binding = \
                     \"{BUCKET_BINDING}\", bucket_name = \"hookline-bodies\"{}",
                    self.not_inherited
                ),
            );
            return;
        };
        match (str_of(b, "bucket_name"), self.var(BUCKET_VAR)) {
            (_, None) => r.warn(
                self.var_at(BUCKET_VAR),
                format!(
                    "not set: claim checks are off and large bodies get 413; set it to the \
                     bucket_name of the {BUCKET_BINDING} binding"
                ),
            ),
            (Some(bucket), Some(named)) if bucket != named => r.error(
                self.var_at(BUCKET_VAR),
                format!(
                    "names another bucket than the {BUCKET_BINDING} binding \
                     (r2_buckets[{i}].bucket_name = \"{bucket}\"): claim checks would point \
                     consumers at the wrong bucket; make them equal"
                ),
            ),
            _ => {}
        }
    }

    /// The Worker secrets to set, listed once.
    fn secrets_to_set(&self, secrets: &BTreeSet<String>, r: &mut Report) {
        if !secrets.is_empty() {
            r.note(
                self.config_at.clone(),
                format!(
                    "Worker secrets to set (`npx wrangler secret put NAME`; .dev.vars for \
                     wrangler dev): {}",
                    names(secrets)
                ),
            );
        }
    }
}

pub(super) fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

/// The shape the receiver's SQS client accepts (`Queue::parse` in functions/receiver/src/sqs/queue.rs), checked here
/// without its crate: `http(s)://host[:port]/ACCOUNT/NAME` naming its region.
pub(super) fn check_sqs_url(raw: &str, region_set: bool) -> Result<(), String> {
    let url = url::Url::parse(raw).map_err(|e| format!("not a valid URL: {e}"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err("must be an https:// SQS queue URL".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("a queue URL has no query string or fragment".to_owned());
    }
    let segments: Vec<&str> = url.path().trim_matches('/').split('/').collect();
    if segments.len() != 2 || segments.iter().any(|s| s.is_empty()) {
        return Err(
            "expected a queue URL https://sqs.REGION.amazonaws.com/ACCOUNT/NAME".to_owned(),
        );
    }
    let host = url.host_str().unwrap_or_default();
    let named_region = host
        .strip_prefix("sqs.")
        .and_then(|h| h.split_once('.'))
        .is_some_and(|(region, rest)| !region.is_empty() && rest.starts_with("amazonaws."));
    if !named_region && !region_set {
        return Err(format!(
            "the URL does not name its region (sqs.REGION.amazonaws.com): set {REGION_VAR} too"
        ));
    }
    Ok(())
}

/// The candidate that extends `word` (or that `word` extends), else the closest within edit
/// distance 3, for "did you mean".
pub(super) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    // A var missing its suffix (HOOKLINE_SQS_QUEUE) is as likely as a typo.
    if let Some(c) = candidates
        .iter()
        .find(|c| c.starts_with(word) || word.starts_with(**c))
    {
        return Some(c);
    }
    closest_within(word, candidates, 3)
}

#[cfg(test)]
mod tests {
    use crate::check::test_support::*;

    #[test]
    fn wrangler_syntax_error() {
        let f = wrangler("name = \n");
        expect(&f, Severity::Error, "line 1, column 8", "not valid TOML");
    }

    #[test]
    fn wrangler_missing_name_main_and_date() {
        let text = WRANGLER
            .replace("name = \"hookline-receiver\"", "")
            .replace("main = \"functions/receiver/build/index.js\"", "")
            .replace("compatibility_date = \"2026-07-01\"", "");
        let f = wrangler(&text);
        expect(&f, Severity::Error, "name", "missing");
        expect(&f, Severity::Error, "main", "entry module");
        expect(&f, Severity::Error, "compatibility_date", "missing");
    }

    #[test]
    fn wrangler_bad_compatibility_date() {
        let f = wrangler(&WRANGLER.replace("\"2026-07-01\"", "\"July 2026\""));
        expect(&f, Severity::Error, "compatibility_date", "YYYY-MM-DD");
        let f = wrangler(&WRANGLER.replace("\"2026-07-01\"", "2026-07-01"));
        expect(
            &f,
            Severity::Error,
            "compatibility_date",
            "must be a string",
        );
    }

    #[test]
    fn wrangler_missing_config_var() {
        let text = WRANGLER.replace("[vars.HOOKLINE_CONFIG.sources.stripe]\nscheme = \"stripe\"\nsecrets = [\"env:STRIPE_WEBHOOK_SECRET\"]\n", "");
        let f = wrangler(&text);
        expect(&f, Severity::Error, "vars.HOOKLINE_CONFIG", "missing");
    }

    #[test]
    fn wrangler_config_tables_are_validated_with_paths() {
        let f = wrangler(&WRANGLER.replace("scheme = \"stripe\"", "scheme = \"strpe\""));
        expect(
            &f,
            Severity::Error,
            "vars.HOOKLINE_CONFIG.sources.stripe.scheme",
            "did you mean",
        );
        let f = wrangler(&WRANGLER.replace("secrets = [", "secret = ["));
        expect(
            &f,
            Severity::Error,
            "vars.HOOKLINE_CONFIG.sources.stripe",
            "unknown field `secret`",
        );
        let f = wrangler(&format!(
            "{WRANGLER}\n[vars.HOOKLINE_CONFIG.source.x]\nscheme = \"github\"\n"
        ));
        expect(
            &f,
            Severity::Error,
            "vars.HOOKLINE_CONFIG.source",
            "unknown field",
        );
    }

    #[test]
    fn wrangler_config_as_json_string() {
        let base = WRANGLER.replace(
            "[vars.HOOKLINE_CONFIG.sources.stripe]\nscheme = \"stripe\"\nsecrets = [\"env:STRIPE_WEBHOOK_SECRET\"]\n",
            "",
        );
        let ok = base.replace(
            "[vars]\n",
            "[vars]\nHOOKLINE_CONFIG = '{\"sources\":{\"stripe\":{\"scheme\":\"stripe\",\"secrets\":[\"env:S\"]}}}'\n",
        );
        no_errors(&wrangler(&ok));
        let bad = base.replace("[vars]\n", "[vars]\nHOOKLINE_CONFIG = '{\"sources\": '\n");
        expect(
            &wrangler(&bad),
            Severity::Error,
            "vars.HOOKLINE_CONFIG (JSON line 1, column 12)",
            "",
        );
        let toml_string = base.replace(
            "[vars]\n",
            "[vars]\nHOOKLINE_CONFIG = \"\"\"\n[sources.a]\nscheme = \"github\"\n\"\"\"\n",
        );
        expect(
            &wrangler(&toml_string),
            Severity::Error,
            "vars.HOOKLINE_CONFIG",
            "a string of TOML",
        );
    }

    #[test]
    fn wrangler_literal_secret_is_an_error() {
        let f = wrangler(&WRANGLER.replace("env:STRIPE_WEBHOOK_SECRET", "literal:whsec_abc"));
        expect(
            &f,
            Severity::Error,
            "vars.HOOKLINE_CONFIG.sources.stripe.secrets[0]",
            "local development only",
        );
        assert!(!f.iter().any(|f| f.message.contains("whsec_abc")));
    }

    #[test]
    fn wrangler_plain_vars() {
        for (var, severity, path, text) in [
            (
                "STRIPE_WEBHOOK_SECRET = \"x\"",
                Severity::Error,
                "vars.STRIPE_WEBHOOK_SECRET",
                "wrangler secret put STRIPE_WEBHOOK_SECRET",
            ),
            (
                "AWS_SECRET_ACCESS_KEY = \"x\"",
                Severity::Error,
                "vars.AWS_SECRET_ACCESS_KEY",
                "Worker secret",
            ),
            (
                "SOMETHING = \"whsec_abcdef\"",
                Severity::Error,
                "vars.SOMETHING",
                "looks like a signing secret",
            ),
            (
                "HOOKLINE_SQS_QUEUE = \"x\"",
                Severity::Warning,
                "vars.HOOKLINE_SQS_QUEUE",
                "did you mean HOOKLINE_SQS_QUEUE_URL",
            ),
        ] {
            let f = wrangler(&WRANGLER.replace("[vars]\n", &format!("[vars]\n{var}\n")));
            expect(&f, severity, path, text);
            assert!(
                !f.iter().any(|f| f.message.contains("whsec_abcdef")),
                "{var}"
            );
        }
    }

    #[test]
    fn wrangler_missing_producer() {
        let f = wrangler(&WRANGLER.replace("binding = \"INBOUND_QUEUE\"", "binding = \"QUEUE\""));
        expect(&f, Severity::Error, "queues.producers", "INBOUND_QUEUE");
    }

    #[test]
    fn wrangler_missing_consumer() {
        let text = WRANGLER.replace(
            "queue = \"hookline-inbound\"\nmax_retries",
            "queue = \"other\"\nmax_retries",
        );
        expect(
            &wrangler(&text),
            Severity::Error,
            "queues.consumers",
            "nothing would be forwarded",
        );
        let text = text.replace(
            "HOOKLINE_SQS_QUEUE_URL = \"https://sqs.eu-west-1.amazonaws.com/123456789012/inbound\"",
            "",
        );
        expect(
            &wrangler(&text),
            Severity::Note,
            "queues.consumers",
            "a consumer you attach",
        );
    }

    #[test]
    fn wrangler_consumer_without_dead_letter_queue() {
        let f = wrangler(&WRANGLER.replace("dead_letter_queue = \"hookline-inbound-dlq\"", ""));
        expect(
            &f,
            Severity::Error,
            "queues.consumers[0].dead_letter_queue",
            "lost",
        );
        let f = wrangler(&WRANGLER.replace("\"hookline-inbound-dlq\"", "\"hookline-inbound\""));
        expect(
            &f,
            Severity::Error,
            "queues.consumers[0].dead_letter_queue",
            "the queue itself",
        );
    }

    #[test]
    fn wrangler_consumer_without_sqs_url_dead_letters_everything() {
        let f = wrangler(&WRANGLER.replace(
            "https://sqs.eu-west-1.amazonaws.com/123456789012/inbound",
            "",
        ));
        // A value still to fill in, and nothing is lost meanwhile: a note.
        expect(
            &f,
            Severity::Note,
            "vars.HOOKLINE_SQS_QUEUE_URL",
            "dead-lettered",
        );
    }

    #[test]
    fn wrangler_relay_sources_without_a_consumer_would_lose_events() {
        let text = WRANGLER
            .replace("queue = \"hookline-inbound\"\nmax_retries", "queue = \"other\"\nmax_retries")
            .replace(
                "HOOKLINE_SQS_QUEUE_URL = \"https://sqs.eu-west-1.amazonaws.com/123456789012/inbound\"",
                "",
            )
            .replace("scheme = \"stripe\"", "scheme = \"stripe\"\ndestination = \"relay\"");
        expect(
            &wrangler(&text),
            Severity::Warning,
            "queues.consumers",
            "retention period deletes them",
        );
    }

    #[test]
    fn wrangler_relay_source_needs_outbound_url() {
        let f = wrangler(&WRANGLER.replace(
            "scheme = \"stripe\"",
            "scheme = \"stripe\"\ndestination = \"relay\"",
        ));
        expect(
            &f,
            Severity::Note,
            "vars.HOOKLINE_SQS_OUTBOUND_URL",
            "relay sources (stripe)",
        );
    }

    #[test]
    fn wrangler_bad_sqs_url() {
        let f = wrangler(&WRANGLER.replace(
            "https://sqs.eu-west-1.amazonaws.com/123456789012/inbound",
            "https://sqs.eu-west-1.amazonaws.com/inbound",
        ));
        expect(
            &f,
            Severity::Error,
            "vars.HOOKLINE_SQS_QUEUE_URL",
            "ACCOUNT/NAME",
        );
        let f = wrangler(&WRANGLER.replace(
            "https://sqs.eu-west-1.amazonaws.com",
            "http://localhost:9324",
        ));
        expect(
            &f,
            Severity::Error,
            "vars.HOOKLINE_SQS_QUEUE_URL",
            "HOOKLINE_SQS_REGION",
        );
        let f = wrangler(
            &WRANGLER
                .replace(
                    "https://sqs.eu-west-1.amazonaws.com",
                    "http://localhost:9324",
                )
                .replace("[vars]\n", "[vars]\nHOOKLINE_SQS_REGION = \"us-east-1\"\n"),
        );
        no_errors(&f);
    }

    #[test]
    fn wrangler_bad_retry_duration() {
        let f = wrangler(
            &WRANGLER.replace("[vars]\n", "[vars]\nHOOKLINE_FORWARD_RETRY_MAX = \"13h\"\n"),
        );
        expect(
            &f,
            Severity::Error,
            "vars.HOOKLINE_FORWARD_RETRY_MAX",
            "at most 12h",
        );
    }

    #[test]
    fn wrangler_bodies_bucket() {
        let f = wrangler(&WRANGLER.replace("binding = \"BODIES\"", "binding = \"B\""));
        expect(&f, Severity::Warning, "r2_buckets", "413");
        let f = wrangler(&WRANGLER.replace(
            "HOOKLINE_BODIES_BUCKET = \"hookline-bodies\"",
            "HOOKLINE_BODIES_BUCKET = \"other\"",
        ));
        expect(
            &f,
            Severity::Error,
            "vars.HOOKLINE_BODIES_BUCKET",
            "another bucket",
        );
        let f = wrangler(&WRANGLER.replace("HOOKLINE_BODIES_BUCKET = \"hookline-bodies\"", ""));
        expect(
            &f,
            Severity::Warning,
            "vars.HOOKLINE_BODIES_BUCKET",
            "claim checks are off",
        );
    }

    #[test]
    fn wrangler_environment_does_not_inherit_vars() {
        let f = wrangler(&format!("{WRANGLER}\n[env.production]\nname = \"p\"\n"));
        expect(
            &f,
            Severity::Error,
            "env.production.vars.HOOKLINE_CONFIG",
            "do not inherit",
        );
        expect(
            &f,
            Severity::Error,
            "env.production.queues.producers",
            "INBOUND_QUEUE",
        );
        assert!(
            !f.iter().any(|f| f.path == "env.production.main"),
            "main is inherited"
        );
    }

    #[test]
    fn wrangler_secrets_to_set_are_listed() {
        let f = wrangler(WRANGLER);
        expect(
            &f,
            Severity::Note,
            "vars.HOOKLINE_CONFIG",
            "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, STRIPE_WEBHOOK_SECRET",
        );
    }
}
