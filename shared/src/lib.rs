//! # hookline-core
//!
//! The pure core shared by every hookline deployable: the Cloudflare Worker receiver, the AWS
//! Lambda sender and the `hookline` CLI.
//!
//! It does no I/O, never reads the clock and never draws random numbers: callers pass the current
//! [`time::Timestamp`] and any jitter in. That keeps every decision (is this signature fresh? when
//! is the next retry?) deterministic and testable to the second, and lets the crate build for
//! `wasm32-unknown-unknown`, where `SystemTime::now()` panics.
//!
//! | module | what it holds |
//! |---|---|
//! | [`api`] | the management API (Svix v1): records, request bodies, URL rules, ids, token scopes |
//! | [`verify`] | webhook signature schemes: verify and sign (Standard Webhooks, Stripe, GitHub, ...) |
//! | [`secret`] | the [`secret::Secret`] newtype and secret references |
//! | [`headers`] | a small case-insensitive header list that detects duplicates |
//! | [`contract`] | the deploy contract: env var, secret and binding names, deployment limits |
//! | [`config`] | sources and endpoints, their validation with exact error locations |
//! | [`inbound`] | the receiver's routing, checks, handshakes and envelope for one request |
//! | [`route`] | where a verified event goes: queue, body, attributes, deduplication key |
//! | [`lazy_json`] | a JSON body validated without building its tree, read with JSON pointers |
//! | [`envelope`] | the inbound envelope and the outbound message formats |
//! | [`fanout`] | the sender's fan-out plan: which endpoints take an outbound message, and why not |
//! | [`render`] | the body of an outbound delivery (Standard Webhooks, raw, Slack, Discord, templates) |
//! | [`filter`] | endpoint filter expressions over an event's payload |
//! | [`retry`] | the delivery retry policy and `Retry-After` parsing |
//! | [`ssrf`] | the address classifier behind the outbound SSRF guard |
//! | [`pattern`] | event-type patterns such as `invoice.*` |
//! | [`time`] | timestamps and the date formats webhooks use (RFC 3339, HTTP dates) |
//!
//! The crate has no feature flags.

/// For a type parsed from text that keeps its text: `Debug` as `Name("text")`, `Display` as the
/// text, and serde as a string (deserialising through `FromStr`, so invalid text is refused).
/// With `, eq_by_text`, also `PartialEq` and `Eq` by the text, for types whose parsed form
/// follows from it.
#[macro_export]
#[doc(hidden)]
macro_rules! string_backed {
    ($ty:ident, $this:ident => $text:expr, eq_by_text) => {
        $crate::string_backed!($ty, $this => $text);

        impl ::std::cmp::PartialEq for $ty {
            fn eq(&self, other: &Self) -> bool {
                let ours = {
                    let $this = self;
                    $text
                };
                let theirs = {
                    let $this = other;
                    $text
                };
                ours == theirs
            }
        }

        impl ::std::cmp::Eq for $ty {}
    };
    ($ty:ident, $this:ident => $text:expr) => {
        impl ::std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                let $this = self;
                write!(f, concat!(stringify!($ty), "({:?})"), $text)
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                let $this = self;
                f.write_str($text)
            }
        }

        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let $this = self;
                s.serialize_str($text)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <String as ::serde::Deserialize>::deserialize(d)?
                    .parse()
                    .map_err(::serde::de::Error::custom)
            }
        }
    };
}

pub mod api;
pub mod config;
pub mod contract;
pub mod envelope;
pub mod fanout;
pub mod filter;
pub mod headers;
pub mod inbound;
pub mod lazy_json;
pub mod pattern;
pub mod render;
pub mod retry;
pub mod route;
pub mod secret;
pub mod ssrf;
#[cfg(test)]
mod testkit;
pub mod time;
pub mod verify;
