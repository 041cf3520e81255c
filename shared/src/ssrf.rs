//! The address classifier behind the outbound SSRF guard.
//!
//! Before the sender connects to a webhook endpoint it resolves the host, runs *every* resolved
//! address through [`SsrfPolicy::check`], and then connects to the address it checked (never
//! resolving again, which would reopen the door to DNS rebinding). Only genuinely global unicast
//! addresses are [`AddrClass::Public`]; everything else is refused unless the policy's allow-list
//! opens it, which is how loopback is made reachable for local use and tests.
//!
//! The ranges come from the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890),
//! with a default-deny reading: a block that may be reachable but is not where a webhook lives
//! (the anycast service addresses in `192.0.0.0/24` and `2001::/23`, the 6to4 and Teredo
//! transition ranges) is still refused. IPv6 outside `2000::/3` that is not otherwise listed is
//! [`AddrClass::Reserved`].
//!
//! Embedded IPv4 addresses:
//! - IPv4-mapped `::ffff:a.b.c.d` is the IPv4 address itself (the socket layer connects to it),
//!   so it is classified, and matched against the allow-list, as `a.b.c.d`.
//! - NAT64 well-known prefix `64:ff9b::a.b.c.d` (RFC 6052) is classified by the IPv4 address a
//!   NAT64 gateway will connect to; it is matched against the allow-list as itself.
//! - IPv4-compatible `::a.b.c.d` (deprecated by RFC 4291), IPv4-translated `::ffff:0:a.b.c.d`
//!   (RFC 2765, dropped by RFC 6145), 6to4 `2002::/16` and Teredo `2001::/32` are refused
//!   whatever they embed: no legitimate endpoint uses them, and some stacks tunnel them to the
//!   embedded address.
//!
//! Cloud metadata endpoints are [`AddrClass::CloudMetadata`] and get a stronger rule: only an
//! allow-list entry that is exactly that one host opens them, so `0.0.0.0/0`, `169.254.0.0/16` or
//! `fc00::/7` never expose instance credentials by accident.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnet::{IpNet, Ipv4Net};

/// Defines [`AddrClass`] from one table: each class's variant, its machine code and its human
/// description, so that adding a class is one row.
macro_rules! addr_classes {
    ($($(#[doc = $doc:literal])* $variant:ident => $code:literal, $description:literal;)*) => {
        /// Why an address is not a public unicast destination.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum AddrClass {
            $($(#[doc = $doc])* $variant,)*
        }

        impl AddrClass {
            /// Every class, in table order, for tests that must cover them all.
            #[cfg(test)]
            const ALL: &'static [AddrClass] = &[$(Self::$variant),*];

            /// A stable snake_case code for logs and metrics, such as `"cloud_metadata"`.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $code,)*
                }
            }

            const fn description(self) -> &'static str {
                match self {
                    $(Self::$variant => $description,)*
                }
            }
        }
    };
}

addr_classes! {
    /// Global unicast: the only class the guard lets through without an allow-list entry.
    Public => "public", "public address";
    /// `0.0.0.0/8` ("this network", RFC 791/1122) or `::` (RFC 4291).
    Unspecified => "unspecified", "unspecified address";
    /// `127.0.0.0/8` (RFC 1122) or `::1` (RFC 4291).
    Loopback => "loopback", "loopback address";
    /// `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16` (RFC 1918).
    Private => "private", "private address";
    /// `169.254.0.0/16` (RFC 3927) or `fe80::/10` (RFC 4291).
    LinkLocal => "link_local", "link-local address";
    /// `100.64.0.0/10`, carrier-grade NAT shared address space (RFC 6598).
    SharedCgnat => "shared_cgnat", "shared (carrier-grade NAT) address";
    /// A cloud instance-metadata or platform endpoint, such as `169.254.169.254`.
    CloudMetadata => "cloud_metadata", "cloud metadata endpoint";
    /// `224.0.0.0/4` (RFC 5771) or `ff00::/8` (RFC 4291).
    Multicast => "multicast", "multicast address";
    /// `255.255.255.255`, the limited broadcast address (RFC 919, RFC 8190).
    Broadcast => "broadcast", "broadcast address";
    /// `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24` (RFC 5737), `2001:db8::/32`
    /// (RFC 3849) or `3fff::/20` (RFC 9637).
    Documentation => "documentation", "documentation address";
    /// `198.18.0.0/15` (RFC 2544) or `2001:2::/48` (RFC 5180).
    Benchmarking => "benchmarking", "benchmarking address";
    /// `192.0.0.0/24` (RFC 6890) or the rest of `2001::/23` (RFC 2928).
    ProtocolAssignments => "protocol_assignments", "IETF protocol assignment address";
    /// `240.0.0.0/4` (RFC 1112), SRv6 SIDs `5f00::/16` (RFC 9602), or IPv6 outside `2000::/3`
    /// that no other class covers.
    Reserved => "reserved", "reserved address";
    /// `fc00::/7` (RFC 4193).
    UniqueLocal => "unique_local", "unique local address";
    /// `fec0::/10`, deprecated site-local (RFC 3879).
    SiteLocal => "site_local", "site-local address";
    /// `::/96` other than `::` and `::1`, deprecated IPv4-compatible (RFC 4291 §2.5.5.1).
    Ipv4Compatible => "ipv4_compatible", "IPv4-compatible IPv6 address";
    /// `64:ff9b:1::/48`, local-use IPv4/IPv6 translation (RFC 8215).
    Nat64Local => "nat64_local", "local-use NAT64 address";
    /// `2001::/32` (RFC 4380).
    Teredo => "teredo", "Teredo address";
    /// `2002::/16` (RFC 3056) or the deprecated 6to4 relay anycast `192.88.99.0/24` (RFC 7526).
    SixToFour => "six_to_four", "6to4 address";
    /// `100::/64`, discard-only (RFC 6666).
    Discard => "discard", "discard-only address";
}

/// Writes a short human description, such as `private address`; use [`AddrClass::as_str`] for
/// the machine code.
impl fmt::Display for AddrClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

