//! The SSRF guard: which addresses an outbound client (the web fetch tool, a user's CalDAV
//! server) may connect to, and which URLs it may ask for at all. Loopback, private, link-local (cloud metadata), CGNAT, multicast and other
//! non-public ranges are refused unless `WEB_FETCH_ALLOW_PRIVATE=true`, including when they hide
//! inside IPv6 forms (IPv4-mapped, IPv4-compatible, NAT64, 6to4).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use super::Refused;

/// Which addresses may be fetched.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    allow_private: bool,
    treat_as_public: Vec<IpAddr>,
}

impl AddressPolicy {
    /// Public addresses only, or (`allow_private`) every address.
    pub fn new(allow_private: bool) -> Self {
        Self {
            allow_private,
            treat_as_public: Vec::new(),
        }
    }

    /// Treats one non-public address as public. Tests use it to stand in for an outside server
    /// on loopback while every other local address stays refused.
    pub fn treating_as_public(mut self, addr: IpAddr) -> Self {
        self.treat_as_public.push(addr);
        self
    }

    /// `Err` with the kind of range when `addr` may not be fetched.
    pub fn check(&self, addr: IpAddr) -> Result<(), &'static str> {
        if self.allow_private || self.treat_as_public.contains(&addr) {
            return Ok(());
        }
        match non_public_kind(addr) {
            Some(kind) => Err(kind),
            None => Ok(()),
        }
    }
}

/// The kind of non-public range `addr` is in ("loopback", "private", ...), or `None` for a
/// public address.
pub fn non_public_kind(addr: IpAddr) -> Option<&'static str> {
    match addr {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => v4_kind(v4).or_else(|| v6_kind(v6)),
            None => v6_kind(v6),
        },
    }
}

fn v4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => "unspecified",
        (127, _, _) => "loopback",
        (10, _, _) | (192, 168, _) => "private",
        (172, 16..=31, _) => "private",
        (169, 254, _) => "link-local",
        (100, 64..=127, _) => "carrier-grade NAT",
        (192, 0, 0) => "reserved",
        (198, 18..=19, _) => "reserved",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved",
        _ => return None,
    })
}

fn v6_kind(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    Some(if ip.is_unspecified() {
        "unspecified"
    } else if ip.is_loopback() {
        "loopback"
    } else if first & 0xfe00 == 0xfc00 {
        "unique local"
    } else if first & 0xffc0 == 0xfe80 {
        "link-local"
    } else if first & 0xffc0 == 0xfec0 {
        "site-local"
    } else if first & 0xff00 == 0xff00 {
        "multicast"
    } else {
        return None;
    })
}

/// The IPv4 address carried inside an IPv6 one: IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
/// `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d` and 6to4 `2002:aabb:ccdd::`.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(tail),
        // `::` and `::1` are IPv6's own unspecified and loopback addresses.
        [0, 0, 0, 0, 0, 0, _, _] if !ip.is_unspecified() && !ip.is_loopback() => Some(tail),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(tail),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        )),
        _ => None,
    }
}

