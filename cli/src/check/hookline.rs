//! `hookline.toml`, the configuration `hookline dev` runs and deployed configurations are made
//! from.

use std::collections::BTreeSet;

use hookline_core::config::Config;

use super::Lookup;
use super::report::{Report, names};
use super::secrets::{api_token_refs, endpoint_refs, env_name, is_literal, source_refs};

/// `hookline.toml`: parses and validates, lists the `env:` secrets it needs (resolving them with
/// `--env`). Returns the configuration when it could be read, even with validation errors, for
/// the cross-file checks.
pub(super) fn check_hookline(
    text: &str,
    env: Option<Lookup<'_>>,
    r: &mut Report,
) -> Option<Config> {
    let config = match Config::from_toml(text) {
        Ok(config) => Some(config),
        Err(errors) => {
            r.config_errors("", &errors.0);
            toml::from_str::<Config>(text).ok()
        }
    };
    let config = config?;
    let refs: Vec<(String, String)> = source_refs(&config)
        .into_iter()
        .chain(endpoint_refs(&config))
        .chain(api_token_refs(&config))
        .collect();
    let mut needed = BTreeSet::new();
    for (path, reference) in &refs {
        if is_literal(reference) {
            r.note(
                path.as_str(),
                "a literal secret: fine for `hookline dev`, but it is copied into any \
                 configuration made from this file (the sender's ConfigJson): use env:NAME for \
                 anything deployed",
            );
        }
        let Some(name) = env_name(reference) else {
            continue;
        };
        match env {
            Some(lookup) => match lookup(name) {
                Some(v) if !v.is_empty() => {}
                Some(_) => r.warn(
                    path.as_str(),
                    format!("environment variable {name} is set but empty; set it to the secret"),
                ),
                None => r.warn(
                    path.as_str(),
                    format!(
                        "environment variable {name} is not set; `hookline dev` will refuse to \
                         start until it is (export {name}=...)"
                    ),
                ),
            },
            None => {
                needed.insert(name.to_owned());
            }
        }
    }
    if !needed.is_empty() {
        r.note(
            "",
            format!(
                "needs these environment variables at runtime: {} (check them with \
                 `hookline check --env`)",
                names(&needed)
            ),
        );
    }
    Some(config)
}

#[cfg(test)]
mod tests {
    use crate::check::test_support::*;

    #[test]
    fn config_syntax_error_has_a_line() {
        let f = run_check(Some("[sources.x\nscheme = 1"), None, None);
        assert!(errors(&f)[0].path.starts_with("line 1"), "{f:#?}");
    }

    #[test]
    fn config_validation_errors_have_paths() {
        let f = run_check(Some(&CONFIG.replace("\"stripe\"", "\"strpe\"")), None, None);
        expect(
            &f,
            Severity::Error,
            "sources.stripe.scheme",
            "did you mean \"stripe\"",
        );
    }

    #[test]
    fn config_env_secrets_are_listed_and_resolved_with_env() {
        let f = run_check(Some(CONFIG), None, None);
        expect(
            &f,
            Severity::Note,
            "",
            "BILLING_WHSEC, STRIPE_WEBHOOK_SECRET",
        );
        let inputs = Inputs {
            config: Some(Input {
                name: "hookline.toml",
                text: CONFIG,
            }),
            ..Inputs::default()
        };
        let lookup = |name: &str| (name == "BILLING_WHSEC").then(|| "whsec_x".to_owned());
        let f = check(&inputs, Some(&lookup));
        expect(
            &f,
            Severity::Warning,
            "sources.stripe.secrets[0]",
            "STRIPE_WEBHOOK_SECRET is not set",
        );
        assert!(
            !f.iter().any(|f| f.path.starts_with("endpoints.billing")),
            "{f:#?}"
        );
    }

    #[test]
    fn api_tokens_are_secret_references_like_the_others() {
        let config = format!(
            "{CONFIG}\n[api]\ntokens = [{{ secret = \"env:HOOKLINE_API_TOKEN\" }}, {{ secret = \"literal:tok\", app = \"acme\" }}]\n"
        );
        let inputs = Inputs {
            config: Some(Input {
                name: "hookline.toml",
                text: &config,
            }),
            ..Inputs::default()
        };
        let lookup = |_: &str| None;
        let f = check(&inputs, Some(&lookup));
        expect(
            &f,
            Severity::Warning,
            "api.tokens[0].secret",
            "HOOKLINE_API_TOKEN is not set",
        );
        expect(&f, Severity::Note, "api.tokens[1].secret", "hookline dev");
        assert!(!f.iter().any(|f| f.message.contains("literal:tok")));
    }

    #[test]
    fn config_literal_secret_is_a_note_for_local_development() {
        let f = run_check(
            Some(&CONFIG.replace("env:BILLING_WHSEC", "literal:whsec_x")),
            None,
            None,
        );
        expect(
            &f,
            Severity::Note,
            "endpoints.billing.secrets[0]",
            "hookline dev",
        );
        assert!(!f.iter().any(|f| f.message.contains("whsec_x")));
    }
}
