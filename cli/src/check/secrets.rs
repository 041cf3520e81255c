//! Secret references in a configuration, and values that look like secrets.

use hookline_core::config::Config;
use hookline_core::secret::SecretRef;

use super::report::{Report, join};

/// Every secret reference in a configuration's sources (what a Worker reads).
pub(super) fn source_refs(config: &Config) -> Vec<(String, String)> {
    config
        .sources
        .iter()
        .flat_map(|(name, s)| {
            s.secrets
                .iter()
                .enumerate()
                .map(move |(i, r)| (format!("sources.{name}.secrets[{i}]"), r.clone()))
        })
        .collect()
}

/// Every secret reference in a configuration's endpoints (what the sender reads), `env:` URLs
/// included.
pub(super) fn endpoint_refs(config: &Config) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, e) in &config.endpoints {
        if e.url.starts_with("env:") {
            out.push((format!("endpoints.{name}.url"), e.url.clone()));
        }
        for (i, r) in e.secrets.iter().enumerate() {
            out.push((format!("endpoints.{name}.secrets[{i}]"), r.clone()));
        }
    }
    out
}

/// Every secret reference of the management API's tokens (what the API function reads).
pub(super) fn api_token_refs(config: &Config) -> Vec<(String, String)> {
    config
        .api
        .tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("api.tokens[{i}].secret"), t.secret.clone()))
        .collect()
}

pub(super) fn env_name(reference: &str) -> Option<&str> {
    match reference.parse::<SecretRef>() {
        Ok(SecretRef::Env(_)) => reference.strip_prefix("env:"),
        _ => None,
    }
}

pub(super) fn is_literal(reference: &str) -> bool {
    reference.starts_with("literal:")
}

pub(super) const LITERAL_IN_DEPLOYABLE: &str = "a literal secret in a deployed file: literal: is for local \
    development only (the value would sit in version control and in the deployment's settings)";

/// Flags `literal:` secrets in a configuration that is deployed.
pub(super) fn literal_secrets(r: &mut Report, prefix: &str, config: &Config, fix: &str) {
    for (path, reference) in source_refs(config)
        .into_iter()
        .chain(endpoint_refs(config))
        .chain(api_token_refs(config))
    {
        if is_literal(&reference) {
            r.error(
                join(prefix, &path),
                format!("{LITERAL_IN_DEPLOYABLE}; write \"env:NAME\" and {fix}"),
            );
        }
    }
}

pub(super) fn looks_like_secret(value: &str) -> bool {
    ["whsec_", "whpk_", "sk_live_", "sk_test_"]
        .iter()
        .any(|p| value.starts_with(p))
}
