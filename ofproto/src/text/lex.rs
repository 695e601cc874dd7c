//! The ovs-ofctl key/value tokenizer and the small value parsers/formatters
//! every other text module shares (numbers, MACs, IPv4/IPv6 with masks).
//!
//! A flow (and an action list, a group or meter spec) is a list of fields
//! separated by commas and/or white space. A field is `key`, `key=value`,
//! `key:value` or `key(value)`; a value ends at the next separator that is not
//! inside parentheses, so `write_actions(output:1,group:2)` is one field.

use super::error::{Span, TextError};
use crate::wire::MacAddr;
use std::net::{Ipv4Addr, Ipv6Addr};

/// One `key[=|:|(]value[)]` field.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Kv<'a> {
    /// The whole field as written.
    pub whole: Span<'a>,
    pub key: Span<'a>,
    /// `None` for a bare keyword (`ip`, `send_flow_rem`, `drop`).
    pub value: Option<Span<'a>>,
    /// `=`, `:` or `(`; 0 for a bare keyword.
    pub delim: u8,
}

impl<'a> Kv<'a> {
    pub fn key(&self) -> &'a str {
        self.key.text
    }
}

fn is_sep(b: u8) -> bool {
    b == b',' || b.is_ascii_whitespace()
}

/// Splits a string into [`Kv`] fields one at a time. Positions are reported
/// relative to the start of the whole input (`base` is where `s` starts).
pub(crate) struct Lexer<'a> {
    s: &'a str,
    base: usize,
    i: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(s: &'a str, base: usize) -> Lexer<'a> {
        Lexer { s, base, i: 0 }
    }

    fn span(&self, from: usize, to: usize) -> Span<'a> {
        Span::new(self.base + from, &self.s[from..to])
    }

    /// Everything from byte `at` (relative to this lexer's string) to the end.
    pub fn rest_from(&self, at: usize) -> Span<'a> {
        self.span(at.min(self.s.len()), self.s.len())
    }

    /// Position (relative to this lexer's string) of a span it produced.
    pub fn offset_of(&self, sp: Span<'a>) -> usize {
        sp.pos - self.base
    }

    pub fn next_kv(&mut self) -> Result<Option<Kv<'a>>, TextError> {
        let b = self.s.as_bytes();
        while self.i < b.len() && is_sep(b[self.i]) {
            self.i += 1;
        }
        if self.i >= b.len() {
            return Ok(None);
        }
        let start = self.i;
        let mut j = start;
        while j < b.len() && !is_sep(b[j]) && !matches!(b[j], b'=' | b':' | b'(' | b')') {
            j += 1;
        }
        let key = self.span(start, j);
        if key.text.is_empty() {
            let end = self
                .value_end(j + 1)
                .unwrap_or(b.len())
                .max(j + 1)
                .min(b.len());
            return Err(TextError::at(self.span(start, end), "missing field name"));
        }
        if j >= b.len() || is_sep(b[j]) {
            self.i = j;
            return Ok(Some(Kv {
                whole: key,
                key,
                value: None,
                delim: 0,
            }));
        }
        let delim = b[j];
        match delim {
            b'=' | b':' => {
                let vstart = j + 1;
                let vend = match self.value_end(vstart) {
                    Ok(e) => e,
                    Err(msg) => return Err(TextError::at(self.span(start, b.len()), msg)),
                };
                self.i = vend;
                Ok(Some(Kv {
                    whole: self.span(start, vend),
                    key,
                    value: Some(self.span(vstart, vend)),
                    delim,
                }))
            }
            b'(' => {
                let mut depth = 0usize;
                let mut k = j;
                while k < b.len() {
                    match b[k] {
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    k += 1;
                }
                if k >= b.len() {
                    return Err(TextError::at(
                        self.span(start, b.len()),
                        format!("{}: missing ')'", key.text),
                    ));
                }
                self.i = k + 1;
                if self.i < b.len() && !is_sep(b[self.i]) {
                    let end = self.value_end(self.i).unwrap_or(b.len());
                    return Err(TextError::at(
                        self.span(start, end.max(self.i)),
                        format!("{}: unexpected text after ')'", key.text),
                    ));
                }
                Ok(Some(Kv {
                    whole: self.span(start, k + 1),
                    key,
                    value: Some(self.span(j + 1, k)),
                    delim,
                }))
            }
            _ => Err(TextError::at(
                self.span(start, j + 1),
                "unbalanced ')'".to_string(),
            )),
        }
    }

    /// End of a value starting at `from`: the next separator outside parentheses.
    fn value_end(&self, from: usize) -> Result<usize, String> {
        let b = self.s.as_bytes();
        let mut depth = 0usize;
        let mut k = from;
        while k < b.len() {
            match b[k] {
                b'(' => depth += 1,
                b')' => {
                    if depth == 0 {
                        return Err("unbalanced ')'".to_string());
                    }
                    depth -= 1;
                }
                c if depth == 0 && is_sep(c) => break,
                _ => {}
            }
            k += 1;
        }
        if depth > 0 {
            return Err("missing ')'".to_string());
        }
        Ok(k)
    }
}

