//! Checks across files: what one file names, another must have.

use hookline_core::config::{Config, Destination};
use hookline_core::contract::CONFIG_VAR;

use super::Finding;
use super::report::{Report, join};
use super::secrets::{endpoint_refs, env_name};
use super::template::SenderFacts;
use super::wrangler::WorkerFacts;

pub(super) struct Cross<'a> {
    pub(super) local: Option<(&'a str, &'a Config)>,
    pub(super) worker: Option<(&'a str, &'a WorkerFacts)>,
    pub(super) sender: Option<(&'a str, &'a SenderFacts)>,
}

impl Cross<'_> {
    pub(super) fn check(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        self.relay_endpoints(&mut out);
        self.same_sources(&mut out);
        self.sender_env(&mut out);
        self.api_env(&mut out);
        self.max_receive(&mut out);
        out
    }

    /// The configuration the sender runs with: the template's own, or hookline.toml's
    /// endpoints (from which ConfigJson is made, docs/sender.md).
    fn sender_config(&self) -> Option<(String, &Config)> {
        if let Some((name, facts)) = self.sender
            && let Some(c) = &facts.config
        {
            return Some((format!("{name}'s HOOKLINE_CONFIG"), c));
        }
        self.local
            .filter(|(_, c)| !c.endpoints.is_empty())
            .map(|(name, c)| (format!("{name} [endpoints]"), c))
    }

    /// Relay sources name endpoints that the sender has.
    fn relay_endpoints(&self, out: &mut Vec<Finding>) {
        let mut configs: Vec<(&str, String, &Config)> = Vec::new();
        if let Some((file, w)) = self.worker {
            if let Some(c) = &w.config {
                configs.push((file, format!("vars.{CONFIG_VAR}"), c));
            }
            for (prefix, c) in &w.env_configs {
                configs.push((file, prefix.clone(), c));
            }
        }
        // hookline.toml checks its own endpoints; against the template's only when it has one.
        if let (Some((file, c)), Some((_, s))) = (self.local, self.sender)
            && s.config.is_some()
        {
            configs.push((file, String::new(), c));
        }
        let sender = self.sender_config();
        for (file, prefix, config) in configs {
            let mut r = Report::new(file);
            for (name, source) in &config.sources {
                if source.destination != Destination::Relay || source.relay_endpoints.is_empty() {
                    continue;
                }
                let at = join(&prefix, &format!("sources.{name}.relay_endpoints"));
                match &sender {
                    None => r.note(
                        at,
                        "the sender's configuration is set at deploy time (no hookline.toml \
                         endpoints, and template.yaml's HOOKLINE_CONFIG is a parameter): these \
                         endpoint names were not checked",
                    ),
                    Some((from, s)) => {
                        for (i, e) in source.relay_endpoints.iter().enumerate() {
                            if !s.endpoints.contains_key(e) {
                                r.error(
                                    format!("{at}[{i}]"),
                                    format!(
                                        "no endpoint named \"{e}\" in the sender's configuration \
                                         ({from}): relayed events for it would be dead-lettered \
                                         as unknown_endpoint; add [endpoints.{e}] or fix the name"
                                    ),
                                );
                            }
                        }
                    }
                }
            }
            out.append(&mut r.findings);
        }
    }

    /// The Worker's sources and hookline.toml's match (warnings: dev and prod may differ).
    fn same_sources(&self, out: &mut Vec<Finding>) {
        let (Some((local_file, local)), Some((worker_file, w))) = (self.local, self.worker) else {
            return;
        };
        let Some(worker) = &w.config else {
            return;
        };
        // A hookline.toml without sources is a sender-only configuration (docs/sender.md).
        if local.sources.is_empty() {
            return;
        }
        let mut r = Report::new(worker_file);
        let mut l = Report::new(local_file);
        for (name, s) in &worker.sources {
            let at = format!("vars.{CONFIG_VAR}.sources.{name}");
            match local.sources.get(name) {
                None => r.warn(
                    at,
                    format!("not in {local_file}: `hookline dev` does not serve this source"),
                ),
                Some(ls) => {
                    if ls.scheme != s.scheme {
                        r.warn(
                            format!("{at}.scheme"),
                            format!(
                                "\"{}\" here but \"{}\" in {local_file}: the same provider should \
                                 verify the same way in both",
                                s.scheme, ls.scheme
                            ),
                        );
                    }
                    if ls.destination != s.destination {
                        r.warn(
                            format!("{at}.destination"),
                            format!(
                                "{} here but {} in {local_file}",
                                destination(s.destination),
                                destination(ls.destination)
                            ),
                        );
                    }
                }
            }
        }
        for name in local.sources.keys() {
            if !worker.sources.contains_key(name) {
                l.warn(
                    format!("sources.{name}"),
                    format!("not in {worker_file}'s {CONFIG_VAR}: the deployed Worker answers 404 unknown_source"),
                );
            }
        }
        out.append(&mut l.findings);
        out.append(&mut r.findings);
    }

    /// hookline.toml's endpoint secrets are variables of the sender function (when the
    /// template's configuration is a deploy-time parameter made from hookline.toml).
    fn sender_env(&self, out: &mut Vec<Finding>) {
        let (Some((local_file, local)), Some((file, s))) = (self.local, self.sender) else {
            return;
        };
        let (None, Some(vars), Some(function)) = (&s.config, &s.env_vars, &s.function) else {
            return;
        };
        let mut r = Report::new(file);
        for (path, reference) in endpoint_refs(local) {
            if let Some(name) = env_name(&reference)
                && !vars.contains(name)
            {
                r.warn(
                    format!("{function}.Properties.Environment.Variables"),
                    format!(
                        "has no {name}, which {local_file}'s {path} reads: a sender deployed \
                         with this configuration refuses to start; add {name} as a Secrets \
                         Manager dynamic reference (docs/sender.md#secrets)"
                    ),
                );
            }
        }
        out.append(&mut r.findings);
    }

    /// hookline.toml's `[api]` tokens are variables of the API function (when the template's
    /// configuration is a deploy-time parameter made from hookline.toml).
    fn api_env(&self, out: &mut Vec<Finding>) {
        let (Some((local_file, local)), Some((file, s))) = (self.local, self.sender) else {
            return;
        };
        let Some(api) = &s.api else {
            return;
        };
        let (false, Some(vars)) = (api.literal_config, &api.env_vars) else {
            return;
        };
        let mut r = Report::new(file);
        for (i, t) in local.api.tokens.iter().enumerate() {
            if let Some(name) = env_name(&t.secret)
                && !vars.iter().any(|v| v == name)
            {
                r.warn(
                    format!("{}.Properties.Environment.Variables", api.function),
                    format!(
                        "has no {name}, which {local_file}'s api.tokens[{i}] reads: an API \
                         deployed with this configuration refuses to start; add {name} as a \
                         Secrets Manager dynamic reference (like API_TOKEN)"
                    ),
                );
            }
        }
        out.append(&mut r.findings);
    }

    /// SQS's redrive must not cut hookline's own retries short.
    fn max_receive(&self, out: &mut Vec<Finding>) {
        let Some((file, s)) = self.sender else {
            return;
        };
        let (Some((at, receives)), Some((from, config))) = (&s.max_receive, self.sender_config())
        else {
            return;
        };
        let mut r = Report::new(file);
        let policies = std::iter::once(("[delivery].retry".to_owned(), &config.delivery.retry))
            .chain(config.endpoints.iter().filter_map(|(name, e)| {
                e.retry
                    .as_ref()
                    .map(|p| (format!("endpoints.{name}.retry"), p))
            }));
        if let Some((which, attempts)) = policies
            .map(|(which, p)| (which, u64::from(p.max_attempts())))
            .max_by_key(|(_, a)| *a)
            && *receives <= attempts
        {
            r.warn(
                at.as_str(),
                format!(
                    "{receives} (with default parameters), but {which} in {from} makes \
                     {attempts} attempts: SQS would dead-letter deliveries before hookline's \
                     retries are done, without hookline's attributes; make it larger than \
                     {attempts} (MaxReceiveCount)"
                ),
            );
        }
        out.append(&mut r.findings);
    }
}

