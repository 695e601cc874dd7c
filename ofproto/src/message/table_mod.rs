//! `OFPT_TABLE_MOD`: table_id u8, pad 3, config u32.

use super::exact_body;
use crate::error::WireError;
use crate::wire::{put_zeros, PResult};
use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u32, be_u8};

/// Body size of `ofp_table_mod` after the OpenFlow header.
pub const OFP_TABLE_MOD_BODY_LEN: usize = 8;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct TableMod {
    pub table_id: u8,
    pub config: u32,
}

impl TableMod {
    /// `body` is the message after the 8-byte OpenFlow header.
    pub fn parse_body(body: &[u8]) -> Result<Self, WireError> {
        exact_body(body, OFP_TABLE_MOD_BODY_LEN, "ofp_table_mod", |i| {
            let (i, table_id) = be_u8(i)?;
            let (i, config) = be_u32(&i[3..])?;
            PResult::Ok((i, TableMod { table_id, config }))
        })
    }

    pub fn emit_body(&self, buf: &mut BytesMut) {
        buf.put_u8(self.table_id);
        put_zeros(buf, 3);
        buf.put_u32(self.config);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::OFPBRC_BAD_LEN;

    #[test]
    fn table_mod_is_byte_exact() {
        let t = TableMod {
            table_id: 0xff,
            config: 3,
        };
        let mut buf = BytesMut::new();
        t.emit_body(&mut buf);
        assert_eq!(&buf[..], &[0xff, 0, 0, 0, 0, 0, 0, 3]);
        assert_eq!(TableMod::parse_body(&buf).unwrap(), t);
        assert_eq!(
            TableMod::parse_body(&buf[..7]).unwrap_err().code,
            OFPBRC_BAD_LEN
        );
        assert_eq!(
            TableMod::parse_body(&[0; 9]).unwrap_err().code,
            OFPBRC_BAD_LEN
        );
    }
}