/// Splits a whole string into fields.
pub(crate) fn split_all(s: &str, base: usize) -> Result<Vec<Kv<'_>>, TextError> {
    let mut lx = Lexer::new(s, base);
    let mut v = Vec::new();
    while let Some(kv) = lx.next_kv()? {
        v.push(kv);
    }
    Ok(v)
}

// ---------------------------------------------------------------- numbers

/// An unsigned integer the way ovs-ofctl reads one (C `strtoull` base 0):
/// decimal, `0x` hex or leading-`0` octal, an optional `+`.
pub(crate) fn parse_uint(s: &str) -> Option<u64> {
    let s = s.strip_prefix('+').unwrap_or(s);
    if s.is_empty() {
        return None;
    }
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// A decimal-only unsigned integer (ovs-ofctl's `str_to_uint`: tables,
/// port numbers).
pub(crate) fn parse_dec(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `what: value V out of range` / `what: invalid number "V"` for a value
/// that must be at most `max`.
pub(crate) fn uint_max(what: &str, s: &str, max: u64) -> Result<u64, String> {
    match parse_uint(s) {
        Some(v) if v <= max => Ok(v),
        Some(_) => Err(format!("{what}: value {s} out of range")),
        None if s.is_empty() => Err(format!("{what}: missing value")),
        None if s.starts_with('-') => Err(format!("{what}: value {s} out of range")),
        None => Err(format!("{what}: invalid number {s:?}")),
    }
}

/// `V` or `V/M` for an integer field at most `max` (mask defaults to `max`).
pub(crate) fn uint_masked(what: &str, s: &str, max: u64) -> Result<(u64, u64), String> {
    match s.split_once('/') {
        Some((v, m)) => Ok((uint_max(what, v, max)?, uint_max(what, m, max)?)),
        None => Ok((uint_max(what, s, max)?, max)),
    }
}

/// C's `%#x`: `0` for zero, `0x…` otherwise (ovs-ofctl prints metadata,
/// tun_id and write_metadata this way).
pub(crate) fn hex_c(v: u64) -> String {
    if v == 0 {
        "0".to_string()
    } else {
        format!("{v:#x}")
    }
}

// ---------------------------------------------------------------- addresses

pub(crate) fn parse_mac(what: &str, s: &str) -> Result<MacAddr, String> {
    let mut a = [0u8; 6];
    let mut parts = s.split(':');
    for b in a.iter_mut() {
        let p = parts.next().unwrap_or("");
        if p.is_empty() || p.len() > 2 || !p.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!("{what}: invalid Ethernet address {s:?}"));
        }
        *b = u8::from_str_radix(p, 16)
            .map_err(|_| format!("{what}: invalid Ethernet address {s:?}"))?;
    }
    if parts.next().is_some() {
        return Err(format!("{what}: invalid Ethernet address {s:?}"));
    }
    Ok(MacAddr(a))
}

/// `MAC` or `MAC/MASK`; the mask defaults to all-ones.
pub(crate) fn parse_mac_masked(what: &str, s: &str) -> Result<(MacAddr, MacAddr), String> {
    match s.split_once('/') {
        Some((v, m)) => Ok((parse_mac(what, v)?, parse_mac(what, m)?)),
        None => Ok((parse_mac(what, s)?, MacAddr::BROADCAST)),
    }
}

pub(crate) fn mac_and(a: MacAddr, m: MacAddr) -> MacAddr {
    let mut r = [0u8; 6];
    for (i, x) in r.iter_mut().enumerate() {
        *x = a.0[i] & m.0[i];
    }
    MacAddr(r)
}

pub(crate) fn parse_ipv4(what: &str, s: &str) -> Result<Ipv4Addr, String> {
    s.parse::<Ipv4Addr>()
        .map_err(|_| format!("{what}: invalid IP address {s:?}"))
}