/// Checks what can be checked before any network call: http(s) only, no credentials, a host,
/// and an IP-literal host against `policy` (named hosts are checked when they are resolved).
pub fn check_url(url: &Url, policy: &AddressPolicy) -> Result<(), Refused> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Refused::Scheme(url.scheme().to_string()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refused::Credentials);
    }
    let ip = match url.host() {
        None => return Err(Refused::NoHost),
        Some(Host::Domain(_)) => return Ok(()),
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
    };
    policy.check(ip).map_err(|kind| Refused::Blocked {
        host: ip.to_string(),
        addr: ip,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> Option<&'static str> {
        non_public_kind(s.parse().unwrap())
    }

    #[test]
    fn every_non_public_ipv4_range_is_classified() {
        let cases = [
            ("127.0.0.1", "loopback"),
            ("127.255.255.254", "loopback"),
            ("10.0.0.1", "private"),
            ("10.255.255.255", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"),
            ("100.64.0.1", "carrier-grade NAT"),
            ("100.127.255.255", "carrier-grade NAT"),
            ("0.0.0.0", "unspecified"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("255.255.255.255", "reserved"),
        ];
        for (ip, expected) in cases {
            assert_eq!(kind(ip), Some(expected), "{ip}");
        }
    }

    #[test]
    fn public_ipv4_addresses_next_to_the_private_ranges_are_allowed() {
        for ip in [
            "8.8.8.8",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "11.0.0.1",
            "192.169.0.1",
            "169.253.1.1",
            "1.1.1.1",
        ] {
            assert_eq!(kind(ip), None, "{ip}");
        }
    }

    #[test]
    fn ipv6_loopback_unique_local_link_local_and_multicast_are_refused() {
        let cases = [
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("fc00::1", "unique local"),
            ("fdff:ffff::1", "unique local"),
            ("fe80::1", "link-local"),
            ("febf::1", "link-local"),
            ("fec0::1", "site-local"),
            ("ff02::1", "multicast"),
        ];
        for (ip, expected) in cases {
            assert_eq!(kind(ip), Some(expected), "{ip}");
        }
        assert_eq!(kind("2606:4700:4700::1111"), None);
        assert_eq!(kind("fe00::1"), None, "just below link-local is global");
    }

    #[test]
    fn ipv4_hidden_in_ipv6_forms_is_classified_by_the_ipv4_address() {
        let cases = [
            ("::ffff:127.0.0.1", Some("loopback")),
            ("::ffff:7f00:1", Some("loopback")),
            ("::ffff:10.1.2.3", Some("private")),
            ("::ffff:169.254.169.254", Some("link-local")),
            ("::ffff:100.64.0.1", Some("carrier-grade NAT")),
            ("::127.0.0.1", Some("loopback")),
            ("::192.168.0.1", Some("private")),
            ("64:ff9b::10.0.0.1", Some("private")),
            ("64:ff9b::a9fe:a9fe", Some("link-local")),
            ("2002:c0a8:0101::1", Some("private")),
            ("2002:7f00:0001::", Some("loopback")),
            ("::ffff:8.8.8.8", None),
            ("64:ff9b::8.8.8.8", None),
            ("2002:0808:0808::1", None),
        ];
        for (ip, expected) in cases {
            assert_eq!(kind(ip), expected, "{ip}");
        }
    }

    #[test]
    fn allow_private_permits_everything_and_exceptions_permit_only_themselves() {
        let loopback: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(AddressPolicy::new(false).check(loopback), Err("loopback"));
        assert_eq!(AddressPolicy::new(true).check(loopback), Ok(()));
        let test = AddressPolicy::new(false).treating_as_public(loopback);
        assert_eq!(test.check(loopback), Ok(()));
        assert_eq!(test.check("127.0.0.2".parse().unwrap()), Err("loopback"));
    }

    fn url_check(url: &str) -> Result<(), Refused> {
        check_url(&Url::parse(url).unwrap(), &AddressPolicy::new(false))
    }

    #[test]
    fn urls_with_other_schemes_or_credentials_are_refused() {
        assert!(matches!(url_check("file:///etc/passwd"), Err(Refused::Scheme(s)) if s == "file"));
        assert!(matches!(
            url_check("ftp://example.com/"),
            Err(Refused::Scheme(_))
        ));
        assert!(matches!(
            url_check("https://user:pw@example.com/"),
            Err(Refused::Credentials)
        ));
        assert!(matches!(
            url_check("https://user@example.com/"),
            Err(Refused::Credentials)
        ));
        assert!(url_check("https://example.com/page").is_ok());
    }

    #[test]
    fn ip_literal_hosts_are_checked_in_every_spelling() {
        for url in [
            "http://127.0.0.1/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "http://[::1]:8080/",
            "http://[::ffff:169.254.169.254]/latest/meta-data",
            "http://169.254.169.254/latest/meta-data",
            "http://[fd00::1]/",
            "http://127.0.0.1./",
            "http://0/",
        ] {
            assert!(
                matches!(url_check(url), Err(Refused::Blocked { .. })),
                "{url} must be refused"
            );
        }
        assert!(url_check("http://93.184.216.34/").is_ok());
    }
}