pub(super) fn destination(d: Destination) -> &'static str {
    match d {
        Destination::Queue => "destination = \"queue\"",
        Destination::Relay => "destination = \"relay\"",
    }
}

#[cfg(test)]
mod tests {
    use crate::check::test_support::*;

    #[test]
    fn relay_endpoints_must_exist_in_the_senders_configuration() {
        let w = WRANGLER.replace(
            "scheme = \"stripe\"",
            "scheme = \"stripe\"\ndestination = \"relay\"\nrelay_endpoints = [\"billing\", \"biling\"]",
        );
        let f = run_check(Some(CONFIG), Some(&w), Some(TEMPLATE));
        expect(
            &f,
            Severity::Error,
            "vars.HOOKLINE_CONFIG.sources.stripe.relay_endpoints[1]",
            "no endpoint named \"biling\"",
        );
        assert!(!f.iter().any(|f| f.path.ends_with("relay_endpoints[0]")));
        // Without a known sender configuration, a note.
        let f = run_check(None, Some(&w), Some(TEMPLATE));
        expect(
            &f,
            Severity::Note,
            "vars.HOOKLINE_CONFIG.sources.stripe.relay_endpoints",
            "not checked",
        );
    }

    #[test]
    fn relay_endpoints_checked_against_the_templates_literal_config() {
        let t = TEMPLATE.replace(
            "HOOKLINE_CONFIG: !Ref ConfigJson",
            r#"HOOKLINE_CONFIG: '{"endpoints":{"other":{"url":"https://o.example","secrets":["env:O"]}}}'
          O: "{{resolve:secretsmanager:s:SecretString:O}}""#,
        );
        let w = WRANGLER.replace(
            "scheme = \"stripe\"",
            "scheme = \"stripe\"\ndestination = \"relay\"\nrelay_endpoints = [\"billing\"]",
        );
        let f = run_check(Some(CONFIG), Some(&w), Some(&t));
        expect(
            &f,
            Severity::Error,
            "vars.HOOKLINE_CONFIG.sources.stripe.relay_endpoints[0]",
            "template.yaml's HOOKLINE_CONFIG",
        );
    }

