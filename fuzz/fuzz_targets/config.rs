//! The config loader (TOML and JSON), validation and secret resolution: never a panic, and a
//! refused configuration always says why (unknown fields are collected across the whole tree).
#![no_main]

use hookline_core::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for loaded in [Config::from_toml(text), Config::from_json(text)] {
        match loaded {
            Ok(config) => {
                let _ = config.resolve_sources(|name| Some(format!("whsec_{name}AAAA")));
                for name in config.endpoints.keys() {
                    let _ = config.resolve_endpoint_secrets(name, |_| None);
                }
            }
            Err(errors) => assert!(!errors.0.is_empty(), "refused without a reason"),
        }
    }
});
