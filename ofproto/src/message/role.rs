//! ROLE_REQUEST / ROLE_REPLY (`ofp_role_request`): role u32, pad 4, generation_id u64.

use super::exact_body;
use crate::error::WireError;
use crate::wire::{put_zeros, PResult};
use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u32, be_u64};

/// Body size of `ofp_role_request` after the OpenFlow header.
pub const OFP_ROLE_REQUEST_BODY_LEN: usize = 16;

/// ROLE_REQUEST / ROLE_REPLY body.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct RoleMsg {
    pub role: u32,
    pub generation_id: u64,
}

impl RoleMsg {
    /// `body` is the message after the 8-byte OpenFlow header.
    pub fn parse_body(body: &[u8]) -> Result<Self, WireError> {
        exact_body(body, OFP_ROLE_REQUEST_BODY_LEN, "ofp_role_request", |i| {
            let (i, role) = be_u32(i)?;
            let (i, generation_id) = be_u64(&i[4..])?;
            PResult::Ok((
                i,
                RoleMsg {
                    role,
                    generation_id,
                },
            ))
        })
    }

    pub fn emit_body(&self, buf: &mut BytesMut) {
        buf.put_u32(self.role);
        put_zeros(buf, 4);
        buf.put_u64(self.generation_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::OFPBRC_BAD_LEN;

    #[test]
    fn role_is_byte_exact() {
        let r = RoleMsg {
            role: crate::consts::OFPCR_ROLE_MASTER,
            generation_id: 0x1122_3344_5566_7788,
        };
        let want = [
            0, 0, 0, 2, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
        ];
        let mut buf = BytesMut::new();
        r.emit_body(&mut buf);
        assert_eq!(&buf[..], &want[..]);
        assert_eq!(RoleMsg::parse_body(&want).unwrap(), r);
        assert_eq!(
            RoleMsg::parse_body(&want[..15]).unwrap_err().code,
            OFPBRC_BAD_LEN
        );
        assert_eq!(
            RoleMsg::parse_body(&[0; 17]).unwrap_err().code,
            OFPBRC_BAD_LEN
        );
    }
}
