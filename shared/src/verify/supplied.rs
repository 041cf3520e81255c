//! HMACs computed outside the core, by a runtime that has them natively (the Worker's
//! WebCrypto, where the wasm build hashes in software), with the scheme logic left here.
//!
//! Two steps around one request. [`Verifier::mac_jobs`] runs the verification without computing
//! any MAC and returns every MAC it would have compared (the key and the exact message, in
//! parts, the request's body named rather than copied, and borrowed by the job so that it
//! cannot change or go away while the job exists). The runtime computes them, and
//! [`with_supplied_macs`] runs the real verification (through [`Verifier::verify`] or
//! anything that calls it, such as `inbound::receive`) with those MACs: each MAC the scheme
//! needs is taken from a [`SuppliedMac`] whose key is the very same key (the same shared
//! allocation, not merely equal bytes) and whose message is the same bytes, part for part (the
//! body part only when it is the very slice the job borrowed: same address, same length, and
//! still borrowed, hence the same bytes); anything else is computed in software as usual. So a supplied MAC can only ever stand in for
//! the MAC of its own key over its own message: everything the direct path refuses is refused
//! (the tests below check this over every scheme), and the comparison, the replay window and
//! rotation are the scheme's own, unchanged.
//!
//! The state lives in a thread-local only for the duration of one synchronous call, set and
//! cleared here; nothing else reads it.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use zeroize::Zeroizing;

use super::common::{MacKey, SigBuf};
use super::{Algorithm, Request, Verifier};
use crate::time::Timestamp;

/// One part of a MAC's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MacPart {
    /// The request's body, whole: the runtime already holds it.
    Body,
    /// Bytes the scheme put around it (a timestamp, a separator, a URL, ...).
    Bytes(Vec<u8>),
}

/// A MAC a verification needs: HMAC under one of the verifier's keys over the concatenation of
/// `parts`, [`MacPart::Body`] standing for the request body it borrows.
#[derive(Clone)]
pub struct MacJob<'a> {
    key: Arc<Zeroizing<Vec<u8>>>,
    key_index: usize,
    algorithm: Algorithm,
    body: &'a [u8],
    parts: Vec<MacPart>,
}

impl fmt::Debug for MacJob<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MacJob")
            .field("key_index", &self.key_index)
            .field("algorithm", &self.algorithm)
            .field("parts", &self.parts.len())
            .finish_non_exhaustive()
    }
}

impl<'a> MacJob<'a> {
    /// The HMAC's hash function.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The key's position among the verifier's keys: the same for every request to one
    /// verifier, so a runtime can cache the key it imported under it.
    pub fn key_index(&self) -> usize {
        self.key_index
    }

    /// The key's bytes, to import into the runtime's HMAC.
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// The message, in order.
    pub fn parts(&self) -> &[MacPart] {
        &self.parts
    }

    /// The request body the parts name.
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// The message as one buffer.
    pub fn message(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for part in &self.parts {
            match part {
                MacPart::Body => out.extend_from_slice(self.body),
                MacPart::Bytes(b) => out.extend_from_slice(b),
            }
        }
        out
    }

    /// This job with its result. `None` when `mac` is not as long as the algorithm's MACs.
    pub fn with_mac(self, mac: &[u8]) -> Option<SuppliedMac<'a>> {
        (mac.len() == mac_len(self.algorithm)).then(|| SuppliedMac {
            mac: SigBuf::from_slice(mac),
            job: self,
        })
    }
}

/// A [`MacJob`] and the MAC the runtime computed for it.
#[derive(Clone)]
pub struct SuppliedMac<'a> {
    job: MacJob<'a>,
    mac: SigBuf,
}

impl fmt::Debug for SuppliedMac<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SuppliedMac")
            .field("job", &self.job)
            .finish_non_exhaustive()
    }
}

fn mac_len(algorithm: Algorithm) -> usize {
    match algorithm {
        Algorithm::Sha1 => 20,
        Algorithm::Sha256 => 32,
        Algorithm::Sha512 => 64,
    }
}

/// Where a body lies: a part of a message is the body only when it is that very slice (same
/// address and length), so no bytes are compared or copied for it. Sound only while the body is
/// borrowed (by the job that recorded it), so that it can neither change nor be freed and its
/// memory reused.
#[derive(Clone, Copy, PartialEq, Eq)]
struct BodyAt {
    addr: usize,
    len: usize,
}

impl BodyAt {
    fn of(body: &[u8]) -> Self {
        Self {
            addr: body.as_ptr() as usize,
            len: body.len(),
        }
    }

    fn is(self, part: &[u8]) -> bool {
        !part.is_empty() && part.as_ptr() as usize == self.addr && part.len() == self.len
    }
}

