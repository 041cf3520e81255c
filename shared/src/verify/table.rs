//! The schemes hookline knows, one row each: everything the rest of hookline needs to know
//! about a scheme (its name, the headers it must never forward, its replay window, where its
//! event id and type are, the headers forwarded in envelopes, its handshake) next to the code
//! that verifies and signs it.
//!
//! Adding a scheme is a row here plus its verify/sign code (see `docs/contributing.md`):
//! configuration parsing, the CLI's `--scheme`, error messages listing valid names, header
//! forwarding and handshakes all read this table.

use std::time::Duration;

use super::{
    Code, DEFAULT_TOLERANCE, KeySource, SignFn, VerifyFn, discord, generic, hmac_schemes, standard,
    twilio,
};

/// Everything hookline knows about one scheme except its code, which the row names beside it
/// (see [`SchemeKind::verify_code`]).
#[derive(Debug)]
pub struct SchemeSpec {
    /// The name used in configuration files and on the command line.
    pub name: &'static str,
    /// Other names accepted for it.
    pub aliases: &'static [&'static str],
    /// Headers that carry signatures or credentials: never copied into envelopes or logs,
    /// even when `forward_headers` lists them.
    pub signature_headers: &'static [&'static str],
    /// The replay window the provider's own SDK applies; `None` when the provider signs no
    /// timestamp (for the generic scheme: unless it is configured with a timestamp header).
    pub tolerance: Option<Duration>,
    /// JSON pointer to the event id in the signed body; `None` when the provider signs no id
    /// there (the envelope id is then a digest of the signed content).
    pub id_pointer: Option<&'static str>,
    /// JSON pointer to the event type in the signed body; `None` when the provider signs none.
    pub type_pointer: Option<&'static str>,
    /// The provider's event headers copied into envelopes by default, besides
    /// [`COMMON_FORWARDED_HEADERS`].
    pub forward_headers: &'static [&'static str],
    /// The handshake the provider sends to a new endpoint, answered after verification.
    pub handshake: Option<Handshake>,
    /// What a signing secret looks like, when it is not the provider's secret as text (for
    /// `hookline sign`'s error messages).
    pub signing_secret: Option<&'static str>,
}

/// Headers every scheme forwards in envelopes by default.
pub const COMMON_FORWARDED_HEADERS: [&str; 2] = ["content-type", "user-agent"];

impl SchemeSpec {
    /// True when the provider signs a timestamp, so a replay window applies.
    pub fn signs_timestamp(&self) -> bool {
        self.tolerance.is_some()
    }

    /// The headers copied into envelopes by default, lower case.
    pub fn default_forward_headers(&self) -> impl Iterator<Item = &'static str> + use<> {
        COMMON_FORWARDED_HEADERS
            .into_iter()
            .chain(self.forward_headers.iter().copied())
    }
}

/// A provider's endpoint handshake (`hookline_core::inbound` answers it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handshake {
    /// Slack's `url_verification`: echo `challenge`.
    /// <https://docs.slack.dev/reference/events/url_verification>
    SlackUrlVerification,
    /// Discord's PING (`type` 1), answered with PONG (`type` 1).
    DiscordPing,
    /// Zoom's `endpoint.url_validation`: the HMAC of `plainToken` under the secret.
    /// <https://developers.zoom.us/docs/api/webhooks/#validate-your-webhook-endpoint>
    ZoomUrlValidation,
}

/// `kind`'s half of its row's [`Code`], picked by the const fn `pick` at compile time, so only
/// that half is in the binary.
macro_rules! code_half {
    ($kind_value:expr, $pick:path, $half:ty, $($kind:ident => $code:expr),+) => {
        match $kind_value {
            $(SchemeKind::$kind => {
                const HALF: $half = $pick($code);
                HALF
            })+
        }
    };
}

