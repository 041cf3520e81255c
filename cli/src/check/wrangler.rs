//! `wrangler.toml`: the receiver Worker at the top level and in each `[env.NAME]`.

use std::collections::BTreeSet;

use hookline_core::config::{Config, Destination, edit_distance};
use hookline_core::contract::receiver::{
    ACCESS_KEY_ID_SECRET, AWS_SECRETS, BUCKET_BINDING, BUCKET_VAR, CONFIG_VAR, MAX_RETRY_DELAY,
    QUEUE_BINDING, REGION_VAR, RETRY_BASE_VAR, RETRY_MAX_VAR, SECRET_ACCESS_KEY_SECRET,
    SQS_OUTBOUND_VAR, SQS_QUEUE_VAR, VARS as WORKER_VARS,
};
use toml::{Table, Value as Toml};

use super::embedded::{config_from_json, config_from_tables};
use super::report::{Report, join, line_col, names, redact};
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
    let at = |rest: &str| join(prefix, rest);
    let not_inherited = if prefix.is_empty() {
        String::new()
    } else {
        format!(" (environments do not inherit vars and bindings: repeat them under [{prefix}])")
    };
    let inherited = |key: &str| w.get(key).or_else(|| top.and_then(|t| t.get(key)));
    if top.is_none() || w.contains_key("main") {
        match inherited("main") {
            None => r.error(
                at("main"),
                "missing: the Worker's entry module, main = \"functions/receiver/build/index.js\" \
                 (what infra/build-receiver.sh writes)",
            ),
            Some(v) if !v.is_str() => r.error(at("main"), "must be a string (a file path)"),
            Some(_) => {}
        }
    }
    if top.is_none() || w.contains_key("compatibility_date") {
        match inherited("compatibility_date") {
            None => r.error(
                at("compatibility_date"),
                "missing: wrangler refuses to deploy without one; set compatibility_date = \
                 \"YYYY-MM-DD\" (not newer than the pinned wrangler's workerd)",
            ),
            Some(Toml::String(s)) if !is_date(s) => r.error(
                at("compatibility_date"),
                "not a date: write it as \"YYYY-MM-DD\"",
            ),
            Some(Toml::String(_)) => {}
            Some(_) => r.error(
                at("compatibility_date"),
                "must be a string: write compatibility_date = \"YYYY-MM-DD\", quoted",
            ),
        }
    }

    let empty = Table::new();
    let vars = match w.get("vars") {
        Some(Toml::Table(t)) => t,
        Some(_) => {
            r.error(at("vars"), "must be a table ([vars])");
            &empty
        }
        None => &empty,
    };
    let var = |name: &str| {
        vars.get(name)
            .and_then(Toml::as_str)
            .filter(|v| !v.is_empty())
    };
    let var_at = |name: &str| at(&format!("vars.{name}"));
    let config_at = var_at(CONFIG_VAR);

    // The configuration.
    let config = match vars.get(CONFIG_VAR) {
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
        Some(Toml::Table(t)) => config_from_tables(t, &config_at, r),
        Some(Toml::String(json)) => config_from_json(json, &config_at, r),
        Some(_) => {
            r.error(
                config_at.clone(),
                "must be TOML tables ([vars.HOOKLINE_CONFIG.sources.NAME]) or a string of JSON",
            );
            None
        }
    };
    let (queue_sources, relay_sources): (BTreeSet<String>, BTreeSet<String>) = config
        .as_ref()
        .map(|c| {
            let pick = |d: Destination| {
                c.sources
                    .iter()
                    .filter(|(_, s)| s.destination == d)
                    .map(|(n, _)| n.clone())
                    .collect()
            };
            (pick(Destination::Queue), pick(Destination::Relay))
        })
        .unwrap_or_default();

    // Secrets: never in [vars], never literal.
    let mut secrets: BTreeSet<String> = BTreeSet::new();
    if let Some(config) = &config {
        literal_secrets(r, &config_at, config, "`npx wrangler secret put NAME`");
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
            if vars.contains_key(name) {
                r.error(
                    var_at(name),
                    format!(
                        "a secret set as a plain var ({config_at}.{path} reads env:{name}): plain \
                         vars are readable in wrangler.toml, in version control and in the \
                         dashboard. Remove it here and run `npx wrangler secret put {name}`"
                    ),
                );
            }
        }
    }
    for name in AWS_SECRETS {
        if vars.contains_key(name) {
            r.error(
                var_at(name),
                format!(
                    "AWS credentials must be a Worker secret, not a plain var: remove it here and \
                     run `npx wrangler secret put {name}`"
                ),
            );
        }
    }
    for (name, value) in vars {
        if value.as_str().is_some_and(looks_like_secret) && !secrets.contains(name) {
            r.error(
                var_at(name),
                "looks like a signing secret (whsec_...): secrets must be Worker secrets \
                 (`npx wrangler secret put NAME`), not plain vars",
            );
        }
        if name.starts_with("HOOKLINE_") && !WORKER_VARS.contains(&name.as_str()) {
            let hint = closest(name, &WORKER_VARS)
                .map(|s| format!(" (did you mean {s}?)"))
                .unwrap_or_default();
            r.warn(
                var_at(name),
                format!(
                    "the receiver does not read this var{hint}; it reads {}",
                    WORKER_VARS.join(", ")
                ),
            );
        }
    }

    // Forwarding to SQS.
    let mut forwarding = false;
    for name in [SQS_QUEUE_VAR, SQS_OUTBOUND_VAR] {
        if let Some(url) = var(name) {
            forwarding = true;
            if let Err(msg) = check_sqs_url(url, var(REGION_VAR).is_some()) {
                r.error(var_at(name), msg);
            }
        }
    }
    for name in [RETRY_BASE_VAR, RETRY_MAX_VAR] {
        if let Some(text) = var(name)
            && hookline_core::time::parse_duration(text).is_none_or(|d| d > MAX_RETRY_DELAY)
        {
            r.error(
                var_at(name),
                "not a duration of at most 12h, like \"30s\", \"5m\" or \"1h\" (the consumer \
                 would refuse to start)",
            );
        }
    }
    if forwarding {
        secrets.extend([ACCESS_KEY_ID_SECRET, SECRET_ACCESS_KEY_SECRET].map(str::to_owned));
    }
    if !relay_sources.is_empty() && var(SQS_OUTBOUND_VAR).is_none() {
        r.note(
            var_at(SQS_OUTBOUND_VAR),
            format!(
                "relay sources ({}) are forwarded to the sender's queue: set this var to the \
                 OutboundQueueUrl output of `sam deploy` (until then their events wait on the \
                 inbound queue)",
                names(&relay_sources)
            ),
        );
    }

    // Queues.
    let queues = w.get("queues").and_then(Toml::as_table);
    let producers = tables(queues.and_then(|q| q.get("producers")));
    let consumers = tables(queues.and_then(|q| q.get("consumers")));
    let producer = producers
        .iter()
        .find(|(_, p)| str_of(p, "binding") == Some(QUEUE_BINDING));
    let inbound = match producer {
        None => {
            r.error(
                at("queues.producers"),
                format!(
                    "no producer binding {QUEUE_BINDING}: the receiver cannot enqueue and answers \
                     503 to every webhook; add [[queues.producers]] binding = \"{QUEUE_BINDING}\", \
                     queue = \"hookline-inbound\"{not_inherited}"
                ),
            );
            None
        }
        Some((i, p)) => match str_of(p, "queue") {
            Some(q) => Some(q),
            None => {
                r.error(
                    at(&format!("queues.producers[{i}].queue")),
                    "missing: the name of the queue the binding sends to, e.g. \"hookline-inbound\"",
                );
                None
            }
        },
    };
    if let Some(inbound) = inbound {
        match consumers
            .iter()
            .find(|(_, c)| str_of(c, "queue") == Some(inbound))
        {
            None if forwarding => r.error(
                at("queues.consumers"),
                format!(
                    "no consumer for \"{inbound}\", but an SQS queue URL is set: nothing would be \
                     forwarded; add [[queues.consumers]] queue = \"{inbound}\" with a \
                     dead_letter_queue"
                ),
            ),
            // Relayed events reach the sender only through this Worker's consumer: without it
            // they wait on the queue until its retention deletes them.
            None if !relay_sources.is_empty() => r.warn(
                at("queues.consumers"),
                format!(
                    "no consumer for \"{inbound}\": relay sources ({}) reach the sender only \
                     through this Worker's consumer, so their events would wait on the queue \
                     until its retention period deletes them; add [[queues.consumers]] queue = \
                     \"{inbound}\" with a dead_letter_queue",
                    names(&relay_sources)
                ),
            ),
            // Not a warning: with no SQS URL, reading the queue with a consumer declared
            // elsewhere (an HTTP pull consumer, another Worker) is a documented way to run the
            // receiver (docs/receiver.md#reading-events), and this file cannot show it.
            None => r.note(
                at("queues.consumers"),
                format!(
                    "no consumer for \"{inbound}\" in this file: events wait on it, for the \
                     queue's retention period, until a consumer you attach reads them \
                     (docs/receiver.md#reading-events); to forward them to SQS add \
                     [[queues.consumers]] queue = \"{inbound}\" with a dead_letter_queue, and \
                     set {SQS_QUEUE_VAR}"
                ),
            ),
            Some((i, c)) => {
                let c_at = at(&format!("queues.consumers[{i}]"));
                match str_of(c, "dead_letter_queue") {
                    None => r.error(
                        format!("{c_at}.dead_letter_queue"),
                        format!(
                            "missing: without a dead-letter queue Cloudflare deletes a message \
                             after its last retry, so an event that could not be forwarded is \
                             lost; add dead_letter_queue = \"{inbound}-dlq\" (and create it with \
                             `npx wrangler queues create {inbound}-dlq`)"
                        ),
                    ),
                    Some(dlq) if dlq == inbound => r.error(
                        format!("{c_at}.dead_letter_queue"),
                        "is the queue itself: failed messages would loop; name another queue, \
                         e.g. \"hookline-inbound-dlq\"",
                    ),
                    Some(_) => {}
                }
                // A note, like the outbound URL's: a value to fill in before forwarding, and
                // nothing is lost meanwhile (held, then dead-lettered, replayable).
                if !queue_sources.is_empty() && var(SQS_QUEUE_VAR).is_none() {
                    r.note(
                        var_at(SQS_QUEUE_VAR),
                        format!(
                            "empty, but the consumer for \"{inbound}\" is configured: until it is \
                             set, events of queue sources ({}) are held and then dead-lettered \
                             after max_retries (nothing is lost). Set it to your SQS queue's URL, \
                             or remove the [[queues.consumers]] block and consume \"{inbound}\" \
                             yourself",
                            names(&queue_sources)
                        ),
                    );
                }
            }
        }
    }

    // Claim checks.
    let buckets = tables(w.get("r2_buckets"));
    match buckets
        .iter()
        .find(|(_, b)| str_of(b, "binding") == Some(BUCKET_BINDING))
    {
        None => r.warn(
            at("r2_buckets"),
            format!(
                "no R2 binding {BUCKET_BINDING}: webhooks whose envelope exceeds a queue message \
                 (128 KB) are refused with 413; add [[r2_buckets]] binding = \"{BUCKET_BINDING}\", \
                 bucket_name = \"hookline-bodies\"{not_inherited}"
            ),
        ),
        Some((i, b)) => {
            let bucket = str_of(b, "bucket_name");
            match (bucket, var(BUCKET_VAR)) {
                (_, None) => r.warn(
                    var_at(BUCKET_VAR),
                    format!(
                        "not set: claim checks are off and large bodies get 413; set it to the \
                         bucket_name of the {BUCKET_BINDING} binding"
                    ),
                ),
                (Some(bucket), Some(named)) if bucket != named => r.error(
                    var_at(BUCKET_VAR),
                    format!(
                        "names another bucket than the {BUCKET_BINDING} binding \
                         (r2_buckets[{i}].bucket_name = \"{bucket}\"): claim checks would point \
                         consumers at the wrong bucket; make them equal"
                    ),
                ),
                _ => {}
            }
        }
    }

    if !secrets.is_empty() {
        r.note(
            config_at,
            format!(
                "Worker secrets to set (`npx wrangler secret put NAME`; .dev.vars for wrangler \
                 dev): {}",
                names(&secrets)
            ),
        );
    }
    config
}