/// A job as the thread-local keeps it: the body by address (the job's borrow, held by the
/// caller for the whole scope, keeps it valid).
struct Noted {
    key: Arc<Zeroizing<Vec<u8>>>,
    key_index: usize,
    algorithm: Algorithm,
    body: BodyAt,
    parts: Vec<MacPart>,
}

enum Mode {
    /// [`Verifier::mac_jobs`]: note each MAC, compute none (so none matches).
    Record { body: BodyAt, jobs: Vec<Noted> },
    /// [`with_supplied_macs`].
    Supply { macs: Vec<(Noted, SigBuf)> },
}

thread_local! {
    static MODE: RefCell<Option<Mode>> = const { RefCell::new(None) };
}

/// Runs `f` with `mode` in force, and returns what `f` returned with the mode as `f` left it.
/// The previous mode (if a caller nests these) is put back.
fn scoped<R>(mode: Mode, f: impl FnOnce() -> R) -> (R, Option<Mode>) {
    let before = MODE.with(|m| m.borrow_mut().replace(mode));
    let out = f();
    let after = MODE.with(|m| std::mem::replace(&mut *m.borrow_mut(), before));
    (out, after)
}

/// The MAC of `parts` under `key` (the `index`-th key of its list) for `any_mac_matches`:
/// supplied when a supplied MAC is for this key and this message, computed here otherwise;
/// `None` (no match) while recording.
pub(crate) fn mac(index: usize, key: &MacKey, parts: &[&[u8]]) -> Option<SigBuf> {
    let found = MODE.with(|m| match &mut *m.borrow_mut() {
        None => None,
        Some(Mode::Record { body, jobs }) => {
            jobs.push(Noted {
                key: Arc::clone(key.raw()),
                key_index: index,
                algorithm: key.algorithm(),
                body: *body,
                parts: parts
                    .iter()
                    .map(|p| {
                        if body.is(p) {
                            MacPart::Body
                        } else {
                            MacPart::Bytes(p.to_vec())
                        }
                    })
                    .collect(),
            });
            Some(None)
        }
        Some(Mode::Supply { macs }) => macs
            .iter()
            .find(|(job, _)| is_for(job, key, parts))
            .map(|(_, mac)| Some(*mac)),
    });
    match found {
        Some(supplied) => supplied,
        None => Some(key.compute(parts)),
    }
}

/// Whether `job` is the MAC of `parts` under `key`.
fn is_for(job: &Noted, key: &MacKey, parts: &[&[u8]]) -> bool {
    Arc::ptr_eq(&job.key, key.raw())
        && job.algorithm == key.algorithm()
        && job.parts.len() == parts.len()
        && job.parts.iter().zip(parts).all(|(j, p)| match j {
            MacPart::Body => job.body.is(p),
            MacPart::Bytes(b) => b.as_slice() == *p,
        })
}

impl Verifier {
    /// The MACs verifying `req` at `now` would compute, for a runtime that computes them
    /// natively and hands them back through [`with_supplied_macs`]. Empty when the scheme
    /// computes none before it refuses the request (a missing header, a stale timestamp) or
    /// uses no HMAC (Ed25519).
    pub fn mac_jobs<'a>(&self, req: &Request<'a>, now: Timestamp) -> Vec<MacJob<'a>> {
        let mode = Mode::Record {
            body: BodyAt::of(req.body),
            jobs: Vec::new(),
        };
        // The outcome is not the request's: no MAC matched while recording.
        let (_, after) = scoped(mode, || self.verify(req, now));
        let Some(Mode::Record { jobs, .. }) = after else {
            return Vec::new();
        };
        // Every body part noted was `req.body` itself (`BodyAt::is`): the jobs borrow it.
        jobs.into_iter()
            .map(|n| MacJob {
                key: n.key,
                key_index: n.key_index,
                algorithm: n.algorithm,
                body: req.body,
                parts: n.parts,
            })
            .collect()
    }
}

