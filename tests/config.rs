//! The configuration suite: the documented examples load, and every kind of mistake is
//! reported at its exact path with a message that says what to do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;

use hookline_core::config::{Config, Destination, EndpointConfig, Format, SourcesConfig};
use hookline_core::headers::Headers;
use hookline_core::time::Timestamp;
use hookline_core::verify::{Request, SchemeKind};
use hookline_tests::sign_post;

/// Every ```toml block of docs/config.md, with the line it starts on.
fn doc_examples() -> Vec<(usize, String)> {
    let doc = include_str!("../docs/config.md");
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in doc.lines().enumerate() {
        match (&mut current, line.trim()) {
            (None, "```toml") => current = Some((i + 1, String::new())),
            (Some(_), "```") => out.push(current.take().unwrap()),
            (Some((_, text)), _) => {
                text.push_str(line);
                text.push('\n');
            }
            _ => {}
        }
    }
    out
}

/// A lookup that knows every variable the documentation mentions.
fn env(name: &str) -> Option<String> {
    Some(match name {
        n if n.contains("WHSEC") || n.starts_with("STANDARD") => {
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned()
        }
        "DISCORD_PUBLIC_KEY" => {
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a".to_owned()
        }
        n if n.ends_with("_URL") => "https://hooks.slack.com/services/T0/B0/X".to_owned(),
        _ => format!("secret-for-{name}"),
    })
}

#[test]
fn documented_examples_load_and_resolve() {
    let examples = doc_examples();
    assert!(examples.len() >= 4, "docs/config.md lost its examples");
    for (line, text) in examples {
        let config = Config::from_toml(&text)
            .unwrap_or_else(|e| panic!("docs/config.md:{line}: example does not load:\n{e}"));
        config
            .resolve_sources(env)
            .unwrap_or_else(|e| panic!("docs/config.md:{line}: secrets do not resolve:\n{e}"));
        for name in config.endpoints.keys() {
            config
                .resolve_endpoint_secrets(name, env)
                .unwrap_or_else(|e| panic!("docs/config.md:{line}: {e}"));
        }
    }
}