/// Cloud metadata endpoints on IPv4, checked before the broader ranges they sit in.
const METADATA_V4: [Ipv4Addr; 8] = [
    // AWS, GCP, Azure, OCI, DigitalOcean, Akamai/Linode, Hetzner, OpenStack, ...
    Ipv4Addr::new(169, 254, 169, 254),
    // AWS ECS task metadata and credentials.
    Ipv4Addr::new(169, 254, 170, 2),
    // AWS EKS Pod Identity Agent.
    Ipv4Addr::new(169, 254, 170, 23),
    // Scaleway.
    Ipv4Addr::new(169, 254, 42, 42),
    // Tencent Cloud.
    Ipv4Addr::new(169, 254, 0, 23),
    // Alibaba Cloud; inside the CGNAT block, so `100.64.0.0/10` must not open it.
    Ipv4Addr::new(100, 100, 100, 200),
    // Azure WireServer: a public address, yet only reachable from inside Azure, where it hands
    // out extension and certificate data.
    Ipv4Addr::new(168, 63, 129, 16),
    // Oracle Cloud (Classic).
    Ipv4Addr::new(192, 0, 0, 192),
];

/// Cloud metadata endpoints on IPv6. They are unique-local or link-local, so they are refused
/// anyway; listing them keeps a broad `fc00::/7` or `fe80::/10` allow-list entry from opening them.
const METADATA_V6: [Ipv6Addr; 7] = [
    // AWS IMDS.
    Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254),
    // AWS EKS Pod Identity Agent.
    Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x23),
    // GCP, for IPv6-only instances.
    Ipv6Addr::new(0xfd20, 0xce, 0, 0, 0, 0, 0, 0x254),
    // OCI IMDS.
    Ipv6Addr::new(0xfd00, 0xc1, 0, 0, 0, 0, 0xa9fe, 0xa9fe),
    // Scaleway.
    Ipv6Addr::new(0xfd00, 0x42, 0, 0, 0, 0, 0, 0x42),
    // Akamai/Linode.
    Ipv6Addr::new(0xfd00, 0xa9fe, 0xa9fe, 0, 0, 0, 0, 1),
    // OpenStack Neutron.
    Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0xa9fe, 0xa9fe),
];

/// IPv4 special-purpose blocks, first match wins; anything unmatched is public.
const V4_RANGES: [(Ipv4Addr, u8, AddrClass); 16] = {
    use AddrClass::*;
    [
        (Ipv4Addr::new(0, 0, 0, 0), 8, Unspecified), // RFC 791, RFC 1122
        (Ipv4Addr::new(10, 0, 0, 0), 8, Private),    // RFC 1918
        (Ipv4Addr::new(100, 64, 0, 0), 10, SharedCgnat), // RFC 6598
        (Ipv4Addr::new(127, 0, 0, 0), 8, Loopback),  // RFC 1122
        (Ipv4Addr::new(169, 254, 0, 0), 16, LinkLocal), // RFC 3927
        (Ipv4Addr::new(172, 16, 0, 0), 12, Private), // RFC 1918
        (Ipv4Addr::new(192, 0, 0, 0), 24, ProtocolAssignments), // RFC 6890
        (Ipv4Addr::new(192, 0, 2, 0), 24, Documentation), // RFC 5737
        (Ipv4Addr::new(192, 88, 99, 0), 24, SixToFour), // RFC 7526
        (Ipv4Addr::new(192, 168, 0, 0), 16, Private), // RFC 1918
        (Ipv4Addr::new(198, 18, 0, 0), 15, Benchmarking), // RFC 2544
        (Ipv4Addr::new(198, 51, 100, 0), 24, Documentation), // RFC 5737
        (Ipv4Addr::new(203, 0, 113, 0), 24, Documentation), // RFC 5737
        (Ipv4Addr::new(224, 0, 0, 0), 4, Multicast), // RFC 5771
        // Before 240.0.0.0/4, which contains it.
        (Ipv4Addr::new(255, 255, 255, 255), 32, Broadcast), // RFC 919, RFC 8190
        (Ipv4Addr::new(240, 0, 0, 0), 4, Reserved),         // RFC 1112
    ]
};

/// A table row for an IPv6 block whose network address fits in its first three segments.
const fn v6(head: [u16; 3], len: u8, class: AddrClass) -> (Ipv6Addr, u8, AddrClass) {
    let [a, b, c] = head;
    (Ipv6Addr::new(a, b, c, 0, 0, 0, 0, 0), len, class)
}

/// IPv6 special-purpose blocks without an embedded IPv4 address, first match wins; after them,
/// `2000::/3` is public and the rest is reserved.
const V6_RANGES: [(Ipv6Addr, u8, AddrClass); 16] = {
    use AddrClass::*;
    [
        (Ipv6Addr::UNSPECIFIED, 128, Unspecified), // RFC 4291
        (Ipv6Addr::LOCALHOST, 128, Loopback),      // RFC 4291
        v6([0, 0, 0], 96, Ipv4Compatible),         // RFC 4291
        v6([0x64, 0xff9b, 1], 48, Nat64Local),     // RFC 8215
        v6([0x100, 0, 0], 64, Discard),            // RFC 6666
        // Teredo and benchmarking before the 2001::/23 block that contains them.
        v6([0x2001, 0, 0], 32, Teredo),              // RFC 4380
        v6([0x2001, 2, 0], 48, Benchmarking),        // RFC 5180
        v6([0x2001, 0, 0], 23, ProtocolAssignments), // RFC 2928
        v6([0x2001, 0xdb8, 0], 32, Documentation),   // RFC 3849
        v6([0x2002, 0, 0], 16, SixToFour),           // RFC 3056
        v6([0x3fff, 0, 0], 20, Documentation),       // RFC 9637
        // SRv6 SIDs lie outside 2000::/3 and would be reserved anyway; listed to record that
        // they are deliberately refused.
        v6([0x5f00, 0, 0], 16, Reserved),   // RFC 9602
        v6([0xfc00, 0, 0], 7, UniqueLocal), // RFC 4193
        v6([0xfe80, 0, 0], 10, LinkLocal),  // RFC 4291
        v6([0xfec0, 0, 0], 10, SiteLocal),  // RFC 3879
        v6([0xff00, 0, 0], 8, Multicast),   // RFC 4291
    ]
};

/// `2000::/3`, the global unicast space (RFC 4291 §2.4).
const GLOBAL_UNICAST: (Ipv6Addr, u8) = (Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3);
/// `::ffff:0:0:0/96`, IPv4-translated addresses (RFC 2765).
const IPV4_TRANSLATED: (Ipv6Addr, u8) = (Ipv6Addr::new(0, 0, 0, 0, 0xffff, 0, 0, 0), 96);
/// `64:ff9b::/96`, the NAT64 well-known prefix (RFC 6052).
const NAT64_WELL_KNOWN: (Ipv6Addr, u8) = (Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96);