/// `A.B.C.D`, `A.B.C.D/N` or `A.B.C.D/M.A.S.K`.
pub(crate) fn parse_ipv4_masked(what: &str, s: &str) -> Result<(Ipv4Addr, Ipv4Addr), String> {
    let Some((a, m)) = s.split_once('/') else {
        return Ok((parse_ipv4(what, s)?, Ipv4Addr::BROADCAST));
    };
    let addr = parse_ipv4(what, a)?;
    if m.contains('.') {
        return Ok((addr, parse_ipv4(what, m)?));
    }
    match parse_dec(m) {
        Some(n) if n <= 32 => {
            let bits = if n == 0 { 0 } else { u32::MAX << (32 - n) };
            Ok((addr, Ipv4Addr::from(bits)))
        }
        _ => Err(format!(
            "{what}: {s}: IPv4 network prefix bits not between 0 and 32, inclusive"
        )),
    }
}

pub(crate) fn parse_ipv6(what: &str, s: &str) -> Result<Ipv6Addr, String> {
    s.parse::<Ipv6Addr>()
        .map_err(|_| format!("{what}: invalid IPv6 address {s:?}"))
}

/// `ADDR`, `ADDR/N` or `ADDR/MASK`.
pub(crate) fn parse_ipv6_masked(what: &str, s: &str) -> Result<(Ipv6Addr, Ipv6Addr), String> {
    let Some((a, m)) = s.split_once('/') else {
        return Ok((parse_ipv6(what, s)?, Ipv6Addr::from(u128::MAX)));
    };
    let addr = parse_ipv6(what, a)?;
    if m.contains(':') {
        return Ok((addr, parse_ipv6(what, m)?));
    }
    match parse_dec(m) {
        Some(n) if n <= 128 => {
            let bits = if n == 0 { 0 } else { u128::MAX << (128 - n) };
            Ok((addr, Ipv6Addr::from(bits)))
        }
        _ => Err(format!(
            "{what}: {s}: IPv6 network prefix bits not between 0 and 128, inclusive"
        )),
    }
}

/// Prefix length of a contiguous (CIDR) mask, if it is one.
fn cidr_len(mask: u128, bits: u32) -> Option<u32> {
    let ones = (mask << (128 - bits)).leading_ones().min(bits);
    let full: u128 = if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    let expect = if ones == 0 {
        0
    } else {
        (full << (bits - ones)) & full
    };
    (mask == expect).then_some(ones)
}

/// `A.B.C.D` (exact), `A.B.C.D/N` (CIDR) or `A.B.C.D/M.A.S.K`; the address
/// is printed already masked, as ovs-ofctl does.
pub(crate) fn fmt_ipv4_masked(a: Ipv4Addr, m: Ipv4Addr) -> String {
    let (a, m) = (u32::from(a), u32::from(m));
    let v = Ipv4Addr::from(a & m);
    if m == u32::MAX {
        return v.to_string();
    }
    match cidr_len(u128::from(m), 32) {
        Some(n) => format!("{v}/{n}"),
        None => format!("{v}/{}", Ipv4Addr::from(m)),
    }
}

