//! Small parsing/emitting helpers shared by every wire module.
//!
//! Parsers are nom parsers over `&[u8]` with [`WireError`] as the error type, so
//! every failure carries the OpenFlow (type, code) to answer with. Lengths read
//! from the wire are always checked against the input before anything is
//! sliced or allocated.

use crate::error::{ErrorCode, WireError};
use bytes::{BufMut, BytesMut};
use std::fmt;
use std::str::FromStr;

/// nom result with our error type.
pub type PResult<'a, T> = nom::IResult<&'a [u8], T, WireError>;

/// A parse failure with a specific OpenFlow error code.
pub fn fail(
    code: ErrorCode,
    reason: impl Into<std::borrow::Cow<'static, str>>,
) -> nom::Err<WireError> {
    nom::Err::Failure(WireError::new(code, reason))
}

/// Splits `n` bytes off the front of `i`, or fails with `code` naming `what`.
pub fn take_exact<'a>(i: &'a [u8], n: usize, code: ErrorCode, what: &str) -> PResult<'a, &'a [u8]> {
    if i.len() < n {
        return Err(nom::Err::Failure(WireError::truncated(
            code,
            what,
            n,
            i.len(),
        )));
    }
    Ok((&i[n..], &i[..n]))
}

/// Reads a TLV-style length field at the front of a structure and splits off the
/// whole structure. `len` is the structure's declared length (including the
/// header that carried it); `min` its smallest legal value.
pub fn take_struct<'a>(
    i: &'a [u8],
    len: usize,
    min: usize,
    code: ErrorCode,
    what: &str,
) -> PResult<'a, &'a [u8]> {
    if len < min {
        return Err(fail(
            code,
            format!("{what} length {len} is shorter than its fixed part ({min})"),
        ));
    }
    take_exact(i, len, code, what)
}

/// Runs `p` and reports any failure under `code` instead of its own.
pub fn recode<'a, T>(code: ErrorCode, r: PResult<'a, T>) -> PResult<'a, T> {
    r.map_err(|e| match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => nom::Err::Failure(e.with_code(code)),
        nom::Err::Incomplete(n) => nom::Err::Incomplete(n),
    })
}

/// Turns a whole-input parse into a plain result, rejecting trailing bytes.
pub fn finish<T>(r: PResult<'_, T>, code: ErrorCode, what: &str) -> Result<T, WireError> {
    match r {
        Ok(([], v)) => Ok(v),
        Ok((rest, _)) => Err(WireError::new(
            code,
            format!("{} unexpected trailing bytes after {what}", rest.len()),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Bytes of padding needed to bring `len` to a multiple of 8.
pub const fn pad8(len: usize) -> usize {
    (8 - len % 8) % 8
}

/// Appends `n` zero bytes.
pub fn put_zeros(buf: &mut BytesMut, n: usize) {
    buf.put_bytes(0, n);
}

/// Overwrites the big-endian u16 at `at` with the number of bytes written since `at - offset`.
/// Used to fill in a length field once the structure's body has been emitted.
pub fn patch_len(buf: &mut BytesMut, len_at: usize, start: usize) {
    let len = (buf.len() - start) as u16;
    buf[len_at..len_at + 2].copy_from_slice(&len.to_be_bytes());
}

/// Decodes a fixed-size NUL-padded string field (e.g. `ofp_port.name`, DESC
/// strings): up to the first NUL, bytes that are not UTF-8 replaced. The
/// result is normalized to what [`put_cstr`] writes back into a field of the
/// same size (at most `len - 1` bytes, cut at a character boundary), so
/// decode → encode → decode is stable even for malformed input.
pub fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    let mut s = String::from_utf8_lossy(&b[..end]).into_owned();
    s.truncate(floor_char_boundary(&s, b.len().saturating_sub(1)));
    s
}

/// Encodes `s` into exactly `n` bytes, NUL-padded. A longer string is cut to
/// `n - 1` bytes at a character boundary, so the field stays NUL-terminated
/// UTF-8.
pub fn put_cstr(buf: &mut BytesMut, s: &str, n: usize) {
    let take = floor_char_boundary(s, n.saturating_sub(1));
    buf.put_slice(&s.as_bytes()[..take]);
    put_zeros(buf, n - take);
}

/// The largest index ≤ `max` that is a character boundary of `s`.
fn floor_char_boundary(s: &str, max: usize) -> usize {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    end
}

/// An Ethernet MAC address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    pub const ZERO: MacAddr = MacAddr([0; 6]);

    pub fn parse(i: &[u8]) -> PResult<'_, MacAddr> {
        let (i, b) = nom::bytes::complete::take(6usize)(i)?;
        let mut a = [0u8; 6];
        a.copy_from_slice(b);
        Ok((i, MacAddr(a)))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        buf.put_slice(&self.0);
    }

    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            a[0], a[1], a[2], a[3], a[4], a[5]
        )
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Error returned when a MAC address string is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid MAC address '{0}' (expected xx:xx:xx:xx:xx:xx)")]
pub struct MacParseError(pub String);

impl FromStr for MacAddr {
    type Err = MacParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut a = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for b in a.iter_mut() {
            let p = parts.next().ok_or_else(|| MacParseError(s.to_string()))?;
            if p.is_empty() || p.len() > 2 {
                return Err(MacParseError(s.to_string()));
            }
            *b = u8::from_str_radix(p, 16).map_err(|_| MacParseError(s.to_string()))?;
        }
        if parts.next().is_some() {
            return Err(MacParseError(s.to_string()));
        }
        Ok(MacAddr(a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_text_round_trips() {
        let m: MacAddr = "00:0a:0B:c:d:ff".parse().unwrap();
        assert_eq!(m.to_string(), "00:0a:0b:0c:0d:ff");
        assert!("00:11:22:33:44".parse::<MacAddr>().is_err());
        assert!("00:11:22:33:44:55:66".parse::<MacAddr>().is_err());
    }

    #[test]
    fn cstr_is_stable_through_put_cstr() {
        // Invalid UTF-8 grows when replaced (1 byte -> 3): the decoded form
        // must still fit the field it came from.
        let field = [0xe7, 0xa7, 0x81, 0xff, 0xff, 0xff, 0xff, 0xff];
        let s = cstr(&field);
        assert!(s.len() <= 7);
        let mut buf = BytesMut::new();
        put_cstr(&mut buf, &s, field.len());
        assert_eq!(cstr(&buf), s);
        // Multibyte characters are never split.
        let mut buf = BytesMut::new();
        put_cstr(&mut buf, "ポート", 8);
        assert_eq!(
            &buf[..],
            "ポー"
                .as_bytes()
                .iter()
                .chain(&[0, 0])
                .copied()
                .collect::<Vec<_>>()
                .as_slice()
        );
    }

    #[test]
    fn take_struct_rejects_short_and_overlong() {
        let code = crate::error::OFPBAC_BAD_LEN;
        assert!(take_struct(&[0u8; 4], 2, 4, code, "action").is_err());
        assert!(take_struct(&[0u8; 4], 8, 4, code, "action").is_err());
        assert_eq!(
            take_struct(&[0u8; 8], 8, 4, code, "action")
                .unwrap()
                .1
                .len(),
            8
        );
    }
}
