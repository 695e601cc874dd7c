//! `ofp_port`: a port's description (PORT_STATUS, PORT_DESC reply).

use crate::consts::OFP_MAX_PORT_NAME_LEN;
use crate::error::OFPBRC_BAD_LEN;
use crate::wire::{cstr, put_cstr, put_zeros, take_exact, MacAddr, PResult};
use bytes::{BufMut, BytesMut};
use nom::number::complete::be_u32;

pub const OFP_PORT_LEN: usize = 64;

#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct PortDesc {
    pub port_no: u32,
    pub hw_addr: MacAddr,
    /// Interface name (at most 15 bytes on the wire, NUL-padded to 16).
    pub name: String,
    pub config: u32,
    pub state: u32,
    pub curr: u32,
    pub advertised: u32,
    pub supported: u32,
    pub peer: u32,
    pub curr_speed: u32,
    pub max_speed: u32,
}

impl PortDesc {
    /// Parses one 64-byte `ofp_port`. Fewer than 64 bytes → `OFPBRC_BAD_LEN`.
    ///
    /// The name is read up to its first NUL (at most 15 bytes are kept);
    /// bytes that are not UTF-8 are replaced, so such a name does not re-emit
    /// byte for byte (but re-decodes to the same value).
    pub fn parse(i: &[u8]) -> PResult<'_, PortDesc> {
        let (rest, b) = take_exact(i, OFP_PORT_LEN, OFPBRC_BAD_LEN, "ofp_port")?;
        // `b` is exactly 64 bytes, so none of the reads below can fail.
        let (b, port_no) = be_u32(b)?;
        let b = &b[4..];
        let (b, hw_addr) = MacAddr::parse(b)?;
        let b = &b[2..];
        let name = cstr(&b[..OFP_MAX_PORT_NAME_LEN]);
        let b = &b[OFP_MAX_PORT_NAME_LEN..];
        let (b, config) = be_u32(b)?;
        let (b, state) = be_u32(b)?;
        let (b, curr) = be_u32(b)?;
        let (b, advertised) = be_u32(b)?;
        let (b, supported) = be_u32(b)?;
        let (b, peer) = be_u32(b)?;
        let (b, curr_speed) = be_u32(b)?;
        let (b, max_speed) = be_u32(b)?;
        debug_assert!(b.is_empty());
        Ok((
            rest,
            PortDesc {
                port_no,
                hw_addr,
                name,
                config,
                state,
                curr,
                advertised,
                supported,
                peer,
                curr_speed,
                max_speed,
            },
        ))
    }

    /// Appends the 64-byte `ofp_port`. A name longer than 15 bytes is cut
    /// (at a character boundary) so the field stays NUL-terminated UTF-8.
    pub fn emit(&self, buf: &mut BytesMut) {
        buf.put_u32(self.port_no);
        put_zeros(buf, 4);
        self.hw_addr.emit(buf);
        put_zeros(buf, 2);
        put_cstr(buf, &self.name, OFP_MAX_PORT_NAME_LEN);
        for v in [
            self.config,
            self.state,
            self.curr,
            self.advertised,
            self.supported,
            self.peer,
            self.curr_speed,
            self.max_speed,
        ] {
            buf.put_u32(v);
        }
    }
}

#[cfg(test)]
pub(crate) mod arb {
    use super::PortDesc;
    use crate::wire::MacAddr;
    use proptest::prelude::*;

