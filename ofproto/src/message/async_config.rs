//! GET_ASYNC_REPLY / SET_ASYNC (`ofp_async_config`): packet_in_mask[2],
//! port_status_mask[2], flow_removed_mask[2], all u32.

use super::exact_body;
use crate::error::WireError;
use crate::wire::PResult;
use bytes::{BufMut, BytesMut};
use nom::number::complete::be_u32;

/// Body size of `ofp_async_config` after the OpenFlow header.
pub const OFP_ASYNC_CONFIG_BODY_LEN: usize = 24;

/// GET_ASYNC_REPLY / SET_ASYNC body: index 0 = master/equal, 1 = slave.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct AsyncConfig {
    pub packet_in_mask: [u32; 2],
    pub port_status_mask: [u32; 2],
    pub flow_removed_mask: [u32; 2],
}

fn pair(i: &[u8]) -> PResult<'_, [u32; 2]> {
    let (i, a) = be_u32(i)?;
    let (i, b) = be_u32(i)?;
    Ok((i, [a, b]))
}

impl AsyncConfig {
    /// `body` is the message after the 8-byte OpenFlow header.
    pub fn parse_body(body: &[u8]) -> Result<Self, WireError> {
        exact_body(body, OFP_ASYNC_CONFIG_BODY_LEN, "ofp_async_config", |i| {
            let (i, packet_in_mask) = pair(i)?;
            let (i, port_status_mask) = pair(i)?;
            let (i, flow_removed_mask) = pair(i)?;
            Ok((
                i,
                AsyncConfig {
                    packet_in_mask,
                    port_status_mask,
                    flow_removed_mask,
                },
            ))
        })
    }

    pub fn emit_body(&self, buf: &mut BytesMut) {
        for m in [
            self.packet_in_mask,
            self.port_status_mask,
            self.flow_removed_mask,
        ] {
            buf.put_u32(m[0]);
            buf.put_u32(m[1]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::OFPBRC_BAD_LEN;

    #[test]
    fn async_config_is_byte_exact() {
        let a = AsyncConfig {
            packet_in_mask: [1, 2],
            port_status_mask: [3, 4],
            flow_removed_mask: [5, 6],
        };
        let mut buf = BytesMut::new();
        a.emit_body(&mut buf);
        let want: Vec<u8> = (1u32..=6).flat_map(u32::to_be_bytes).collect();
        assert_eq!(&buf[..], &want[..]);
        assert_eq!(AsyncConfig::parse_body(&want).unwrap(), a);
        assert_eq!(
            AsyncConfig::parse_body(&want[..23]).unwrap_err().code,
            OFPBRC_BAD_LEN
        );
    }
}
