//! The optional Qapla' sender allow-list: when set, a post whose source address (API
//! Gateway's `requestContext.http.sourceIp`) is not on it is refused with the same opaque KO
//! as a wrong key, before its body is read or its channel looked up.
//!
//! Qapla' publishes the addresses it posts from ([`QAPLA_SENDERS`]); the list is off by
//! default because Qapla' may add one before a shop updates its stack, and every refused
//! post burns Qapla's budget of 100 failures. Every refusal and every event line carries
//! the source address, so a shop can see from its logs whether switching it on is safe.

use std::net::IpAddr;

/// The addresses Qapla' documents as its webhook senders (English and Italian pages).
pub const QAPLA_SENDERS: &str = "34.96.89.1,35.195.3.242,35.205.84.188,35.205.236.254,\
     34.78.56.172,35.195.153.127,35.205.146.223,35.195.158.219";

/// Who may post: anyone (the default), or the listed addresses and CIDR ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Senders {
    /// `None`: anyone.
    allowed: Option<Vec<Range>>,
}

/// One address (`/32` or `/128`) or CIDR range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range {
    network: IpAddr,
    prefix: u8,
}

impl Range {
    fn contains(self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u32::from(net).into(), self.prefix, 32)
                    == masked(u32::from(ip).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), self.prefix, 128)
                    == masked(u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

/// The top `prefix` bits of a `width`-bit address.
fn masked(bits: u128, prefix: u8, width: u8) -> u128 {
    match width - prefix {
        0 => bits,
        shift if shift >= 128 => 0,
        shift => bits >> shift,
    }
}

/// An IPv4 address mapped into IPv6 (`::ffff:a.b.c.d`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// A list entry that is not an address or a CIDR range.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an IP address or CIDR range (e.g. 34.96.89.1 or 35.195.0.0/16)")]
pub struct BadSender(pub String);

impl Senders {
    /// Anyone may post.
    pub fn anyone() -> Self {
        Senders::default()
    }

    /// Comma- or space-separated addresses and CIDR ranges; blank means anyone.
    pub fn parse(list: &str) -> Result<Self, BadSender> {
        let entries = list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|e| !e.is_empty())
            .map(parse_range)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Senders {
            allowed: (!entries.is_empty()).then_some(entries),
        })
    }

    /// Whether the allow-list is on.
    pub fn restricted(&self) -> bool {
        self.allowed.is_some()
    }

    /// Whether a post from `source` (as API Gateway gives it; empty when unknown) may be
    /// accepted. With the list on, an unknown or unreadable source is refused.
    pub fn allows(&self, source: &str) -> bool {
        let Some(allowed) = &self.allowed else {
            return true;
        };
        source
            .trim()
            .parse::<IpAddr>()
            .is_ok_and(|ip| allowed.iter().any(|r| r.contains(ip)))
    }
}

fn parse_range(entry: &str) -> Result<Range, BadSender> {
    let bad = || BadSender(entry.to_owned());
    let (address, prefix) = match entry.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (entry, None),
    };
    let network = canonical(address.parse::<IpAddr>().map_err(|_| bad())?);
    let width = if network.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => width,
        Some(p) => p
            .parse::<u8>()
            .ok()
            .filter(|p| *p <= width)
            .ok_or_else(bad)?,
    };
    Ok(Range { network, prefix })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_lets_anyone_post() {
        for list in ["", " ", ", ,"] {
            let senders = Senders::parse(list).expect("blank");
            assert!(!senders.restricted());
            assert!(senders.allows("203.0.113.9") && senders.allows(""));
        }
    }

    #[test]
    fn the_published_list_admits_qapla_and_nobody_else() {
        let senders = Senders::parse(QAPLA_SENDERS).expect("published list");
        assert!(senders.restricted());
        for ip in QAPLA_SENDERS.split(',') {
            assert!(senders.allows(ip), "{ip}");
        }
        assert!(senders.allows("::ffff:34.96.89.1"));
        for other in [
            "34.96.89.2",
            "127.0.0.1",
            "::1",
            "",
            "not an ip",
            "34.96.89.1/32",
        ] {
            assert!(!senders.allows(other), "{other}");
        }
    }

    #[test]
    fn cidr_ranges_cover_their_addresses() {
        let senders = Senders::parse("35.195.0.0/16 2001:db8::/32, 10.1.2.3/0").expect("ranges");
        assert!(senders.allows("35.195.255.1") && senders.allows("2001:db8::7"));
        assert!(senders.allows("8.8.8.8"), "/0 covers every IPv4 address");
        assert!(!senders.allows("2001:db9::1"));
        let only_v6 = Senders::parse("::/0").expect("all of IPv6");
        assert!(only_v6.allows("2001:db8::1") && !only_v6.allows("8.8.8.8"));
    }

    #[test]
    fn a_bad_entry_is_named() {
        for bad in ["34.96.89", "1.2.3.4/33", "::/129", "1.2.3.4/x", "qapla.it"] {
            let list = format!("34.96.89.1,{bad}");
            assert_eq!(Senders::parse(&list), Err(BadSender(bad.to_owned())));
        }
    }
}