fn mask_v4(prefix: u8) -> u32 {
    // checked_shl returns None for a shift of 32, which is exactly the /0 case.
    u32::MAX
        .checked_shl(32_u32.saturating_sub(u32::from(prefix)))
        .unwrap_or(0)
}

fn mask_v6(prefix: u8) -> u128 {
    u128::MAX
        .checked_shl(128_u32.saturating_sub(u32::from(prefix)))
        .unwrap_or(0)
}

fn in_v4(ip: Ipv4Addr, net: Ipv4Addr, prefix: u8) -> bool {
    let mask = mask_v4(prefix);
    ip.to_bits() & mask == net.to_bits() & mask
}

fn in_v6(ip: Ipv6Addr, net: Ipv6Addr, prefix: u8) -> bool {
    let mask = mask_v6(prefix);
    ip.to_bits() & mask == net.to_bits() & mask
}

/// The IPv4 address in the low 32 bits of `ip`.
fn low_v4(ip: Ipv6Addr) -> Ipv4Addr {
    let [.., a, b, c, d] = ip.octets();
    Ipv4Addr::new(a, b, c, d)
}

fn classify_v4(ip: Ipv4Addr) -> AddrClass {
    if METADATA_V4.contains(&ip) {
        return AddrClass::CloudMetadata;
    }
    V4_RANGES
        .iter()
        .find(|(net, prefix, _)| in_v4(ip, *net, *prefix))
        .map_or(AddrClass::Public, |(_, _, class)| *class)
}

fn classify_v6(ip: Ipv6Addr) -> AddrClass {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    if METADATA_V6.contains(&ip) {
        return AddrClass::CloudMetadata;
    }
    if in_v6(ip, NAT64_WELL_KNOWN.0, NAT64_WELL_KNOWN.1) {
        return classify_v4(low_v4(ip));
    }
    if in_v6(ip, IPV4_TRANSLATED.0, IPV4_TRANSLATED.1) {
        return AddrClass::Reserved;
    }
    if let Some((_, _, class)) = V6_RANGES
        .iter()
        .find(|(net, prefix, _)| in_v6(ip, *net, *prefix))
    {
        return *class;
    }
    if in_v6(ip, GLOBAL_UNICAST.0, GLOBAL_UNICAST.1) {
        AddrClass::Public
    } else {
        AddrClass::Reserved
    }
}

/// Classify one address. IPv4-mapped (::ffff:a.b.c.d) and NAT64 well-known-prefix
/// (64:ff9b::/96) addresses are classified by the IPv4 address they embed.
#[must_use]
pub fn classify(ip: IpAddr) -> AddrClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

/// A CIDR block such as `10.0.0.0/8` or `fd00::/8`; a bare address means a single host.
///
/// Parsing is strict because the block is a security boundary: no surrounding whitespace, no
/// zone id, no leading zeros in the prefix length, and no host bits set (`10.0.0.1/8` is an
/// error that suggests `10.0.0.0/8`, not a silent widening). It displays and (de)serialises as
/// `address/prefix`, always with the prefix. An IPv4-mapped IPv6 block of length /96 or more
/// (`::ffff:127.0.0.0/104`) matches like the IPv4 block it maps (`127.0.0.0/8`).
///
/// The block itself is an [`ipnet::IpNet`]; only the parser and the IPv4-mapped matching are
/// hookline's, because `IpNet`'s own parser is laxer (it takes host bits and needs a prefix).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cidr(IpNet);

impl Cidr {
    /// The network address, as written.
    #[must_use]
    pub fn network(&self) -> IpAddr {
        self.0.network()
    }

    /// The prefix length: 0 to 32 for IPv4, 0 to 128 for IPv6.
    #[must_use]
    pub fn prefix_len(&self) -> u8 {
        self.0.prefix_len()
    }

    /// The block as an [`IpNet`].
    #[must_use]
    pub const fn as_ipnet(&self) -> &IpNet {
        &self.0
    }

    /// Whether the block is one address (/32 for IPv4, /128 for IPv6).
    #[must_use]
    pub fn is_single_host(&self) -> bool {
        self.0.prefix_len() == self.0.max_prefix_len()
    }

    /// Whether `ip` is in the block, comparing IPv4-mapped IPv6 addresses as IPv4 on both sides.
    ///
    /// So `127.0.0.0/8` contains `::ffff:127.0.0.1`, and `::/0` contains no IPv4 address, mapped
    /// or not.
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.canonical(), ip.to_canonical()) {
            (IpNet::V4(net), IpAddr::V4(ip)) => net.contains(&ip),
            (IpNet::V6(net), IpAddr::V6(ip)) => net.contains(&ip),
            _ => false,
        }
    }

    /// The block in canonical form: an IPv4-mapped block of /96 or longer becomes IPv4.
    fn canonical(&self) -> IpNet {
        if let IpNet::V6(v6) = self.0
            && let Some(v4) = v6.network().to_ipv4_mapped()
            && let Some(prefix) = v6.prefix_len().checked_sub(96)
            // 128 - 96 = 32 at most, so this always succeeds.
            && let Ok(net) = Ipv4Net::new(v4, prefix)
        {
            return IpNet::V4(net);
        }
        self.0
    }
}

impl From<Cidr> for IpNet {
    fn from(cidr: Cidr) -> Self {
        cidr.0
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Why a string is not a [`Cidr`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CidrParseError {
    /// The string is empty.
    Empty,
    /// The string contains whitespace, including leading or trailing spaces.
    Whitespace,
    /// Nothing before the `/`.
    MissingAddress,
    /// Nothing after the `/`.
    MissingPrefixLength,
    /// More than one `/`.
    ExtraSlash,
    /// The part before the `/` is not an IPv4 or IPv6 address.
    InvalidAddress(String),
    /// The prefix length is not a plain decimal number (digits only, no leading zeros).
    InvalidPrefixLength(String),
    /// The prefix length exceeds 32 for IPv4 or 128 for IPv6.
    PrefixLengthTooLong {
        /// The prefix length as written.
        len: String,
        /// The largest allowed length for the address family.
        max: u8,
    },
    /// The address has bits set beyond the prefix length.
    HostBitsSet {
        /// The address as written.
        addr: IpAddr,
        /// The prefix length as written.
        prefix: u8,
        /// The network address the block probably meant.
        network: IpAddr,
    },
}

impl fmt::Display for CidrParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("empty CIDR block"),
            Self::Whitespace => f.write_str("CIDR block contains whitespace"),
            Self::MissingAddress => f.write_str("CIDR block has no address before the '/'"),
            Self::MissingPrefixLength => {
                f.write_str("CIDR block has no prefix length after the '/'")
            }
            Self::ExtraSlash => f.write_str("CIDR block has more than one '/'"),
            Self::InvalidAddress(text) => {
                write!(f, "{text:?} is not an IPv4 or IPv6 address")
            }
            Self::InvalidPrefixLength(text) => write!(
                f,
                "prefix length {text:?} is not a decimal number without sign or leading zeros"
            ),
            Self::PrefixLengthTooLong { len, max } => {
                write!(f, "prefix length {len} is longer than {max}")
            }
            Self::HostBitsSet {
                addr,
                prefix,
                network,
            } => write!(
                f,
                "{addr}/{prefix} has host bits set; did you mean {network}/{prefix}?"
            ),
        }
    }
}