/// Runs `f` (a verification, or a call that makes one) with `macs` standing in for the MACs
/// they were computed for; see the module's docs.
pub fn with_supplied_macs<R>(macs: Vec<SuppliedMac<'_>>, f: impl FnOnce() -> R) -> R {
    if macs.is_empty() {
        return f();
    }
    // The bodies the jobs borrow stay borrowed until this function returns (`macs`' lifetime),
    // so their addresses name the same bytes for the whole of `f`.
    let mode = Mode::Supply {
        macs: macs
            .into_iter()
            .map(|s| {
                let job = s.job;
                let noted = Noted {
                    key: job.key,
                    key_index: job.key_index,
                    algorithm: job.algorithm,
                    body: BodyAt::of(job.body),
                    parts: job.parts,
                };
                (noted, s.mac)
            })
            .collect(),
    };
    scoped(mode, f).0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::headers::Headers;
    use crate::secret::Secret;
    use crate::verify::{GenericHmac, Scheme, SchemeKind, Signer, VerifyError};

    const NOW: Timestamp = Timestamp::from_unix_secs(1_795_435_200);
    const URL: &str = "https://hooks.example.com/hooks/x?a=1";

    /// Every MAC of `jobs`, computed in software as the runtime would compute it natively.
    fn compute(jobs: Vec<MacJob<'_>>) -> Vec<SuppliedMac<'_>> {
        jobs.into_iter()
            .map(|job| {
                let mac = MacKey::new(job.algorithm(), job.key()).compute(&[&job.message()]);
                job.with_mac(mac.as_bytes()).unwrap()
            })
            .collect()
    }

    fn verify_supplied(
        verifier: &Verifier,
        req: &Request<'_>,
        at: Timestamp,
    ) -> Result<(), VerifyError> {
        let jobs = verifier.mac_jobs(req, at);
        let macs = compute(jobs);
        with_supplied_macs(macs, || verifier.verify(req, at).map(|_| ()))
    }

    fn secrets(scheme: &Scheme) -> (Vec<Secret>, Vec<Secret>) {
        let s = |v: &[u8]| Secret::new(v.to_vec()).unwrap();
        match scheme.kind() {
            SchemeKind::StandardWebhooks => (
                vec![s(b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")],
                vec![s(b"whsec_dGhpcyBpcyBhbm90aGVyIGtleQ==")],
            ),
            _ => (vec![s(b"secret-one")], vec![s(b"secret-two")]),
        }
    }

    /// Every HMAC scheme, with generic parameters for the generic one.
    fn schemes() -> Vec<Scheme> {
        let mut out: Vec<Scheme> = SchemeKind::ALL
            .into_iter()
            .filter(|k| !matches!(k, SchemeKind::Generic | SchemeKind::Discord))
            .map(Scheme::from)
            .collect();
        let generic: GenericHmac = toml::from_str(
            "header = \"x-sig\"\ntimestamp_header = \"x-ts\"\nsigned_content = \"{timestamp}.{body}\"\n",
        )
        .unwrap();
        out.push(Scheme::generic(generic));
        out
    }

    /// For every HMAC scheme, the supplied path accepts exactly what the direct path accepts:
    /// a signed request, with a second (rotated-in) key too; and refuses with the same error a
    /// tampered body, a wrong key, a stale timestamp, a missing signature.
    #[test]
    fn supplied_macs_decide_exactly_as_the_direct_path() {
        for scheme in schemes() {
            let (one, two) = secrets(&scheme);
            let signer = Signer::new(scheme.clone(), one.clone()).unwrap();
            let mut base = Headers::new();
            base.push("content-type", "application/x-www-form-urlencoded");
            // Linear's timestamp is in its (JSON) body; Twilio signs a form's parameters.
            let linear = format!("{{\"webhookTimestamp\":{}}}", NOW.unix_secs() * 1000);
            let (body, tampered): (&[u8], &[u8]) = if scheme.kind() == SchemeKind::Linear {
                (linear.as_bytes(), b"{\"webhookTimestamp\":1}")
            } else {
                (b"a=1&b=two&c=%C3%A9", b"a=1&b=two&c=%C3%A8")
            };
            let signed: Headers = signer
                .sign(&Request::post(URL, &base, body), "msg_1", NOW)
                .unwrap()
                .into_iter()
                .chain(base.iter().map(|(k, v)| (k.to_owned(), v.to_owned())))
                .collect();
            let rotated =
                Verifier::new(scheme.clone(), [two.clone(), one.clone()].concat()).unwrap();
            let wrong = Verifier::new(scheme.clone(), two.clone()).unwrap();
            let right = Verifier::new(scheme.clone(), one.clone()).unwrap();
            let late = Timestamp::from_unix_secs(NOW.unix_secs() + 3_600);
            let cases: Vec<(&Verifier, Request<'_>, Timestamp)> = vec![
                (&right, Request::post(URL, &signed, body), NOW),
                (&rotated, Request::post(URL, &signed, body), NOW),
                (&wrong, Request::post(URL, &signed, body), NOW),
                (&right, Request::post(URL, &signed, tampered), NOW),
                (&right, Request::post(URL, &signed, body), late),
                (&right, Request::post(URL, &base, body), NOW),
            ];
            for (i, (verifier, req, at)) in cases.iter().enumerate() {
                let direct = verifier.verify(req, *at).map(|_| ());
                let supplied = verify_supplied(verifier, req, *at);
                assert_eq!(supplied, direct, "{scheme:?} case {i}");
                if i < 2 {
                    assert_eq!(direct, Ok(()), "{scheme:?} case {i}");
                    assert!(!verifier.mac_jobs(req, *at).is_empty(), "{scheme:?}");
                } else if i != 4 || scheme.signs_timestamp() {
                    assert!(direct.is_err(), "{scheme:?} case {i}");
                }
            }
        }
    }

    /// A supplied MAC stands in only for its own key over its own message: the right MAC for
    /// another message, or under another key (even with equal bytes, from another verifier), is
    /// not used, and a wrong MAC for the right job refuses the request.
    #[test]
    fn a_supplied_mac_for_another_message_or_key_never_verifies() {
        let scheme = Scheme::from(SchemeKind::Stripe);
        let secret = || vec![Secret::new(b"whsec_stripe".to_vec()).unwrap()];
        let signer = Signer::new(scheme.clone(), secret()).unwrap();
        let verifier = Verifier::new(scheme.clone(), secret()).unwrap();
        let twin = Verifier::new(scheme, secret()).unwrap();
        let empty = Headers::new();
        let body: &[u8] = br#"{"id":"evt_1"}"#;
        let other: &[u8] = br#"{"id":"evt_2"}"#;
        let sign = |b: &[u8]| -> Headers {
            signer
                .sign(&Request::post(URL, &empty, b), "m", NOW)
                .unwrap()
                .into_iter()
                .collect()
        };
        let (signed, signed_other) = (sign(body), sign(other));
        let req = Request::post(URL, &signed, body);

        // Jobs of a request signed for `other`, MACs right for `other`, offered for `body`
        // whose header carries `other`'s signature: the messages differ, so the MAC is
        // computed here, and it does not match.
        let other_req = Request::post(URL, &signed_other, other);
        let macs = compute(verifier.mac_jobs(&other_req, NOW));
        let mixed = Request::post(URL, &signed_other, body);
        let got = with_supplied_macs(macs, || verifier.verify(&mixed, NOW).map(|_| ()));
        assert_eq!(got, Err(VerifyError::SignatureMismatch));

        // The right MAC from a twin verifier (same secret bytes, another key): not used; a
        // wrong MAC for the twin's job changes nothing here.
        let jobs = twin.mac_jobs(&req, NOW);
        let bogus: Vec<_> = jobs
            .into_iter()
            .map(|j| j.with_mac(&[0u8; 32]).unwrap())
            .collect();
        let got = with_supplied_macs(bogus, || verifier.verify(&req, NOW).map(|_| ()));
        assert_eq!(got, Ok(()));

        // A wrong MAC for this verifier's own job: refused, though the signature is right.
        let bogus: Vec<_> = verifier
            .mac_jobs(&req, NOW)
            .into_iter()
            .map(|j| j.with_mac(&[0u8; 32]).unwrap())
            .collect();
        let got = with_supplied_macs(bogus, || verifier.verify(&req, NOW).map(|_| ()));
        assert_eq!(got, Err(VerifyError::SignatureMismatch));

        // A body with the same bytes at another address is not the body the jobs name.
        let copy = body.to_vec();
        let macs = compute(verifier.mac_jobs(&req, NOW));
        let moved = Request::post(URL, &signed, &copy);
        let bogus_for_moved: Vec<_> = macs
            .into_iter()
            .map(|s| s.job.with_mac(&[0u8; 32]).unwrap())
            .collect();
        let got = with_supplied_macs(bogus_for_moved, || verifier.verify(&moved, NOW).map(|_| ()));
        assert_eq!(
            got,
            Ok(()),
            "computed here, not taken from a job for another body"
        );

        // A MAC of the wrong length is refused when it is supplied.
        let job = verifier.mac_jobs(&req, NOW).remove(0);
        assert!(job.clone().with_mac(&[0u8; 31]).is_none());
        assert_eq!(job.parts().last(), Some(&MacPart::Body));
        assert!(!format!("{job:?}").contains("whsec"));
    }

    /// Recording computes nothing and leaves no state behind.
    #[test]
    fn recording_is_scoped() {
        let verifier = Verifier::new(
            SchemeKind::Github,
            vec![Secret::new(b"gh".to_vec()).unwrap()],
        )
        .unwrap();
        let signer = Signer::new(
            SchemeKind::Github,
            vec![Secret::new(b"gh".to_vec()).unwrap()],
        )
        .unwrap();
        let empty = Headers::new();
        let signed: Headers = signer
            .sign(&Request::post(URL, &empty, b"{}"), "m", NOW)
            .unwrap()
            .into_iter()
            .collect();
        let req = Request::post(URL, &signed, b"{}");
        assert_eq!(verifier.mac_jobs(&req, NOW).len(), 1);
        assert!(MODE.with(|m| m.borrow().is_none()));
        assert!(verifier.verify(&req, NOW).is_ok());
    }
}
