//! Secret-leak scans: every suite that runs the receiver, the sender or the CLI collects what they
//! printed and asks [`Needles::scan`] whether any configured secret or any signature value shows up
//! in it, in any of the encodings a careless log line could use.

use base64::Engine as _;

/// What must never appear in a log line.
#[derive(Clone, Debug, Default)]
pub struct Needles {
    needles: Vec<(String, String)>,
}

/// Shorter needles would match by chance (a 6-character base64 run appears in ordinary ids).
const MIN_LEN: usize = 8;

impl Needles {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A configured secret, as written (`whsec_...`, `whsk_...`, a plain string), the key material
    /// after a `whsec_`/`whsk_`/`whpk_` prefix, and that material decoded from base64 and printed as
    /// hex and as base64 again (without padding).
    pub fn secret(mut self, secret: &str) -> Self {
        self.push("secret", secret);
        for prefix in ["whsec_", "whsk_", "whpk_"] {
            if let Some(rest) = secret.strip_prefix(prefix) {
                self.push("secret material", rest);
                if let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(rest) {
                    self.push("secret bytes (hex)", &hex(&raw));
                    self.push(
                        "secret bytes (base64)",
                        &base64::engine::general_purpose::STANDARD_NO_PAD.encode(&raw),
                    );
                }
            }
        }
        self
    }

    /// A signature header's value: the whole value, and each entry of it (`v1,<b64>`,
    /// `t=..,v1=<hex>`, `sha256=<hex>`, space- or comma-separated lists) without its version
    /// prefix.
    pub fn signature(mut self, value: &str) -> Self {
        self.push("signature header", value);
        for part in value.split([' ', ',', ';']) {
            let part = part.trim();
            // `t=...`, `v1=...`, `sha256=...`: drop a short tag before `=`, but not base64's
            // trailing `=` padding.
            let bare = match part.split_once('=') {
                Some((tag, v))
                    if !v.is_empty()
                        && tag.len() <= 12
                        && tag.bytes().all(|b| b.is_ascii_alphanumeric()) =>
                {
                    v
                }
                _ => part,
            };
            // A `t=` timestamp or a version tag is not a secret.
            if bare.bytes().all(|b| b.is_ascii_digit()) || bare.len() < MIN_LEN {
                continue;
            }
            self.push("signature", bare);
        }
        self
    }

    /// Any other value that must not be logged (a body field, a token).
    pub fn value(mut self, what: &str, value: &str) -> Self {
        self.push(what, value);
        self
    }

    fn push(&mut self, what: &str, needle: &str) {
        if needle.len() >= MIN_LEN && !self.needles.iter().any(|(_, n)| n == needle) {
            self.needles.push((what.to_owned(), needle.to_owned()));
        }
    }

    /// How many distinct needles are looked for.
    pub fn len(&self) -> usize {
        self.needles.len()
    }

    /// True when nothing is looked for.
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// The lines that contain a needle, each with what it leaked. Empty means clean.
    pub fn scan<S: AsRef<str>>(&self, lines: &[S]) -> Vec<String> {
        let mut found = Vec::new();
        for line in lines {
            let line = line.as_ref();
            for (what, needle) in &self.needles {
                if line.contains(needle.as_str()) {
                    found.push(format!("{what} in: {line}"));
                }
            }
        }
        found
    }

    /// Panics, naming the leaks, unless `lines` is clean; also refuses an empty scan (no lines or
    /// no needles), which would prove nothing. Returns the number of lines scanned.
    pub fn assert_clean<S: AsRef<str>>(&self, source: &str, lines: &[S]) -> usize {
        assert!(!self.is_empty(), "{source}: no needles to look for");
        assert!(!lines.is_empty(), "{source}: no log lines to scan");
        let found = self.scan(lines);
        assert!(
            found.is_empty(),
            "{source} leaked {} time(s):\n{}",
            found.len(),
            found.join("\n")
        );
        lines.len()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_secrets_in_every_encoding_and_signature_entries() {
        let n = Needles::new()
            .secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .signature("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,bm9wZQ==")
            .signature(
                "t=1700000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd",
            );
        let raw = base64::engine::general_purpose::STANDARD
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap();
        let lines = [
            "ok line".to_owned(),
            "key=MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned(),
            format!("bytes {}", hex(&raw)),
            "sig g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=".to_owned(),
            "stripe 5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd".to_owned(),
            "t=1700000000 is only a timestamp".to_owned(),
        ];
        let found = n.scan(&lines);
        assert_eq!(found.len(), 4, "{found:#?}");
        assert!(n.scan(&["nothing here"]).is_empty());
    }
}