impl std::error::Error for CidrParseError {}

impl FromStr for Cidr {
    type Err = CidrParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(CidrParseError::Empty);
        }
        if s.chars().any(char::is_whitespace) {
            return Err(CidrParseError::Whitespace);
        }
        let (addr_text, prefix_text) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        if prefix_text.is_some_and(|p| p.contains('/')) {
            return Err(CidrParseError::ExtraSlash);
        }
        if addr_text.is_empty() {
            return Err(CidrParseError::MissingAddress);
        }
        let addr: IpAddr = addr_text
            .parse()
            .map_err(|_| CidrParseError::InvalidAddress(addr_text.to_owned()))?;
        let max: u8 = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix_text {
            None => max,
            Some(text) => parse_prefix_len(text, max)?,
        };
        // `prefix` is at most `max` (checked above), so `IpNet::new` cannot refuse it.
        let block = IpNet::new(addr, prefix).map_err(|_| CidrParseError::PrefixLengthTooLong {
            len: prefix.to_string(),
            max,
        })?;
        let network = block.network();
        if network != addr {
            return Err(CidrParseError::HostBitsSet {
                addr,
                prefix,
                network,
            });
        }
        Ok(Self(block))
    }
}

fn parse_prefix_len(text: &str, max: u8) -> Result<u8, CidrParseError> {
    if text.is_empty() {
        return Err(CidrParseError::MissingPrefixLength);
    }
    // u8::from_str would accept "+8" and "08"; neither is how anyone writes a prefix length.
    if !text.bytes().all(|b| b.is_ascii_digit()) || (text.len() > 1 && text.starts_with('0')) {
        return Err(CidrParseError::InvalidPrefixLength(text.to_owned()));
    }
    let too_long = || CidrParseError::PrefixLengthTooLong {
        len: text.to_owned(),
        max,
    };
    let len: u8 = text.parse().map_err(|_| too_long())?;
    if len > max {
        return Err(too_long());
    }
    Ok(len)
}

impl serde::Serialize for Cidr {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CidrVisitor;

        impl serde::de::Visitor<'_> for CidrVisitor {
            type Value = Cidr;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a CIDR block such as \"10.0.0.0/8\" or a bare IP address")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Cidr, E> {
                v.parse().map_err(E::custom)
            }
        }

        deserializer.deserialize_str(CidrVisitor)
    }
}

/// The guard's policy: everything not Public is refused, except what the allow-list opens.
///
/// An address is allowed if [`classify`] says [`AddrClass::Public`], or if an allow-list entry
/// [contains](Cidr::contains) it, comparing IPv4-mapped IPv6 addresses as IPv4 (so `127.0.0.0/8`
/// opens `::ffff:127.0.0.1`, and `::1` does not open `127.0.0.1`). A NAT64 address
/// (`64:ff9b::/96`) is matched as itself: `10.0.0.0/8` does not open `64:ff9b::a00:1`.
///
/// Exception: a [`AddrClass::CloudMetadata`] address is opened only by an entry that is a single
/// host equal to it (`169.254.169.254/32`, or its IPv4-mapped form), never by a wider block such
/// as `0.0.0.0/0` or `169.254.0.0/16`. The default policy has an empty allow-list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SsrfPolicy {
    allow: Vec<Cidr>,
}

impl SsrfPolicy {
    /// A policy that opens the given blocks on top of public addresses.
    #[must_use]
    pub fn new(allow: Vec<Cidr>) -> Self {
        Self { allow }
    }

    /// The blocks this policy opens, in the order given.
    #[must_use]
    pub fn allow_list(&self) -> &[Cidr] {
        &self.allow
    }

    /// Accept `ip` as a connection target, or say why not.
    pub fn check(&self, ip: IpAddr) -> Result<(), Blocked> {
        let class = classify(ip);
        let opened = match class {
            AddrClass::Public => true,
            AddrClass::CloudMetadata => {
                let canonical = ip.to_canonical();
                self.allow.iter().any(|cidr| {
                    let block = cidr.canonical();
                    block.prefix_len() == block.max_prefix_len() && block.addr() == canonical
                })
            }
            _ => self.allow.iter().any(|cidr| cidr.contains(ip)),
        };
        if opened {
            Ok(())
        } else {
            Err(Blocked { addr: ip, class })
        }
    }
}

/// A refused address: which address and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blocked {
    /// The address as checked (not canonicalised).
    pub addr: IpAddr,
    /// Why it is not a public unicast destination.
    pub class: AddrClass,
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "refused {}: {}", self.addr, self.class)
    }
}

impl std::error::Error for Blocked {}

#[cfg(test)]
mod tests {
    use super::*;
    use AddrClass::*;

    fn ip(s: &str) -> IpAddr {
        s.parse()
            .unwrap_or_else(|e| panic!("bad test address {s:?}: {e}"))
    }

    fn cidr(s: &str) -> Cidr {
        s.parse()
            .unwrap_or_else(|e| panic!("bad test CIDR {s:?}: {e}"))
    }

    fn policy(entries: &[&str]) -> SsrfPolicy {
        SsrfPolicy::new(entries.iter().map(|s| cidr(s)).collect())
    }