    #[test]
    fn sources_differ_between_hookline_toml_and_wrangler() {
        let c = CONFIG.replace("scheme = \"stripe\"", "scheme = \"github\"")
            + "\n[sources.local]\nscheme = \"github\"\nsecrets = [\"env:L\"]\n";
        let w = WRANGLER.to_owned()
            + "\n[vars.HOOKLINE_CONFIG.sources.prod]\nscheme = \"github\"\nsecrets = [\"env:P\"]\n";
        let f = run_check(Some(&c), Some(&w), None);
        expect(
            &f,
            Severity::Warning,
            "vars.HOOKLINE_CONFIG.sources.stripe.scheme",
            "\"stripe\" here but \"github\"",
        );
        expect(
            &f,
            Severity::Warning,
            "vars.HOOKLINE_CONFIG.sources.prod",
            "not in hookline.toml",
        );
        let local = f.iter().find(|f| f.path == "sources.local").unwrap();
        assert_eq!(
            (local.file.as_str(), local.severity),
            ("hookline.toml", Severity::Warning)
        );
        no_errors(&f);
    }

    #[test]
    fn hookline_toml_endpoint_secrets_need_template_variables() {
        let c = CONFIG.replace("env:BILLING_WHSEC", "env:AUDIT_WHSEC");
        let f = run_check(Some(&c), None, Some(TEMPLATE));
        expect(
            &f,
            Severity::Warning,
            "Resources.Sender.Properties.Environment.Variables",
            "has no AUDIT_WHSEC",
        );
    }

    #[test]
    fn hookline_toml_api_tokens_need_api_function_variables() {
        let api = r#"  Api:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: hookline-api-lambda
    Properties:
      Runtime: provided.al2023
      Architectures: [arm64]
      Environment:
        Variables:
          HOOKLINE_CONFIG: !Ref ConfigJson
          HOOKLINE_QUEUE_URL: !Ref Queue
          HOOKLINE_TABLE: !Ref Table
          OPS_TOKEN: "{{resolve:secretsmanager:s:SecretString:OPS_TOKEN}}"
"#;
        let config = CONFIG.to_owned()
            + "\n[[api.tokens]]\nsecret = \"env:OPS_TOKEN\"\n\n[[api.tokens]]\nsecret = \"env:APP_TOKEN\"\napp = \"billing\"\n";
        let f = run_check(Some(&config), None, Some(&(TEMPLATE.to_owned() + api)));
        expect(
            &f,
            Severity::Warning,
            "Resources.Api.Properties.Environment.Variables",
            "api.tokens[1] reads",
        );
        assert!(
            !f.iter().any(|f| f.message.contains("api.tokens[0]")),
            "{f:#?}"
        );
    }

    #[test]
    fn max_receive_count_must_exceed_retry_attempts() {
        let c = CONFIG.to_owned()
            + "\n[delivery]\nretry = { schedule = [\"1s\",\"1s\",\"1s\",\"1s\",\"1s\",\"1s\",\"1s\",\"1s\",\"1s\",\"1s\"] }\n";
        let f = run_check(Some(&c), None, Some(TEMPLATE));
        expect(
            &f,
            Severity::Warning,
            "Resources.Queue.Properties.RedrivePolicy.maxReceiveCount",
            "makes 11 attempts",
        );
    }
}