    /// Any `PortDesc` that survives a round trip (names: up to 15 printable ASCII bytes).
    pub fn port_desc() -> impl Strategy<Value = PortDesc> {
        (
            (any::<u32>(), any::<[u8; 6]>(), "[ -~]{0,15}"),
            any::<[u32; 8]>(),
        )
            .prop_map(|((port_no, mac, name), v)| PortDesc {
                port_no,
                hw_addr: MacAddr(mac),
                name,
                config: v[0],
                state: v[1],
                curr: v[2],
                advertised: v[3],
                supported: v[4],
                peer: v[5],
                curr_speed: v[6],
                max_speed: v[7],
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> PortDesc {
        PortDesc {
            port_no: 7,
            hw_addr: MacAddr([0xf2, 0x0b, 0xa4, 0xd0, 0x3f, 0x70]),
            name: "eth0".into(),
            config: 1,
            state: 4,
            curr: 0x2808,
            advertised: 0x2800,
            supported: 0x2808,
            peer: 0x2808,
            curr_speed: 5000,
            max_speed: 5000,
        }
    }

    #[rustfmt::skip]
    const SAMPLE_BYTES: [u8; 64] = [
        0, 0, 0, 7, 0, 0, 0, 0,
        0xf2, 0x0b, 0xa4, 0xd0, 0x3f, 0x70, 0, 0,
        b'e', b't', b'h', b'0', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0x28, 0x08, 0, 0, 0x28, 0x00,
        0, 0, 0x28, 0x08, 0, 0, 0x28, 0x08, 0, 0, 0x13, 0x88, 0, 0, 0x13, 0x88,
    ];

    #[test]
    fn port_desc_emits_exact_bytes() {
        let mut buf = BytesMut::new();
        sample().emit(&mut buf);
        assert_eq!(&buf[..], &SAMPLE_BYTES[..]);
    }

    #[test]
    fn port_desc_parses_exact_bytes_and_leaves_rest() {
        let mut v = SAMPLE_BYTES.to_vec();
        v.extend_from_slice(&[9, 9]);
        let (rest, p) = PortDesc::parse(&v).unwrap();
        assert_eq!(p, sample());
        assert_eq!(rest, &[9, 9]);
    }

    #[test]
    fn port_desc_short_input_is_bad_len() {
        for n in 0..OFP_PORT_LEN {
            let e = crate::WireError::from(PortDesc::parse(&SAMPLE_BYTES[..n]).unwrap_err());
            assert_eq!(e.code, OFPBRC_BAD_LEN, "prefix {n}");
        }
    }

    #[test]
    fn port_name_without_nul_keeps_15_bytes_as_ovs_does() {
        let mut v = SAMPLE_BYTES;
        v[16..32].copy_from_slice(b"abcdefghijklmnop");
        let (_, p) = PortDesc::parse(&v).unwrap();
        assert_eq!(p.name, "abcdefghijklmno");
        let mut buf = BytesMut::new();
        p.emit(&mut buf);
        assert_eq!(&buf[16..32], b"abcdefghijklmno\0");
    }

    #[test]
    fn long_multibyte_names_are_cut_at_a_char_boundary() {
        let p = PortDesc {
            name: "ポートポートポート".into(), // 27 bytes
            ..sample()
        };
        let mut buf = BytesMut::new();
        p.emit(&mut buf);
        let (_, q) = PortDesc::parse(&buf).unwrap();
        assert_eq!(q.name, "ポートポー"); // 15 bytes
    }

    #[test]
    fn invalid_utf8_names_decode_lossily_without_panicking() {
        let mut v = SAMPLE_BYTES;
        v[16..20].copy_from_slice(&[0xff, b'a', 0xc3, 0]);
        let (_, p) = PortDesc::parse(&v).unwrap();
        assert_eq!(p.name, "\u{fffd}a\u{fffd}");
        let mut buf = BytesMut::new();
        p.emit(&mut buf);
        assert_eq!(PortDesc::parse(&buf).unwrap().1.name, p.name);
    }

    proptest! {
        #[test]
        fn port_desc_round_trips(p in arb::port_desc()) {
            let mut buf = BytesMut::new();
            p.emit(&mut buf);
            prop_assert_eq!(buf.len(), OFP_PORT_LEN);
            let (rest, q) = PortDesc::parse(&buf).unwrap();
            prop_assert!(rest.is_empty());
            prop_assert_eq!(p, q);
        }
    }
}
