//! `OFPT_FEATURES_REPLY` (`ofp_switch_features`): datapath_id u64,
//! n_buffers u32, n_tables u8, auxiliary_id u8, pad 2, capabilities u32,
//! reserved u32.

use super::exact_body;
use crate::error::WireError;
use crate::wire::{put_zeros, PResult};
use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u32, be_u64, be_u8};

/// Body size of `ofp_switch_features` after the OpenFlow header.
pub const OFP_SWITCH_FEATURES_BODY_LEN: usize = 24;

/// `OFPT_FEATURES_REPLY` (`ofp_switch_features`).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct FeaturesReply {
    pub datapath_id: u64,
    pub n_buffers: u32,
    pub n_tables: u8,
    pub auxiliary_id: u8,
    pub capabilities: u32,
    pub reserved: u32,
}

impl FeaturesReply {
    /// `body` is the message after the 8-byte OpenFlow header.
    pub fn parse_body(body: &[u8]) -> Result<Self, WireError> {
        exact_body(
            body,
            OFP_SWITCH_FEATURES_BODY_LEN,
            "ofp_switch_features",
            |i| {
                let (i, datapath_id) = be_u64(i)?;
                let (i, n_buffers) = be_u32(i)?;
                let (i, n_tables) = be_u8(i)?;
                let (i, auxiliary_id) = be_u8(i)?;
                let (i, capabilities) = be_u32(&i[2..])?;
                let (i, reserved) = be_u32(i)?;
                PResult::Ok((
                    i,
                    FeaturesReply {
                        datapath_id,
                        n_buffers,
                        n_tables,
                        auxiliary_id,
                        capabilities,
                        reserved,
                    },
                ))
            },
        )
    }

    pub fn emit_body(&self, buf: &mut BytesMut) {
        buf.put_u64(self.datapath_id);
        buf.put_u32(self.n_buffers);
        buf.put_u8(self.n_tables);
        buf.put_u8(self.auxiliary_id);
        put_zeros(buf, 2);
        buf.put_u32(self.capabilities);
        buf.put_u32(self.reserved);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::OFPBRC_BAD_LEN;

    #[test]
    fn features_reply_is_byte_exact() {
        let f = FeaturesReply {
            datapath_id: 0x0102_0304_0506_0708,
            n_buffers: 256,
            n_tables: 254,
            auxiliary_id: 1,
            capabilities: 0x4f,
            reserved: 0,
        };
        #[rustfmt::skip]
        let want = [
            1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 1, 0, 254, 1, 0, 0,
            0, 0, 0, 0x4f, 0, 0, 0, 0,
        ];
        let mut buf = BytesMut::new();
        f.emit_body(&mut buf);
        assert_eq!(&buf[..], &want[..]);
        assert_eq!(FeaturesReply::parse_body(&want).unwrap(), f);
        for n in 0..want.len() {
            assert_eq!(
                FeaturesReply::parse_body(&want[..n]).unwrap_err().code,
                OFPBRC_BAD_LEN
            );
        }
        let mut long = want.to_vec();
        long.push(0);
        assert_eq!(
            FeaturesReply::parse_body(&long).unwrap_err().code,
            OFPBRC_BAD_LEN
        );
    }
}
