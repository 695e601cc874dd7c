//! `OFPT_PORT_STATUS`: reason u8, pad 7, `ofp_port` (64 bytes).

use super::exact_body;
use crate::error::WireError;
use crate::port::{PortDesc, OFP_PORT_LEN};
use crate::wire::{put_zeros, PResult};
use bytes::{BufMut, BytesMut};
use nom::number::complete::be_u8;

/// Body size of `ofp_port_status` after the OpenFlow header.
pub const OFP_PORT_STATUS_BODY_LEN: usize = 8 + OFP_PORT_LEN;

#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct PortStatus {
    pub reason: u8,
    pub desc: PortDesc,
}

impl PortStatus {
    /// `body` is the message after the 8-byte OpenFlow header.
    pub fn parse_body(body: &[u8]) -> Result<Self, WireError> {
        exact_body(body, OFP_PORT_STATUS_BODY_LEN, "ofp_port_status", |i| {
            let (i, reason) = be_u8(i)?;
            let (i, desc) = PortDesc::parse(&i[7..])?;
            PResult::Ok((i, PortStatus { reason, desc }))
        })
    }

    pub fn emit_body(&self, buf: &mut BytesMut) {
        buf.put_u8(self.reason);
        put_zeros(buf, 7);
        self.desc.emit(buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::OFPBRC_BAD_LEN;

    #[test]
    fn port_status_round_trips_and_rejects_wrong_lengths() {
        let s = PortStatus {
            reason: crate::consts::OFPPR_MODIFY,
            desc: PortDesc {
                port_no: 3,
                name: "tap3".into(),
                ..Default::default()
            },
        };
        let mut buf = BytesMut::new();
        s.emit_body(&mut buf);
        assert_eq!(buf.len(), OFP_PORT_STATUS_BODY_LEN);
        assert_eq!(&buf[..12], &[2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3]);
        assert_eq!(PortStatus::parse_body(&buf).unwrap(), s);
        for n in 0..buf.len() {
            assert_eq!(
                PortStatus::parse_body(&buf[..n]).unwrap_err().code,
                OFPBRC_BAD_LEN
            );
        }
        let mut long = buf.to_vec();
        long.extend_from_slice(&[0; 8]);
        assert_eq!(
            PortStatus::parse_body(&long).unwrap_err().code,
            OFPBRC_BAD_LEN
        );
    }
}