/// The problems of a config, as "path: message" lines.
fn problems(toml: &str) -> Vec<String> {
    match Config::from_toml(toml) {
        Ok(_) => Vec::new(),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

fn assert_problem(toml: &str, path: &str, needle: &str) {
    let all = problems(toml);
    assert!(
        all.iter()
            .any(|p| p.starts_with(&format!("{path}: ")) && p.contains(needle)),
        "expected a problem at {path} mentioning {needle:?}, got {all:#?}"
    );
}

#[test]
fn unknown_scheme_suggests_the_closest_name() {
    assert_problem(
        "[sources.pay]\nscheme = \"strpe\"\nsecrets = [\"env:S\"]\n",
        "sources.pay.scheme",
        "did you mean \"stripe\"",
    );
    assert_problem(
        "[sources.pay]\nscheme = \"nonsense\"\nsecrets = [\"env:S\"]\n",
        "sources.pay.scheme",
        "expected one of: standard-webhooks, stripe",
    );
}

#[test]
fn missing_secret_reference_is_reported() {
    assert_problem(
        "[sources.gh]\nscheme = \"github\"\n",
        "sources.gh.secrets",
        "at least one secret reference",
    );
    assert_problem(
        "[sources.gh]\nscheme = \"github\"\nsecrets = [\"GITHUB_SECRET\"]\n",
        "sources.gh.secrets[0]",
        "env:NAME",
    );
}

#[test]
fn a_secret_pasted_into_the_config_is_not_echoed() {
    let all = problems("[sources.gh]\nscheme = \"github\"\nsecrets = [\"ghs_s3cr3t_value\"]\n");
    assert!(!all.is_empty());
    assert!(all.iter().all(|p| !p.contains("s3cr3t")), "{all:?}");
}

#[test]
fn empty_secret_is_rejected_at_config_load() {
    let config = Config::from_toml(
        "[sources.gh]\nscheme = \"github\"\nsecrets = [\"env:GH\", \"env:GH_OLD\"]\n",
    )
    .unwrap();
    let vars: HashMap<&str, &str> = [("GH", "")].into();
    let err = config
        .resolve_sources(|n| vars.get(n).map(|v| (*v).to_owned()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("sources.gh.secrets[0]: environment variable or secret `GH` is empty"),
        "{err}"
    );
    assert!(
        err.contains("sources.gh.secrets[1]: environment variable or secret `GH_OLD` is not set"),
        "{err}"
    );
    // A literal empty secret, and a Standard Webhooks secret that decodes to nothing.
    assert_problem(
        "[sources.gh]\nscheme = \"github\"\nsecrets = [\"literal:\"]\n",
        "sources.gh.secrets[0]",
        "empty",
    );
    let sw = Config::from_toml(
        "[sources.sw]\nscheme = \"standard-webhooks\"\nsecrets = [\"literal:whsec_\"]\n",
    )
    .unwrap();
    let err = sw.resolve_sources(|_| None).unwrap_err().to_string();
    assert!(
        err.contains("sources.sw.secrets: secret #0 is empty"),
        "{err}"
    );
}

#[test]
fn bad_urls_are_reported() {
    for (url, needle) in [
        ("not a url", "not a valid URL"),
        ("ftp://example.com/x", "scheme \"ftp\" is not supported"),
        ("https://example.com/x#frag", "fragment"),
        ("/relative/path", "not a valid URL"),
        // No Unicode IDNA tables (idna_adapter 1.0): non-ASCII hosts are refused, with a hint.
        ("https://bücher.example/hook", "punycode, xn--"),
        ("https://例え.テスト/hook", "punycode, xn--"),
    ] {
        assert_problem(
            &format!("[endpoints.e]\nurl = \"{url}\"\nsecrets = [\"env:W\"]\n"),
            "endpoints.e.url",
            needle,
        );
    }
}

#[test]
fn an_internationalised_host_in_punycode_is_accepted() {
    let config = Config::from_toml(
        "[endpoints.e]\nurl = \"https://xn--bcher-kva.example/hook\"\nsecrets = [\"env:W\"]\n",
    )
    .unwrap();
    config.validate().unwrap();
}

#[test]
fn empty_event_filter_is_reported() {
    assert_problem(
        "[endpoints.e]\nurl = \"https://e.com\"\nsecrets = [\"env:W\"]\nevents = []\n",
        "endpoints.e.events",
        "matches nothing",
    );
    assert_problem(
        "[endpoints.e]\nurl = \"https://e.com\"\nsecrets = [\"env:W\"]\nevents = [\"ok.*\", \"bad pattern\"]\n",
        "endpoints.e.events[1]",
        "may not appear",
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let all = problems(
        r#"
[sources.a]
scheme = "strpe"
[sources.b]
scheme = "generic"
secrets = ["env:B"]
[endpoints.e]
url = "nope"
events = []
timeout = "5m"
"#,
    );
    let paths: Vec<&str> = all.iter().map(|p| p.split(": ").next().unwrap()).collect();
    for want in [
        "sources.a.scheme",
        "sources.a.secrets",
        "sources.b.generic",
        "endpoints.e.url",
        "endpoints.e.secrets",
        "endpoints.e.events",
        "endpoints.e.timeout",
    ] {
        assert!(paths.contains(&want), "{want} missing from {all:#?}");
    }
}

#[test]
fn syntax_errors_give_a_line_and_unknown_fields_a_path() {
    let all = problems("[sources.a]\nscheme = \"stripe\"\nsecret = [\"env:S\"]\n");
    assert!(
        all.iter().any(|p| p.starts_with(
            "sources.a.secret: unknown field `secret` (did you mean `secrets`?); expected one of `scheme`, `secrets`,"
        )),
        "{all:?}"
    );
    let all = problems("[sources.a\n");
    assert!(all[0].starts_with("line 1"), "{all:?}");
    // A value of the wrong type is reported where it is.
    let all = problems("[sources.a]\nscheme = \"stripe\"\nsecrets = 5\n");
    assert!(all[0].starts_with("line 3, column 11: "), "{all:?}");
}

#[test]
fn several_unknown_fields_and_a_validation_error_are_reported_in_one_pass() {
    // Before, loading stopped at the first unknown field: fixing a file took one run per typo.
    let toml = r#"
sourcs = {}
[sources.a]
scheme = "strpe"
secret = ["env:A"]
tolerence = "1m"
[sources.g]
scheme = "generic"
secrets = ["env:G"]
generic = { header = "X-Sig", signed_contnt = "{body}" }
[endpoints.e]
url = "nope"
secrets = ["env:E"]
retry = { schedul = ["1s"] }
[delivery]
timout = "5s"
"#;
    let json = r#"{"sourcs":{},"sources":{"a":{"scheme":"strpe","secret":["env:A"],"tolerence":"1m"},
        "g":{"scheme":"generic","secrets":["env:G"],"generic":{"header":"X-Sig","signed_contnt":"{body}"}}},
        "endpoints":{"e":{"url":"nope","secrets":["env:E"],"retry":{"schedul":["1s"]}}},
        "delivery":{"timout":"5s"}}"#;
    let from_json: Vec<String> = Config::from_json(json)
        .unwrap_err()
        .0
        .iter()
        .map(ToString::to_string)
        .collect();
    for all in [problems(toml), from_json] {
        for (path, needle) in [
            ("sourcs", "(did you mean `sources`?)"),
            ("sources.a.secret", "(did you mean `secrets`?)"),
            ("sources.a.tolerence", "(did you mean `tolerance`?)"),
            (
                "sources.g.generic.signed_contnt",
                "(did you mean `signed_content`?)",
            ),
            ("endpoints.e.retry.schedul", "(did you mean `schedule`?)"),
            ("delivery.timout", "(did you mean `timeout`?)"),
            // ...and the problems validation finds, in the same pass.
            ("sources.a.scheme", "did you mean \"stripe\""),
            ("sources.a.secrets", "at least one secret reference"),
            ("endpoints.e.url", "not a valid URL"),
        ] {
            assert!(
                all.iter()
                    .any(|p| p.starts_with(&format!("{path}: ")) && p.contains(needle)),
                "expected {path}: ..{needle}.. in {all:#?}"
            );
        }
        assert_eq!(all.len(), 9, "{all:#?}");
    }
}

#[test]
fn with_unknown_fields_every_entry_of_the_wrong_type_is_reported() {
    let all = problems(
        r#"
[sources.a]
scheme = "stripe"
secrets = ["env:A"]
colour = "blue"
[sources.b]
scheme = "stripe"
secrets = "whsec_TOPSECRETvalue"
[endpoints.e]
url = "https://e.com"
secrets = ["env:E"]
events = "invoice.paid"
"#,
    );
    for path in ["sources.a.colour", "sources.b", "endpoints.e"] {
        assert!(
            all.iter().any(|p| p.starts_with(&format!("{path}: "))),
            "{path} missing from {all:#?}"
        );
    }
    assert!(all.iter().all(|p| !p.contains("TOPSECRET")), "{all:?}");
}

#[test]
fn generic_parameters_are_checked() {
    assert_problem(
        "[sources.g]\nscheme = \"generic\"\nsecrets = [\"env:G\"]\ngeneric = { header = \"X-Sig\", signed_content = \"{timestamp}\" }\n",
        "sources.g.generic.signed_content",
        "must include {body}",
    );
    assert_problem(
        "[sources.g]\nscheme = \"generic\"\nsecrets = [\"env:G\"]\ngeneric = { header = \"X-Sig\", signed_content = \"{timestamp}.{body}\" }\n",
        "sources.g.generic.signed_content",
        "no timestamp_header",
    );
    assert_problem(
        "[sources.g]\nscheme = \"github\"\nsecrets = [\"env:G\"]\ngeneric = { header = \"X-Sig\" }\n",
        "sources.g.generic",
        "only the generic scheme",
    );
    let all = problems(
        "[sources.g]\nscheme = \"generic\"\nsecrets = [\"env:G\"]\ngeneric = { header = \"X-Sig\", signed_content = \"{bdy}\" }\n",
    );
    assert!(
        all.iter()
            .any(|p| p.contains("unknown placeholder `{bdy}`")),
        "{all:?}"
    );
}

#[test]
fn limits_are_enforced() {
    assert_problem(
        "[sources.s]\nscheme = \"stripe\"\nsecrets = [\"env:S\"]\ntolerance = \"2h\"\n",
        "sources.s.tolerance",
        "at most 1h",
    );
    assert_problem(
        "[sources.s]\nscheme = \"stripe\"\nsecrets = [\"env:S\"]\nmax_body_bytes = 0\n",
        "sources.s.max_body_bytes",
        "between 1 and",
    );
    assert_problem(
        "[endpoints.e]\nurl = \"https://e.com\"\nsecrets = [\"env:W\"]\nretry = { schedule = [\"13h\"] }\n",
        "endpoints.e.retry",
        "12h",
    );
    assert_problem(
        "[sources.Bad_Name]\nscheme = \"stripe\"\nsecrets = [\"env:S\"]\n",
        "sources.Bad_Name",
        "names must be",
    );
    assert_problem(
        "[endpoints.e]\nurl = \"https://e.com\"\nsecrets = [\"env:W\"]\nheaders = { webhook-signature = \"x\" }\n",
        "endpoints.e.headers.webhook-signature",
        "set by hookline",
    );
}

#[test]
fn relay_endpoints_must_exist() {
    assert_problem(
        r#"
[sources.s]
scheme = "stripe"
secrets = ["env:S"]
destination = "relay"
relay_endpoints = ["billing", "missing"]
[endpoints.billing]
url = "https://e.com"
secrets = ["env:W"]
"#,
        "sources.s.relay_endpoints[1]",
        "no endpoint named \"missing\"",
    );
}

#[test]
fn json_config_loads_like_toml() {
    let json =
        r#"{"sources":{"gh":{"scheme":"github","secrets":["env:GH"],"destination":"relay"}}}"#;
    let c = Config::from_json(json).unwrap();
    assert_eq!(c.sources["gh"].destination, Destination::Relay);
    let err = Config::from_json(r#"{"sources":{"gh":{"scheme":"gitlab"}}}"#).unwrap_err();
    assert!(
        err.to_string()
            .contains("sources.gh.scheme: unknown scheme \"gitlab\"")
    );
}

#[test]
fn resolved_source_verifies_what_the_provider_signs() {
    let config = Config::from_toml(
        "[sources.gh]\nscheme = \"github\"\nsecrets = [\"env:NEW\", \"env:OLD\"]\nforward_headers = [\"X-Request-Id\", \"X-Hub-Signature-256\"]\n",
    )
    .unwrap();
    let sources = config
        .resolve_sources(|n| Some(format!("secret-{n}")))
        .unwrap();
    let gh = &sources["gh"];
    assert_eq!(gh.verifier.scheme().kind(), SchemeKind::Github);
    // Defaults: no id from GitHub's unsigned delivery header (the body's digest is the id), no
    // type from its unsigned event header, never its signature header.
    assert_eq!(gh.event_id, None);
    assert_eq!(gh.event_type, None);
    assert!(gh.forward_headers.contains(&"x-request-id".to_owned()));
    assert!(
        !gh.forward_headers
            .iter()
            .any(|h| h.starts_with("x-hub-signature"))
    );
    // Signed with the *old* secret (mid-rotation): still verifies.
    let body = br#"{"zen":"Design for failure."}"#;
    let old = hookline_tests::signer(SchemeKind::Github, "secret-OLD");
    let url = "https://h.example/hooks/gh";
    let at = Timestamp::from_unix_secs(0);
    let headers: Headers = sign_post(&old, url, "", body, at).into_iter().collect();
    let req = Request {
        method: "POST",
        url,
        headers: &headers,
        body,
    };
    gh.verifier.verify(&req, at).unwrap();
}

#[test]
fn secrets_pasted_into_the_wrong_field_are_not_echoed() {
    for toml in [
        "[sources.s]\nscheme = \"stripe\"\nsecrets = \"whsec_TOPSECRETvalue\"\n",
        "[sources.s]\nscheme = \"stripe\"\nsecrets = [\"env:S\"]\ntolerance = \"whsec_TOPSECRETvalue\"\n",
        "[endpoints.e]\nurl = \"https//hooks.slack.com/services/TOPSECRETvalue\"\nsecrets = [\"env:W\"]\n",
    ] {
        let all = problems(toml);
        assert!(!all.is_empty(), "{toml}");
        assert!(all.iter().all(|p| !p.contains("TOPSECRET")), "{all:?}");
    }
    let all: Vec<String> = Config::from_json(
        r#"{"sources":{"s":{"scheme":"stripe","secrets":"whsec_TOPSECRETvalue"}}}"#,
    )
    .unwrap_err()
    .0
    .iter()
    .map(ToString::to_string)
    .collect();
    assert!(all.iter().all(|p| !p.contains("TOPSECRET")), "{all:?}");
}

#[test]
fn debug_output_hides_literal_secrets_and_endpoint_urls() {
    let config = Config::from_toml(
        "[sources.s]\nscheme = \"github\"\nsecrets = [\"literal:TOPSECRET1\", \"env:GH\"]\n\
         [endpoints.slack]\nurl = \"https://hooks.slack.com/services/TOPSECRET2\"\nformat = \"slack\"\n",
    )
    .unwrap();
    let debug = format!("{config:?}");
    assert!(!debug.contains("TOPSECRET"), "{debug}");
    assert!(
        debug.contains("env:GH"),
        "env references are not secret: {debug}"
    );
}

#[test]
fn generic_signature_header_is_never_forwarded() {
    let config = Config::from_toml(
        "[sources.g]\nscheme = \"generic\"\nsecrets = [\"env:G\"]\nforward_headers = [\"X-Sig\", \"X-Request-Id\"]\ngeneric = { header = \"X-Sig\" }\n",
    )
    .unwrap();
    let g = &config.resolve_sources(|_| Some("k".into())).unwrap()["g"];
    assert!(g.forward_headers.contains(&"x-request-id".to_owned()));
    assert!(
        !g.forward_headers.contains(&"x-sig".to_owned()),
        "{:?}",
        g.forward_headers
    );
}

#[test]
fn an_endpoint_template_is_parsed_with_its_format() {
    let endpoint = |extra: &str| {
        format!("[endpoints.e]\nurl = \"https://e.com\"\nsecrets = [\"env:E\"]\n{extra}")
    };
    let config = Config::from_toml(&endpoint(
        "format = \"template\"\ntemplate = '{\"t\": {{type}}}'\n",
    ))
    .unwrap();
    match &config.endpoints["e"].format {
        Format::Template(t) => assert_eq!(t.as_str(), "{\"t\": {{type}}}"),
        other => panic!("{other:?}"),
    }
    // It is written back as the two keys it was read from.
    let json = serde_json::to_value(&config.endpoints["e"]).unwrap();
    assert_eq!(json["format"], "template");
    assert_eq!(json["template"], "{\"t\": {{type}}}");
    assert_eq!(
        serde_json::from_value::<EndpointConfig>(json).unwrap(),
        config.endpoints["e"]
    );

    for (extra, needle) in [
        (
            "format = \"template\"\n",
            "format = 'template' needs a template",
        ),
        (
            "template = '{{type}}'\n",
            "a template is only used with format = 'template'",
        ),
        (
            "format = \"raw\"\ntemplate = '{{type}}'\n",
            "a template is only used with format = 'template'",
        ),
        (
            "format = \"template\"\ntemplate = '{{ nope }}'\n",
            "at byte 3: unknown placeholder `nope`",
        ),
    ] {
        let all = problems(&endpoint(extra));
        assert!(
            all.len() == 1 && all[0].starts_with("line ") && all[0].contains(needle),
            "{extra}: expected {needle:?} in {all:#?}"
        );
    }
}

/// The receiver Worker reads configurations through `SourcesConfig`: the same sources as
/// `Config`, for every documented example.
#[test]
fn the_worker_reads_the_same_sources_from_every_documented_example() {
    for (line, text) in doc_examples() {
        let config = Config::from_toml(&text).unwrap();
        let json = serde_json::to_string(&config).unwrap();
        let view = SourcesConfig::from_json(&json)
            .unwrap_or_else(|e| panic!("docs/config.md:{line}: the Worker refuses it:\n{e}"));
        assert_eq!(view.sources, config.sources, "docs/config.md:{line}");
        let a = view.resolve_sources(env).unwrap();
        let b = config.resolve_sources(env).unwrap();
        assert_eq!(
            a.keys().collect::<Vec<_>>(),
            b.keys().collect::<Vec<_>>(),
            "docs/config.md:{line}"
        );
    }
}

/// The Worker checks its sources as `Config` does (names, schemes, relay endpoint names), refuses
/// unknown top-level and source fields, and leaves the sender's and the API's sections unread.
#[test]
fn the_worker_checks_sources_and_leaves_the_other_sections_to_their_readers() {
    let relay = r#"{"sources":{"s":{"scheme":"stripe","secrets":["env:S"],"destination":"relay","relay_endpoints":["billing","missing"]}},
                   "endpoints":{"billing":{"url":"https://e.com","secrets":["env:W"]}}}"#;
    let e = SourcesConfig::from_json(relay).unwrap_err().to_string();
    assert!(
        e.contains("sources.s.relay_endpoints[1]: no endpoint named \"missing\""),
        "{e}"
    );
    let e = SourcesConfig::from_json(r#"{"sources":{"gh":{"scheme":"gitlab"}}}"#)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("sources.gh.scheme: unknown scheme \"gitlab\""),
        "{e}"
    );
    for bad in [
        r#"{"sourcez":{}}"#,
        r#"{"sources":{"gh":{"scheme":"github","secrets":["env:GH"],"secret":"x"}}}"#,
    ] {
        let e = SourcesConfig::from_json(bad).unwrap_err().to_string();
        assert!(e.contains("unknown field"), "{bad}: {e}");
    }
    // A value is never echoed back in an error.
    let e = SourcesConfig::from_json(
        r#"{"sources":{"gh":{"scheme":"github","secrets":"whsec_leak"}}}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(!e.contains("whsec_leak"), "{e}");
    // `[delivery]` and `[api]` are the sender's and the API's: Config refuses this one, the
    // Worker reads its sources.
    let other = r#"{"sources":{"gh":{"scheme":"github","secrets":["env:GH"]}},
                    "delivery":{"timeout":"forever"},"api":{"retention":"1s"}}"#;
    assert!(Config::from_json(other).is_err());
    let view = SourcesConfig::from_json(other).unwrap();
    assert_eq!(view.sources.len(), 1);
}

#[test]
fn portal_origins_are_checked_and_unknown_fields_named() {
    assert_problem(
        "[api.portal]\nframe_ancestors = [\"https://ok.example.com\", \"https://a.com; script-src *\"]\n",
        "api.portal.frame_ancestors[1]",
        "host",
    );
    assert_problem(
        "[api.portal]\nframe_ancestors = [\"http://app.example.com\"]\n",
        "api.portal.frame_ancestors[0]",
        "https",
    );
    assert_problem(
        "[api.portal]\nurl = \"https://hooks.example.com/prefix\"\n",
        "api.portal.url",
        "no path",
    );
    assert_problem(
        "[api.portal]\nframe_ancestor = [\"https://a.com\"]\n",
        "api.portal.frame_ancestor",
        "did you mean `frame_ancestors`",
    );
    // An API token of a portal link's form would be read as one, and never match.
    let c = Config::from_toml("[[api.tokens]]\nsecret = \"env:T\"\n").unwrap();
    let e = c
        .api
        .resolve_tokens(|_| Some("hlp_4102444800_WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa".to_owned()))
        .unwrap_err();
    assert!(e.to_string().contains("api.tokens[0].secret"), "{e}");
    assert!(
        !e.to_string().contains("Wlpa"),
        "the value is not echoed: {e}"
    );
    assert!(
        c.api
            .resolve_tokens(|_| Some("hlp_not_a_portal_form".to_owned()))
            .is_ok()
    );
    let ok = "[api.portal]\nurl = \"https://hooks.example.com\"\nframe_ancestors = [\"https://app.example.com\", \"https://*.example.org\"]\n";
    assert_eq!(problems(ok), Vec::<String>::new());
}