/// An IPv6 address as glibc's `inet_ntop` (hence ovs-ofctl) writes it: like
/// Rust's `Display` (RFC 5952), except that an IPv4-compatible address
/// (`::a.b.c.d`, the first 96 bits zero but not the 7th group) keeps the
/// dotted form.
pub(crate) fn fmt_ipv6(a: Ipv6Addr) -> String {
    let s = a.segments();
    if s[..6] == [0; 6] && s[6] != 0 {
        let o = a.octets();
        return format!("::{}", Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    a.to_string()
}

pub(crate) fn fmt_ipv6_masked(a: Ipv6Addr, m: Ipv6Addr) -> String {
    let (a, m) = (u128::from(a), u128::from(m));
    let v = fmt_ipv6(Ipv6Addr::from(a & m));
    if m == u128::MAX {
        return v;
    }
    match cidr_len(m, 128) {
        Some(n) => format!("{v}/{n}"),
        None => format!("{v}/{}", fmt_ipv6(Ipv6Addr::from(m))),
    }
}

pub(crate) fn fmt_mac_masked(a: MacAddr, m: MacAddr) -> String {
    if m == MacAddr::BROADCAST {
        a.to_string()
    } else {
        format!("{}/{}", mac_and(a, m), m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(s: &str) -> Vec<(String, Option<String>)> {
        split_all(s, 0)
            .unwrap()
            .into_iter()
            .map(|kv| (kv.key().to_string(), kv.value.map(|v| v.text.to_string())))
            .collect()
    }

    #[test]
    fn lexer_splits_on_commas_and_spaces_and_keeps_parentheses() {
        assert_eq!(
            keys("ip ,  nw_src=1.1.1.1 priority:5,write_actions(output:1,group:2) drop"),
            vec![
                ("ip".into(), None),
                ("nw_src".into(), Some("1.1.1.1".into())),
                ("priority".into(), Some("5".into())),
                ("write_actions".into(), Some("output:1,group:2".into())),
                ("drop".into(), None),
            ]
        );
        assert_eq!(
            keys("set_field:00:11:22:33:44:55->eth_src,controller(max_len=5)"),
            vec![
                (
                    "set_field".into(),
                    Some("00:11:22:33:44:55->eth_src".into())
                ),
                ("controller".into(), Some("max_len=5".into())),
            ]
        );
    }

    #[test]
    fn lexer_reports_unbalanced_parentheses_with_position() {
        let e = split_all("output:1,write_actions(output:1", 0).unwrap_err();
        assert_eq!(e.pos, 9);
        assert!(e.msg.contains("missing ')'"), "{e}");
        let e = split_all("ip,output:1)", 0).unwrap_err();
        assert!(e.msg.contains("unbalanced ')'"), "{e}");
        assert!(split_all("=5", 0).is_err());
        assert!(split_all(")", 0).is_err());
    }

    #[test]
    fn numbers_follow_strtoull_base_zero() {
        assert_eq!(parse_uint("010"), Some(8));
        assert_eq!(parse_uint("0X11"), Some(17));
        assert_eq!(parse_uint("+5"), Some(5));
        assert_eq!(parse_uint("-1"), None);
        assert_eq!(parse_uint("0x"), None);
        assert_eq!(parse_uint("1e2"), None);
        assert_eq!(parse_uint("0"), Some(0));
        assert_eq!(parse_uint("08"), None);
        assert_eq!(parse_dec("0x10"), None);
        assert_eq!(hex_c(0), "0");
        assert_eq!(hex_c(255), "0xff");
    }

    #[test]
    fn addresses_parse_and_format_like_ovs() {
        let (a, m) = parse_ipv4_masked("nw_dst", "10.0.0.1/255.0.255.0").unwrap();
        assert_eq!(fmt_ipv4_masked(a, m), "10.0.0.0/255.0.255.0");
        let (a, m) = parse_ipv4_masked("nw_dst", "10.1.2.3/8").unwrap();
        assert_eq!(fmt_ipv4_masked(a, m), "10.0.0.0/8");
        let (a, m) = parse_ipv4_masked("nw_dst", "0.0.0.0/0").unwrap();
        assert_eq!(fmt_ipv4_masked(a, m), "0.0.0.0/0");
        assert!(parse_ipv4_masked("nw_dst", "1.1.1.1/33").is_err());
        let (a, m) = parse_ipv6_masked("ipv6_src", "::1/ffff::").unwrap();
        assert_eq!(fmt_ipv6_masked(a, m), "::/16");
        let (a, m) = parse_ipv6_masked("ipv6_src", "2001:db8::1/ffff:0:ffff::").unwrap();
        assert_eq!(fmt_ipv6_masked(a, m), "2001::/ffff:0:ffff::");
        let v6 = |s: &str| s.parse::<Ipv6Addr>().unwrap();
        assert_eq!(fmt_ipv6(v6("::1.2.3.4")), "::1.2.3.4");
        assert_eq!(fmt_ipv6(v6("::2")), "::2");
        assert_eq!(fmt_ipv6(v6("::")), "::");
        assert_eq!(fmt_ipv6(v6("::ffff:1.2.3.4")), "::ffff:1.2.3.4");
        assert_eq!(fmt_ipv6(v6("2001:db8:0:0:1:0:0:1")), "2001:db8::1:0:0:1");
        assert!(parse_mac("dl_src", "00:11:22:33:44").is_err());
        assert!(parse_mac("dl_src", "000102030405").is_err());
        assert_eq!(
            parse_mac("dl_src", "0:1:2:3:4:5").unwrap().to_string(),
            "00:01:02:03:04:05"
        );
    }
}