    /// Each block's first and last address and the neighbours just outside it.
    const V4_CASES: &[(&str, AddrClass)] = &[
        ("0.0.0.0", Unspecified),
        ("0.0.0.1", Unspecified),
        ("0.255.255.255", Unspecified),
        ("1.0.0.0", Public),
        ("1.1.1.1", Public),
        ("8.8.8.8", Public),
        ("9.255.255.255", Public),
        ("10.0.0.0", Private),
        ("10.255.255.255", Private),
        ("11.0.0.0", Public),
        ("100.63.255.255", Public),
        ("100.64.0.0", SharedCgnat),
        ("100.127.255.255", SharedCgnat),
        ("100.128.0.0", Public),
        ("100.100.100.200", CloudMetadata),
        ("100.100.100.201", SharedCgnat),
        ("126.255.255.255", Public),
        ("127.0.0.0", Loopback),
        ("127.0.0.1", Loopback),
        ("127.255.255.255", Loopback),
        ("128.0.0.0", Public),
        ("168.63.129.15", Public),
        ("168.63.129.16", CloudMetadata),
        ("168.63.129.17", Public),
        ("169.253.255.255", Public),
        ("169.254.0.0", LinkLocal),
        ("169.254.0.23", CloudMetadata),
        ("169.254.42.42", CloudMetadata),
        ("169.254.169.253", LinkLocal),
        ("169.254.169.254", CloudMetadata),
        ("169.254.169.255", LinkLocal),
        ("169.254.170.2", CloudMetadata),
        ("169.254.170.23", CloudMetadata),
        ("169.254.255.255", LinkLocal),
        ("169.255.0.0", Public),
        ("172.15.255.255", Public),
        ("172.16.0.0", Private),
        ("172.31.255.255", Private),
        ("172.32.0.0", Public),
        ("191.255.255.255", Public),
        ("192.0.0.0", ProtocolAssignments),
        ("192.0.0.9", ProtocolAssignments),
        ("192.0.0.192", CloudMetadata),
        ("192.0.0.255", ProtocolAssignments),
        ("192.0.1.0", Public),
        ("192.0.2.0", Documentation),
        ("192.0.2.255", Documentation),
        ("192.0.3.0", Public),
        ("192.88.98.255", Public),
        ("192.88.99.0", SixToFour),
        ("192.88.99.255", SixToFour),
        ("192.88.100.0", Public),
        ("192.167.255.255", Public),
        ("192.168.0.0", Private),
        ("192.168.255.255", Private),
        ("192.169.0.0", Public),
        ("198.17.255.255", Public),
        ("198.18.0.0", Benchmarking),
        ("198.19.255.255", Benchmarking),
        ("198.20.0.0", Public),
        ("198.51.99.255", Public),
        ("198.51.100.0", Documentation),
        ("198.51.100.255", Documentation),
        ("198.51.101.0", Public),
        ("203.0.112.255", Public),
        ("203.0.113.0", Documentation),
        ("203.0.113.255", Documentation),
        ("203.0.114.0", Public),
        ("223.255.255.255", Public),
        ("224.0.0.0", Multicast),
        ("239.255.255.255", Multicast),
        ("240.0.0.0", Reserved),
        ("255.255.255.254", Reserved),
        ("255.255.255.255", Broadcast),
    ];

