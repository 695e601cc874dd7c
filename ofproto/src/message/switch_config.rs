//! `ofp_switch_config` (GET_CONFIG_REPLY, SET_CONFIG): flags u16, miss_send_len u16.

use super::exact_body;
use crate::error::WireError;
use crate::wire::PResult;
use bytes::{BufMut, BytesMut};
use nom::number::complete::be_u16;

/// Body size of `ofp_switch_config` after the OpenFlow header.
pub const OFP_SWITCH_CONFIG_BODY_LEN: usize = 4;

/// `ofp_switch_config` (GET_CONFIG_REPLY, SET_CONFIG).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct SwitchConfig {
    pub flags: u16,
    pub miss_send_len: u16,
}

impl SwitchConfig {
    /// `body` is the message after the 8-byte OpenFlow header.
    pub fn parse_body(body: &[u8]) -> Result<Self, WireError> {
        exact_body(body, OFP_SWITCH_CONFIG_BODY_LEN, "ofp_switch_config", |i| {
            let (i, flags) = be_u16(i)?;
            let (i, miss_send_len) = be_u16(i)?;
            PResult::Ok((
                i,
                SwitchConfig {
                    flags,
                    miss_send_len,
                },
            ))
        })
    }

    pub fn emit_body(&self, buf: &mut BytesMut) {
        buf.put_u16(self.flags);
        buf.put_u16(self.miss_send_len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::OFPBRC_BAD_LEN;

    #[test]
    fn switch_config_is_byte_exact() {
        let c = SwitchConfig {
            flags: crate::consts::OFPC_FRAG_DROP,
            miss_send_len: 0xffe5,
        };
        let mut buf = BytesMut::new();
        c.emit_body(&mut buf);
        assert_eq!(&buf[..], &[0, 1, 0xff, 0xe5]);
        assert_eq!(SwitchConfig::parse_body(&buf).unwrap(), c);
        for v in [&[][..], &[0, 1, 0xff], &[0, 1, 0xff, 0xe5, 0]] {
            assert_eq!(
                SwitchConfig::parse_body(v).unwrap_err().code,
                OFPBRC_BAD_LEN
            );
        }
    }
}
