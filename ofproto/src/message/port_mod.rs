//! `OFPT_PORT_MOD`: port_no u32, pad 4, hw_addr 6, pad 2, config u32,
//! mask u32, advertise u32, pad 4.

use super::exact_body;
use crate::error::WireError;
use crate::wire::{put_zeros, MacAddr, PResult};
use bytes::{BufMut, BytesMut};
use nom::number::complete::be_u32;

/// Body size of `ofp_port_mod` after the OpenFlow header.
pub const OFP_PORT_MOD_BODY_LEN: usize = 32;

#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct PortMod {
    pub port_no: u32,
    pub hw_addr: crate::wire::MacAddr,
    pub config: u32,
    pub mask: u32,
    pub advertise: u32,
}

impl PortMod {
    /// `body` is the message after the 8-byte OpenFlow header.
    pub fn parse_body(body: &[u8]) -> Result<Self, WireError> {
        exact_body(body, OFP_PORT_MOD_BODY_LEN, "ofp_port_mod", |i| {
            let (i, port_no) = be_u32(i)?;
            let (i, hw_addr) = MacAddr::parse(&i[4..])?;
            let (i, config) = be_u32(&i[2..])?;
            let (i, mask) = be_u32(i)?;
            let (i, advertise) = be_u32(i)?;
            PResult::Ok((
                &i[4..],
                PortMod {
                    port_no,
                    hw_addr,
                    config,
                    mask,
                    advertise,
                },
            ))
        })
    }

    pub fn emit_body(&self, buf: &mut BytesMut) {
        buf.put_u32(self.port_no);
        put_zeros(buf, 4);
        self.hw_addr.emit(buf);
        put_zeros(buf, 2);
        buf.put_u32(self.config);
        buf.put_u32(self.mask);
        buf.put_u32(self.advertise);
        put_zeros(buf, 4);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::OFPBRC_BAD_LEN;

    #[test]
    fn port_mod_is_byte_exact() {
        let m = PortMod {
            port_no: 1,
            hw_addr: MacAddr([0, 0x11, 0x22, 0x33, 0x44, 0x55]),
            config: crate::consts::OFPPC_PORT_DOWN,
            mask: 0x65,
            advertise: 0x2808,
        };
        #[rustfmt::skip]
        let want = [
            0, 0, 0, 1, 0, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0,
            0, 0, 0, 1, 0, 0, 0, 0x65, 0, 0, 0x28, 0x08, 0, 0, 0, 0,
        ];
        let mut buf = BytesMut::new();
        m.emit_body(&mut buf);
        assert_eq!(&buf[..], &want[..]);
        assert_eq!(PortMod::parse_body(&want).unwrap(), m);
        for n in 0..want.len() {
            assert_eq!(
                PortMod::parse_body(&want[..n]).unwrap_err().code,
                OFPBRC_BAD_LEN
            );
        }
    }
}