    const V6_CASES: &[(&str, AddrClass)] = &[
        ("::", Unspecified),
        ("::1", Loopback),
        ("::2", Ipv4Compatible),
        ("::7f00:1", Ipv4Compatible),
        // Deprecated embedding: refused even though 8.8.8.8 is public.
        ("::8.8.8.8", Ipv4Compatible),
        ("::ffff:ffff", Ipv4Compatible),
        ("::1:0:0", Reserved),
        // IPv4-mapped: the embedded address decides.
        ("::ffff:0.0.0.0", Unspecified),
        ("::ffff:7f00:1", Loopback),
        ("::ffff:127.0.0.1", Loopback),
        ("::ffff:10.0.0.1", Private),
        ("::ffff:169.254.169.254", CloudMetadata),
        ("::ffff:a9fe:a9fe", CloudMetadata),
        ("::ffff:168.63.129.16", CloudMetadata),
        ("::ffff:255.255.255.255", Broadcast),
        ("::ffff:8.8.8.8", Public),
        // IPv4-translated (RFC 2765): always refused.
        ("::ffff:0:8.8.8.8", Reserved),
        ("::ffff:0:7f00:1", Reserved),
        // NAT64 well-known prefix: the embedded address decides.
        ("64:ff9b::8.8.8.8", Public),
        ("64:ff9b::7f00:1", Loopback),
        ("64:ff9b::10.0.0.1", Private),
        ("64:ff9b::169.254.169.254", CloudMetadata),
        ("64:ff9b::100.64.0.1", SharedCgnat),
        ("64:ff9b::1:0:0", Reserved),
        ("64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", Reserved),
        ("64:ff9b:1::", Nat64Local),
        ("64:ff9b:1::8.8.8.8", Nat64Local),
        ("64:ff9b:1:ffff:ffff:ffff:ffff:ffff", Nat64Local),
        ("64:ff9b:2::", Reserved),
        ("ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Reserved),
        ("100::", Discard),
        ("100::ffff:ffff:ffff:ffff", Discard),
        ("100:0:0:1::", Reserved),
        ("1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Reserved),
        ("2000::", Public),
        ("2000::1", Public),
        ("2001::", Teredo),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", Teredo),
        ("2001:0:ffff:ffff:ffff:ffff:ffff:ffff", Teredo),
        ("2001:1::1", ProtocolAssignments),
        ("2001:2::", Benchmarking),
        ("2001:2:0:ffff:ffff:ffff:ffff:ffff", Benchmarking),
        ("2001:2:1::", ProtocolAssignments),
        ("2001:3::1", ProtocolAssignments),
        ("2001:10::1", ProtocolAssignments),
        ("2001:20::1", ProtocolAssignments),
        (
            "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff",
            ProtocolAssignments,
        ),
        ("2001:200::", Public),
        ("2001:4860:4860::8888", Public),
        ("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", Public),
        ("2001:db8::", Documentation),
        ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", Documentation),
        ("2001:db9::", Public),
        ("2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Public),
        ("2002::", SixToFour),
        ("2002:7f00:1::1", SixToFour),
        ("2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", SixToFour),
        ("2003::", Public),
        ("2606:4700::1111", Public),
        ("3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Public),
        ("3fff::", Documentation),
        ("3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", Documentation),
        ("3fff:1000::", Public),
        ("4000::", Reserved),
        ("5f00::", Reserved),
        ("5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Reserved),
        ("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Reserved),
        ("fc00::", UniqueLocal),
        ("fd00::1", UniqueLocal),
        ("fd00:ec2::23", CloudMetadata),
        ("fd00:ec2::253", UniqueLocal),
        ("fd00:ec2::254", CloudMetadata),
        ("fd00:c1::a9fe:a9fe", CloudMetadata),
        ("fd00:42::42", CloudMetadata),
        ("fd00:a9fe:a9fe::1", CloudMetadata),
        ("fd20:ce::254", CloudMetadata),
        ("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", UniqueLocal),
        ("fe00::", Reserved),
        ("fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Reserved),
        ("fe80::", LinkLocal),
        ("fe80::1", LinkLocal),
        ("fe80::a9fe:a9fe", CloudMetadata),
        ("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", LinkLocal),
        ("fec0::", SiteLocal),
        ("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", SiteLocal),
        ("ff00::", Multicast),
        ("ff02::1", Multicast),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Multicast),
    ];

    #[test]
    fn classifies_ipv4_table() {
        for &(addr, expected) in V4_CASES {
            assert_eq!(classify(ip(addr)), expected, "{addr}");
        }
    }

    #[test]
    fn classifies_ipv6_table() {
        for &(addr, expected) in V6_CASES {
            assert_eq!(classify(ip(addr)), expected, "{addr}");
        }
    }

    #[test]
    fn mapped_and_nat64_forms_follow_the_embedded_ipv4() {
        for &(addr, expected) in V4_CASES {
            let v4: Ipv4Addr = addr.parse().unwrap();
            let mapped = IpAddr::V6(v4.to_ipv6_mapped());
            assert_eq!(classify(mapped), expected, "{mapped}");
            let [a, b, c, d] = v4.octets();
            let nat64 = IpAddr::V6(Ipv6Addr::new(
                0x64,
                0xff9b,
                0,
                0,
                0,
                0,
                u16::from_be_bytes([a, b]),
                u16::from_be_bytes([c, d]),
            ));
            assert_eq!(classify(nat64), expected, "{nat64}");
        }
    }

    #[test]
    fn deprecated_embeddings_are_refused_whatever_they_embed() {
        for &(addr, _) in V4_CASES {
            let [a, b, c, d] = addr.parse::<Ipv4Addr>().unwrap().octets();
            let (hi, lo) = (u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]));
            let compatible = IpAddr::V6(Ipv6Addr::new(0, 0, 0, 0, 0, 0, hi, lo));
            let translated = IpAddr::V6(Ipv6Addr::new(0, 0, 0, 0, 0xffff, 0, hi, lo));
            let six_to_four = IpAddr::V6(Ipv6Addr::new(0x2002, hi, lo, 0, 0, 0, 0, 1));
            assert_ne!(classify(compatible), Public, "{compatible}");
            assert_eq!(classify(translated), Reserved, "{translated}");
            assert_eq!(classify(six_to_four), SixToFour, "{six_to_four}");
        }
    }

    #[test]
    fn only_global_unicast_is_public() {
        // Spot-check one address per /8 of IPv6 space (top byte): outside 2000::/3 nothing is
        // public.
        for top in 0_u16..=0xff {
            let addr = Ipv6Addr::new(top << 8 | 0x12, 0x3456, 0x789a, 0, 0, 0, 0, 1);
            let public = classify(IpAddr::V6(addr)) == Public;
            let global = (0x20..0x40).contains(&top);
            assert!(!public || global, "{addr} classified public");
        }
    }

    #[test]
    fn class_codes_are_unique_snake_case_and_differ_from_display() {
        let mut seen = std::collections::HashSet::new();
        for &class in AddrClass::ALL {
            let code = class.as_str();
            assert!(seen.insert(code), "duplicate code {code}");
            assert!(
                code.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{code}"
            );
            assert_ne!(class.to_string(), code);
        }
        assert_eq!(Loopback.as_str(), "loopback");
        assert_eq!(CloudMetadata.as_str(), "cloud_metadata");
        assert_eq!(Private.to_string(), "private address");
    }

    #[test]
    fn default_policy_allows_only_public() {
        let policy = SsrfPolicy::default();
        assert!(policy.allow_list().is_empty());
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700::1111",
            "2001:4860:4860::8888",
        ] {
            assert_eq!(policy.check(ip(public)), Ok(()), "{public}");
        }
        for &(addr, class) in V4_CASES.iter().chain(V6_CASES) {
            let result = policy.check(ip(addr));
            if class == Public {
                assert_eq!(result, Ok(()), "{addr}");
            } else {
                assert_eq!(
                    result,
                    Err(Blocked {
                        addr: ip(addr),
                        class
                    }),
                    "{addr}"
                );
            }
        }
    }

    #[test]
    fn allow_list_opens_loopback() {
        let policy = policy(&["127.0.0.0/8", "::1"]);
        assert_eq!(policy.check(ip("127.0.0.1")), Ok(()));
        assert_eq!(policy.check(ip("127.1.2.3")), Ok(()));
        assert_eq!(policy.check(ip("::1")), Ok(()));
        assert_eq!(policy.check(ip("8.8.8.8")), Ok(()));
        assert_eq!(policy.check(ip("10.0.0.1")).unwrap_err().class, Private);
    }

    #[test]
    fn mapped_loopback_is_opened_through_an_ipv4_entry() {
        let policy = policy(&["127.0.0.0/8"]);
        assert_eq!(policy.check(ip("::ffff:127.0.0.1")), Ok(()));
        assert_eq!(policy.check(ip("::ffff:7f00:1")), Ok(()));
        assert_eq!(policy.check(ip("::1")).unwrap_err().class, Loopback);
        // Not the deprecated or translated embeddings, and not NAT64.
        assert!(policy.check(ip("::7f00:1")).is_err());
        assert!(policy.check(ip("::ffff:0:7f00:1")).is_err());
        assert!(policy.check(ip("64:ff9b::7f00:1")).is_err());
    }

    #[test]
    fn ipv6_loopback_entry_does_not_open_ipv4_loopback() {
        let policy = policy(&["::1"]);
        assert_eq!(policy.check(ip("::1")), Ok(()));
        assert!(policy.check(ip("127.0.0.1")).is_err());
        assert!(policy.check(ip("::ffff:127.0.0.1")).is_err());
    }

    #[test]
    fn mapped_entry_opens_the_ipv4_block() {
        let policy = policy(&["::ffff:127.0.0.0/104"]);
        assert_eq!(policy.check(ip("127.0.0.1")), Ok(()));
        assert_eq!(policy.check(ip("::ffff:127.0.0.1")), Ok(()));
        assert!(policy.check(ip("10.0.0.1")).is_err());
    }

    #[test]
    fn metadata_is_not_opened_by_broad_entries() {
        let policy = policy(&[
            "0.0.0.0/0",
            "::/0",
            "169.254.0.0/16",
            "100.64.0.0/10",
            "fc00::/7",
            "fe80::/10",
            "168.63.129.0/24",
        ]);
        for addr in [
            "169.254.169.254",
            "169.254.170.2",
            "169.254.170.23",
            "100.100.100.200",
            "168.63.129.16",
            "192.0.0.192",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "fd00:ec2::254",
            "fd20:ce::254",
            "fe80::a9fe:a9fe",
        ] {
            let blocked = policy.check(ip(addr)).unwrap_err();
            assert_eq!(blocked.class, CloudMetadata, "{addr}");
        }
        // Their neighbours are opened.
        assert_eq!(policy.check(ip("169.254.169.253")), Ok(()));
        assert_eq!(policy.check(ip("100.100.100.201")), Ok(()));
        assert_eq!(policy.check(ip("fd00:ec2::253")), Ok(()));
    }

    #[test]
    fn metadata_is_opened_by_an_exact_entry() {
        let policy = policy(&["169.254.169.254", "fd00:ec2::254/128"]);
        assert_eq!(policy.check(ip("169.254.169.254")), Ok(()));
        assert_eq!(policy.check(ip("::ffff:169.254.169.254")), Ok(()));
        assert_eq!(policy.check(ip("fd00:ec2::254")), Ok(()));
        assert!(policy.check(ip("169.254.170.2")).is_err());
        assert!(policy.check(ip("fd00:ec2::23")).is_err());
        // The NAT64 form is a different destination and needs its own entry.
        assert!(policy.check(ip("64:ff9b::a9fe:a9fe")).is_err());
        assert_eq!(
            policy_with("64:ff9b::a9fe:a9fe").check(ip("64:ff9b::a9fe:a9fe")),
            Ok(())
        );
        // A mapped single-host entry is the same host.
        assert_eq!(
            policy_with("::ffff:169.254.169.254/128").check(ip("169.254.169.254")),
            Ok(())
        );
        assert_eq!(
            policy_with("168.63.129.16/32").check(ip("168.63.129.16")),
            Ok(())
        );
    }

    fn policy_with(entry: &str) -> SsrfPolicy {
        policy(&[entry])
    }

    #[test]
    fn zero_length_entries_open_their_family_only() {
        let v4 = policy(&["0.0.0.0/0"]);
        for addr in [
            "10.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::ffff:192.168.1.1",
        ] {
            assert_eq!(v4.check(ip(addr)), Ok(()), "{addr}");
        }
        for addr in ["::1", "fe80::1", "fd00::1", "64:ff9b::a00:1", "::7f00:1"] {
            assert!(v4.check(ip(addr)).is_err(), "{addr}");
        }
        let v6 = policy(&["::/0"]);
        for addr in [
            "::1",
            "fe80::1",
            "fd00::1",
            "64:ff9b::a00:1",
            "::7f00:1",
            "2002::1",
        ] {
            assert_eq!(v6.check(ip(addr)), Ok(()), "{addr}");
        }
        for addr in ["10.0.0.1", "127.0.0.1", "::ffff:10.0.0.1"] {
            assert!(v6.check(ip(addr)).is_err(), "{addr}");
        }
    }

    #[test]
    fn nat64_is_matched_as_itself() {
        assert!(policy(&["10.0.0.0/8"]).check(ip("64:ff9b::a00:1")).is_err());
        let policy = policy(&["64:ff9b::/96"]);
        assert_eq!(policy.check(ip("64:ff9b::a00:1")), Ok(()));
        assert!(policy.check(ip("10.0.0.1")).is_err());
    }

    #[test]
    fn allow_list_is_kept_in_order() {
        let entries = vec![cidr("::1"), cidr("127.0.0.0/8")];
        let policy = SsrfPolicy::new(entries.clone());
        assert_eq!(policy.allow_list(), entries.as_slice());
    }

    #[test]
    fn parses_valid_blocks() {
        let cases: &[(&str, &str, u8)] = &[
            ("10.0.0.0/8", "10.0.0.0", 8),
            ("0.0.0.0/0", "0.0.0.0", 0),
            ("::/0", "::", 0),
            ("10.0.0.1", "10.0.0.1", 32),
            ("::1", "::1", 128),
            ("fd00::/8", "fd00::", 8),
            ("2001:DB8::/32", "2001:db8::", 32),
            ("255.255.255.255/32", "255.255.255.255", 32),
            ("192.168.1.0/24", "192.168.1.0", 24),
            ("::ffff:127.0.0.0/104", "::ffff:127.0.0.0", 104),
        ];
        for &(text, network, prefix) in cases {
            let parsed = cidr(text);
            assert_eq!(parsed.network(), ip(network), "{text}");
            assert_eq!(parsed.prefix_len(), prefix, "{text}");
        }
    }

    #[test]
    fn rejects_malformed_blocks() {
        use CidrParseError as E;
        let too_long = |len: &str, max| E::PrefixLengthTooLong {
            len: len.to_owned(),
            max,
        };
        let cases: Vec<(&str, CidrParseError)> = vec![
            ("", E::Empty),
            (" 10.0.0.0/8", E::Whitespace),
            ("10.0.0.0/8 ", E::Whitespace),
            ("10.0.0.0 /8", E::Whitespace),
            ("10.0.0.0/8\n", E::Whitespace),
            ("/8", E::MissingAddress),
            ("/", E::MissingAddress),
            ("10.0.0.0/", E::MissingPrefixLength),
            ("10.0.0.0/8/8", E::ExtraSlash),
            ("10.0.0.0//8", E::ExtraSlash),
            ("//", E::ExtraSlash),
            ("10.0.0.0/33", too_long("33", 32)),
            ("10.0.0.0/256", too_long("256", 32)),
            ("10.0.0.0/99999999999", too_long("99999999999", 32)),
            ("::/129", too_long("129", 128)),
            ("garbage", E::InvalidAddress("garbage".into())),
            ("garbage/8", E::InvalidAddress("garbage".into())),
            ("10.0.0/8", E::InvalidAddress("10.0.0".into())),
            ("010.0.0.0/8", E::InvalidAddress("010.0.0.0".into())),
            ("[::1]/128", E::InvalidAddress("[::1]".into())),
            ("fe80::1%eth0", E::InvalidAddress("fe80::1%eth0".into())),
            ("10.0.0.0/x", E::InvalidPrefixLength("x".into())),
            ("10.0.0.0/-1", E::InvalidPrefixLength("-1".into())),
            ("10.0.0.0/+8", E::InvalidPrefixLength("+8".into())),
            ("10.0.0.0/08", E::InvalidPrefixLength("08".into())),
            (
                "10.0.0.1/8",
                E::HostBitsSet {
                    addr: ip("10.0.0.1"),
                    prefix: 8,
                    network: ip("10.0.0.0"),
                },
            ),
            (
                "fd00::1/8",
                E::HostBitsSet {
                    addr: ip("fd00::1"),
                    prefix: 8,
                    network: ip("fd00::"),
                },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<Cidr>(), Err(expected), "{text:?}");
        }
    }

    #[test]
    fn parse_errors_say_what_is_wrong() {
        let message = |s: &str| s.parse::<Cidr>().unwrap_err().to_string();
        assert_eq!(
            message("10.0.0.1/8"),
            "10.0.0.1/8 has host bits set; did you mean 10.0.0.0/8?"
        );
        assert_eq!(message("10.0.0.0/33"), "prefix length 33 is longer than 32");
        assert_eq!(message("::/129"), "prefix length 129 is longer than 128");
        assert!(message("nope").contains("\"nope\" is not an IPv4 or IPv6 address"));
        assert!(message(" ::1").contains("whitespace"));
        assert!(message("").contains("empty"));
        assert!(message("1.2.3.4/1/2").contains("more than one '/'"));
    }

    #[test]
    fn display_round_trips() {
        let cases = [
            ("10.0.0.0/8", "10.0.0.0/8"),
            ("10.0.0.1", "10.0.0.1/32"),
            ("::1", "::1/128"),
            ("::/0", "::/0"),
            ("0.0.0.0/0", "0.0.0.0/0"),
            ("2001:DB8:0::/32", "2001:db8::/32"),
            ("fd00:ec2::254/128", "fd00:ec2::254/128"),
            ("::ffff:127.0.0.0/104", "::ffff:127.0.0.0/104"),
        ];
        for (text, shown) in cases {
            let parsed = cidr(text);
            assert_eq!(parsed.to_string(), shown);
            assert_eq!(cidr(shown), parsed);
        }
    }

    #[test]
    fn single_host_and_contains() {
        assert!(cidr("10.0.0.1").is_single_host());
        assert!(cidr("::1").is_single_host());
        assert!(cidr("0.0.0.0/32").is_single_host());
        assert!(!cidr("10.0.0.0/8").is_single_host());
        assert!(!cidr("::/0").is_single_host());
        assert!(!cidr("::ffff:0:0/96").is_single_host());

        let ten = cidr("10.0.0.0/8");
        assert!(ten.contains(ip("10.0.0.0")));
        assert!(ten.contains(ip("10.255.255.255")));
        assert!(ten.contains(ip("::ffff:10.1.2.3")));
        assert!(!ten.contains(ip("11.0.0.0")));
        assert!(!ten.contains(ip("9.255.255.255")));
        assert!(!ten.contains(ip("::a00:1")));
        assert!(cidr("0.0.0.0/0").contains(ip("255.255.255.255")));
        assert!(!cidr("0.0.0.0/0").contains(ip("::1")));
        assert!(cidr("::/0").contains(ip("ffff::")));
        assert!(!cidr("::/0").contains(ip("::ffff:1.2.3.4")));
        assert!(cidr("::ffff:0:0/96").contains(ip("1.2.3.4")));
        assert!(cidr("fe80::/10").contains(ip("febf::1")));
        assert!(!cidr("fe80::/10").contains(ip("fec0::1")));
        assert!(cidr("1.2.3.4").contains(ip("1.2.3.4")));
        assert!(!cidr("1.2.3.4").contains(ip("1.2.3.5")));
    }

    #[test]
    fn serde_round_trips_as_a_string() {
        let block = cidr("10.0.0.0/8");
        let json = serde_json::to_string(&block).unwrap();
        assert_eq!(json, "\"10.0.0.0/8\"");
        assert_eq!(serde_json::from_str::<Cidr>(&json).unwrap(), block);

        let list: Vec<Cidr> = serde_json::from_str(r#"["127.0.0.0/8", "::1"]"#).unwrap();
        assert_eq!(list, vec![cidr("127.0.0.0/8"), cidr("::1/128")]);

        let err = serde_json::from_str::<Cidr>("\"10.0.0.1/8\"").unwrap_err();
        assert!(
            err.to_string().contains("did you mean 10.0.0.0/8?"),
            "{err}"
        );
        assert!(serde_json::from_str::<Cidr>("8").is_err());

        #[derive(serde::Deserialize, serde::Serialize, Debug, PartialEq)]
        struct Config {
            allow: Vec<Cidr>,
        }
        let config: Config = toml::from_str("allow = [\"127.0.0.0/8\", \"::1\"]").unwrap();
        assert_eq!(config.allow, vec![cidr("127.0.0.0/8"), cidr("::1")]);
        let text = toml::to_string(&config).unwrap();
        assert!(text.contains("\"::1/128\""), "{text}");
        assert_eq!(toml::from_str::<Config>(&text).unwrap(), config);
    }

    #[test]
    fn blocked_display_names_address_and_class() {
        let blocked = SsrfPolicy::default().check(ip("10.0.0.1")).unwrap_err();
        assert_eq!(blocked.to_string(), "refused 10.0.0.1: private address");
        let blocked = SsrfPolicy::default()
            .check(ip("169.254.169.254"))
            .unwrap_err();
        assert_eq!(
            blocked.to_string(),
            "refused 169.254.169.254: cloud metadata endpoint"
        );
        let blocked = SsrfPolicy::default().check(ip("::1")).unwrap_err();
        assert_eq!(blocked.to_string(), "refused ::1: loopback address");
        for &class in AddrClass::ALL {
            let blocked = Blocked {
                addr: ip("192.0.2.1"),
                class,
            };
            assert!(blocked.to_string().ends_with(&class.to_string()));
        }
        let boxed: Box<dyn std::error::Error> = Box::new(blocked);
        assert!(boxed.to_string().starts_with("refused "));
    }

    #[test]
    fn blocked_keeps_the_address_as_checked() {
        let blocked = SsrfPolicy::default()
            .check(ip("::ffff:127.0.0.1"))
            .unwrap_err();
        assert_eq!(blocked.addr, ip("::ffff:127.0.0.1"));
        assert_eq!(blocked.class, Loopback);
    }
}
