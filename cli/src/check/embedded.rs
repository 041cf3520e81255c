//! A hookline configuration embedded in a deploy file: `wrangler.toml`'s `HOOKLINE_CONFIG`
//! tables or JSON string, `template.yaml`'s JSON.

use hookline_core::config::{Config, DeliveryConfig, EndpointConfig, SourceConfig};
use toml::Table;

use super::report::{Report, redact};

/// The Worker's `HOOKLINE_CONFIG` written as TOML tables. Each source, endpoint and the
/// delivery table is read on its own, so a problem is reported with its path (the whole-table
/// error would not say where).
pub(super) fn config_from_tables(t: &Table, at: &str, r: &mut Report) -> Option<Config> {
    let mut config = Config::default();
    let mut readable = true;
    for (key, value) in t {
        let key_at = format!("{at}.{key}");
        match key.as_str() {
            "sources" | "endpoints" => {
                let Some(items) = value.as_table() else {
                    r.error(key_at, format!("must be a table of {key} by name"));
                    readable = false;
                    continue;
                };
                for (name, item) in items {
                    let item_at = format!("{key_at}.{name}");
                    let result = if key == "sources" {
                        item.clone()
                            .try_into::<SourceConfig>()
                            .map(|s| drop(config.sources.insert(name.clone(), s)))
                    } else {
                        item.clone()
                            .try_into::<EndpointConfig>()
                            .map(|e| drop(config.endpoints.insert(name.clone(), e)))
                    };
                    if let Err(e) = result {
                        r.error(item_at, redact(e.message()));
                        readable = false;
                    }
                }
            }
            "delivery" => match value.clone().try_into::<DeliveryConfig>() {
                Ok(d) => config.delivery = d,
                Err(e) => {
                    r.error(key_at, redact(e.message()));
                    readable = false;
                }
            },
            _ => {
                r.error(
                    key_at,
                    "unknown field, expected one of `sources`, `endpoints`, `delivery`",
                );
                readable = false;
            }
        }
    }
    if let Err(errors) = config.validate() {
        r.config_errors(at, &errors.0);
    }
    readable.then_some(config)
}

/// `HOOKLINE_CONFIG` (or the sender's `HOOKLINE_CONFIG`) written as a string of JSON.
pub(super) fn config_from_json(json: &str, at: &str, r: &mut Report) -> Option<Config> {
    match Config::from_json(json) {
        Ok(config) => Some(config),
        Err(errors) => {
            let parsed = serde_json::from_str::<Config>(json).ok();
            if parsed.is_none()
                && serde_json::from_str::<serde_json::Value>(json).is_err()
                && toml::from_str::<Table>(json).is_ok()
            {
                r.error(
                    at,
                    "a string of TOML: the receiver reads a string as JSON; write the \
                     configuration as [vars.HOOKLINE_CONFIG.sources.NAME] tables instead",
                );
            } else {
                r.config_errors(at, &errors.0);
            }
            parsed
        }
    }
}