pub(super) fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

/// The shape the receiver's SQS client accepts (functions/receiver/src/sqs.rs), checked here
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
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
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
    fn wrangler_secret_set_as_plain_var() {
        let f = wrangler(&WRANGLER.replace("[vars]\n", "[vars]\nSTRIPE_WEBHOOK_SECRET = \"x\"\n"));
        expect(
            &f,
            Severity::Error,
            "vars.STRIPE_WEBHOOK_SECRET",
            "wrangler secret put STRIPE_WEBHOOK_SECRET",
        );
    }

    #[test]
    fn wrangler_aws_credentials_as_plain_var() {
        let f = wrangler(&WRANGLER.replace("[vars]\n", "[vars]\nAWS_SECRET_ACCESS_KEY = \"x\"\n"));
        expect(
            &f,
            Severity::Error,
            "vars.AWS_SECRET_ACCESS_KEY",
            "Worker secret",
        );
    }

    #[test]
    fn wrangler_var_that_looks_like_a_secret() {
        let f = wrangler(&WRANGLER.replace("[vars]\n", "[vars]\nSOMETHING = \"whsec_abcdef\"\n"));
        expect(
            &f,
            Severity::Error,
            "vars.SOMETHING",
            "looks like a signing secret",
        );
        assert!(!f.iter().any(|f| f.message.contains("whsec_abcdef")));
    }

    #[test]
    fn wrangler_unknown_hookline_var() {
        let f = wrangler(&WRANGLER.replace("[vars]\n", "[vars]\nHOOKLINE_SQS_QUEUE = \"x\"\n"));
        expect(
            &f,
            Severity::Warning,
            "vars.HOOKLINE_SQS_QUEUE",
            "did you mean HOOKLINE_SQS_QUEUE_URL",
        );
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
