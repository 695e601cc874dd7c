//! `OFPT_PACKET_OUT`: buffer_id u32, in_port u32, actions_len u16, pad 6,
//! actions (`actions_len` bytes), data (the rest).

use super::{min_body, parse_actions};
use crate::action::Action;
use crate::error::{WireError, OFPBRC_BAD_LEN};
use crate::wire::{patch_len, put_zeros, PResult};
use bytes::{BufMut, Bytes, BytesMut};
use nom::number::complete::{be_u16, be_u32};

/// Bytes of `ofp_packet_out` before the actions (after the OpenFlow header).
pub const OFP_PACKET_OUT_FIXED_LEN: usize = 16;

#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct PacketOut {
    pub buffer_id: u32,
    pub in_port: u32,
    pub actions: Vec<Action>,
    pub data: Bytes,
}

fn parse_fixed(i: &[u8]) -> PResult<'_, (u32, u32, u16)> {
    let (i, buffer_id) = be_u32(i)?;
    let (i, in_port) = be_u32(i)?;
    let (i, actions_len) = be_u16(i)?;
    Ok((&i[6..], (buffer_id, in_port, actions_len)))
}

impl PacketOut {
    /// `body` is the message after the 8-byte OpenFlow header. An
    /// `actions_len` running past the message is `OFPBRC_BAD_LEN`.
    pub fn parse_body(body: &[u8]) -> Result<Self, WireError> {
        min_body(body, OFP_PACKET_OUT_FIXED_LEN, "ofp_packet_out")?;
        let (i, (buffer_id, in_port, actions_len)) = parse_fixed(body)?;
        let actions_len = usize::from(actions_len);
        if actions_len > i.len() {
            return Err(WireError::new(
                OFPBRC_BAD_LEN,
                format!(
                    "packet_out actions_len {actions_len} exceeds the {} bytes after its fixed part",
                    i.len()
                ),
            ));
        }
        let (actions, data) = i.split_at(actions_len);
        Ok(PacketOut {
            buffer_id,
            in_port,
            actions: parse_actions(actions)?,
            data: Bytes::copy_from_slice(data),
        })
    }

    pub fn emit_body(&self, buf: &mut BytesMut) {
        buf.put_u32(self.buffer_id);
        buf.put_u32(self.in_port);
        let len_at = buf.len();
        buf.put_u16(0); // actions_len, patched below
        put_zeros(buf, 6);
        let actions_start = buf.len();
        Action::emit_list(&self.actions, buf);
        patch_len(buf, len_at, actions_start);
        buf.put_slice(&self.data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_out_without_actions_is_byte_exact() {
        let p = PacketOut {
            buffer_id: crate::consts::OFP_NO_BUFFER,
            in_port: crate::consts::OFPP_CONTROLLER,
            actions: vec![],
            data: Bytes::from_static(b"xy"),
        };
        #[rustfmt::skip]
        let want = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, b'x', b'y',
        ];
        let mut buf = BytesMut::new();
        p.emit_body(&mut buf);
        assert_eq!(&buf[..], &want[..]);
        assert_eq!(PacketOut::parse_body(&want).unwrap(), p);
    }

    #[test]
    fn packet_out_with_output_action_is_byte_exact() {
        let p = PacketOut {
            buffer_id: 7,
            in_port: 1,
            actions: vec![Action::Output {
                port: crate::consts::OFPP_FLOOD,
                max_len: 0,
            }],
            data: Bytes::new(),
        };
        #[rustfmt::skip]
        let want = [
            0, 0, 0, 7, 0, 0, 0, 1, 0, 16, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 16, 0xff, 0xff, 0xff, 0xfb, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        let mut buf = BytesMut::new();
        p.emit_body(&mut buf);
        assert_eq!(&buf[..], &want[..]);
        assert_eq!(PacketOut::parse_body(&want).unwrap(), p);
    }

    #[test]
    fn packet_out_length_errors_are_bad_len() {
        let mut v = vec![0u8; 16];
        for n in 0..16 {
            assert_eq!(
                PacketOut::parse_body(&v[..n]).unwrap_err().code,
                OFPBRC_BAD_LEN
            );
        }
        v[9] = 8; // actions_len 8, nothing follows
        let e = PacketOut::parse_body(&v).unwrap_err();
        assert_eq!(e.code, OFPBRC_BAD_LEN);
        assert!(e.reason.contains("actions_len 8"), "{e}");
    }
}