/// Declares the [`SchemeKind`] key enum, [`SchemeKind::ALL`] and [`SchemeKind::spec`] from one
/// list of rows, so a scheme cannot be in one and missing from another.
macro_rules! schemes {
    ($($(#[$doc:meta])* $kind:ident => ($row:expr, $code:expr),)+) => {
        /// The signature schemes hookline knows, without their parameters: the key of the
        /// scheme table ([`SchemeKind::spec`]).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum SchemeKind {
            $($(#[$doc])* $kind,)+
        }

        impl SchemeKind {
            /// Every scheme, in documentation order.
            pub const ALL: [SchemeKind; [$(stringify!($kind)),+].len()] =
                [$(SchemeKind::$kind),+];

            /// The scheme's row.
            pub fn spec(self) -> &'static SchemeSpec {
                match self {
                    $(SchemeKind::$kind => {
                        const ROW: SchemeSpec = $row;
                        &ROW
                    })+
                }
            }

            /// The row's code that verifies: how secrets become verifying keys, and the check.
            ///
            /// Kept apart from [`Self::sign_code`] (each takes only its half of the row's
            /// [`Code`], at compile time) so that a binary that only verifies, the receiver
            /// Worker, links no signing code: a table holding both halves cost its bundle
            /// about 10 KB of gzip.
            pub(crate) fn verify_code(self) -> (KeySource, VerifyFn) {
                code_half!(self, Code::verifying, (KeySource, VerifyFn), $($kind => $code),+)
            }

            /// The row's code that signs: how secrets become signing keys, and the signer.
            pub(crate) fn sign_code(self) -> (KeySource, SignFn) {
                code_half!(self, Code::signing, (KeySource, SignFn), $($kind => $code),+)
            }
        }
    };
}

schemes! {
    /// Standard Webhooks / Svix: `webhook-*` or `svix-*` headers, `v1` HMAC-SHA256, `v1a` Ed25519.
    StandardWebhooks => (SchemeSpec {
        name: "standard-webhooks",
        aliases: &["standard", "svix"],
        signature_headers: &["webhook-signature", "svix-signature"],
        tolerance: Some(DEFAULT_TOLERANCE),
        // The signed `webhook-id` is the id (see `Verified::signed_id`).
        id_pointer: None,
        type_pointer: Some("/type"),
        forward_headers: &["webhook-id", "webhook-timestamp"],
        handshake: None,
        signing_secret: Some(
            "Standard Webhooks secrets are `whsec_` followed by base64 (or a `whsk_` private key)",
        ),
    }, standard::CODE),
    /// Stripe: `Stripe-Signature: t=..,v1=..`.
    Stripe => (SchemeSpec {
        name: "stripe",
        aliases: &[],
        signature_headers: &["stripe-signature"],
        tolerance: Some(DEFAULT_TOLERANCE),
        id_pointer: Some("/id"),
        type_pointer: Some("/type"),
        forward_headers: &[],
        handshake: None,
        signing_secret: None,
    }, hmac_schemes::STRIPE),
    /// GitHub: `X-Hub-Signature-256: sha256=..`.
    Github => (SchemeSpec {
        name: "github",
        aliases: &[],
        signature_headers: &["x-hub-signature-256", "x-hub-signature"],
        tolerance: None,
        // `X-GitHub-Delivery` and `X-GitHub-Event` are unsigned headers: see `id_pointer`'s
        // rule in docs/security.md. They are forwarded, not trusted.
        id_pointer: None,
        type_pointer: None,
        forward_headers: &[
            "x-github-delivery",
            "x-github-event",
            "x-github-hook-id",
            "x-github-hook-installation-target-id",
            "x-github-hook-installation-target-type",
        ],
        handshake: None,
        signing_secret: None,
    }, hmac_schemes::GITHUB),
    /// Slack: `X-Slack-Signature: v0=..` over `v0:{ts}:{body}`.
    Slack => (SchemeSpec {
        name: "slack",
        aliases: &[],
        signature_headers: &["x-slack-signature"],
        tolerance: Some(DEFAULT_TOLERANCE),
        id_pointer: Some("/event_id"),
        type_pointer: Some("/event/type"),
        forward_headers: &[],
        handshake: Some(Handshake::SlackUrlVerification),
        signing_secret: None,
    }, hmac_schemes::SLACK),
    /// Shopify: `X-Shopify-Hmac-Sha256`, base64 HMAC of the body.
    Shopify => (SchemeSpec {
        name: "shopify",
        aliases: &[],
        signature_headers: &["x-shopify-hmac-sha256"],
        tolerance: None,
        // Shopify's ids and topic are unsigned headers: forwarded, not trusted.
        id_pointer: None,
        type_pointer: None,
        forward_headers: &[
            "x-shopify-api-version",
            "x-shopify-event-id",
            "x-shopify-shop-domain",
            "x-shopify-topic",
            "x-shopify-triggered-at",
            "x-shopify-webhook-id",
        ],
        handshake: None,
        signing_secret: None,
    }, hmac_schemes::SHOPIFY),
    /// Twilio: `X-Twilio-Signature`, HMAC-SHA1 over the URL and sorted form parameters.
    Twilio => (SchemeSpec {
        name: "twilio",
        aliases: &[],
        signature_headers: &["x-twilio-signature"],
        tolerance: None,
        id_pointer: None,
        type_pointer: None,
        forward_headers: &["i-twilio-idempotency-token"],
        handshake: None,
        signing_secret: None,
    }, twilio::CODE),
    /// Paddle Billing: `Paddle-Signature: ts=..;h1=..` over `{ts}:{body}`.
    Paddle => (SchemeSpec {
        name: "paddle",
        aliases: &[],
        signature_headers: &["paddle-signature"],
        // Paddle's SDK allows 5 s.
        tolerance: Some(Duration::from_secs(5)),
        id_pointer: Some("/event_id"),
        type_pointer: Some("/event_type"),
        forward_headers: &[],
        handshake: None,
        signing_secret: None,
    }, hmac_schemes::PADDLE),
    /// Zendesk: `X-Zendesk-Webhook-Signature` over `{timestamp}{body}`.
    Zendesk => (SchemeSpec {
        name: "zendesk",
        aliases: &[],
        signature_headers: &["x-zendesk-webhook-signature"],
        // Zendesk ships no verifier: Slack's 5 minutes.
        tolerance: Some(DEFAULT_TOLERANCE),
        id_pointer: Some("/id"),
        type_pointer: Some("/type"),
        forward_headers: &[],
        handshake: None,
        signing_secret: None,
    }, hmac_schemes::ZENDESK),
    /// Linear: `Linear-Signature`, hex HMAC of the body; `webhookTimestamp` in the body.
    Linear => (SchemeSpec {
        name: "linear",
        aliases: &[],
        signature_headers: &["linear-signature"],
        // Linear's SDK allows 60 s.
        tolerance: Some(Duration::from_secs(60)),
        // `Linear-Delivery` is unsigned, so the id is the body digest; the type is the body's
        // signed `type`, not the `Linear-Event` header that repeats it.
        id_pointer: None,
        type_pointer: Some("/type"),
        forward_headers: &["linear-delivery", "linear-event"],
        handshake: None,
        signing_secret: None,
    }, hmac_schemes::LINEAR),
    /// Intercom: `X-Hub-Signature: sha1=..`.
    Intercom => (SchemeSpec {
        name: "intercom",
        aliases: &[],
        signature_headers: &["x-hub-signature"],
        tolerance: None,
        id_pointer: Some("/id"),
        type_pointer: Some("/topic"),
        forward_headers: &[],
        handshake: None,
        signing_secret: None,
    }, hmac_schemes::INTERCOM),
    /// Discord interactions: Ed25519 over `{timestamp}{body}`.
    Discord => (SchemeSpec {
        name: "discord",
        aliases: &[],
        signature_headers: &["x-signature-ed25519"],
        tolerance: Some(DEFAULT_TOLERANCE),
        id_pointer: Some("/id"),
        type_pointer: Some("/type"),
        forward_headers: &[],
        handshake: Some(Handshake::DiscordPing),
        signing_secret: Some("Discord signing needs the 32-byte Ed25519 private seed, in hex"),
    }, discord::CODE),
    /// Zoom: `x-zm-signature: v0=..` over `v0:{ts}:{body}`, Slack's layout under Zoom's header
    /// names.
    Zoom => (SchemeSpec {
        name: "zoom",
        aliases: &[],
        // Zoom also still sends the deprecated verification token as `authorization`: a
        // credential that must not travel either, even when `forward_headers` lists it.
        signature_headers: &["x-zm-signature", "authorization"],
        // Zoom ships no verifier: Slack's 5 minutes.
        tolerance: Some(DEFAULT_TOLERANCE),
        // Zoom events carry `event` and `event_ts` but no id, and no header names the event.
        id_pointer: None,
        type_pointer: Some("/event"),
        forward_headers: &["x-zm-trackingid"],
        handshake: Some(Handshake::ZoomUrlValidation),
        signing_secret: None,
    }, hmac_schemes::ZOOM),
    /// A configurable HMAC scheme for everything else.
    Generic => (SchemeSpec {
        name: "generic",
        aliases: &[],
        // The configured signature header, which `config` adds.
        signature_headers: &[],
        // With a configured timestamp header: DEFAULT_TOLERANCE (see `Verifier::new`).
        tolerance: None,
        id_pointer: None,
        type_pointer: None,
        forward_headers: &[],
        handshake: None,
        signing_secret: None,
    }, generic::CODE),
}
