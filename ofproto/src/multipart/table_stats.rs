//! `OFPMP_TABLE` reply: `ofp_table_stats` entries.

use super::skip;
use crate::error::OFPBRC_BAD_LEN;
use crate::wire::{take_exact, PResult};
use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u32, be_u64, be_u8};

/// `sizeof(struct ofp_table_stats)`.
pub const OFP_TABLE_STATS_LEN: usize = 24;

/// `ofp_table_stats`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct TableStats {
    pub table_id: u8,
    pub active_count: u32,
    pub lookup_count: u64,
    pub matched_count: u64,
}

impl TableStats {
    pub fn parse(i: &[u8]) -> PResult<'_, TableStats> {
        let (rest, b) = take_exact(i, OFP_TABLE_STATS_LEN, OFPBRC_BAD_LEN, "table stats")?;
        let (b, table_id) = be_u8(b)?;
        let (b, _) = skip(b, 3)?;
        let (b, active_count) = be_u32(b)?;
        let (b, lookup_count) = be_u64(b)?;
        let (_, matched_count) = be_u64(b)?;
        Ok((
            rest,
            TableStats {
                table_id,
                active_count,
                lookup_count,
                matched_count,
            },
        ))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        buf.put_u8(self.table_id);
        buf.put_bytes(0, 3);
        buf.put_u32(self.active_count);
        buf.put_u64(self.lookup_count);
        buf.put_u64(self.matched_count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_stats_round_trips() {
        let t = TableStats {
            table_id: 254,
            active_count: 3,
            lookup_count: u64::MAX,
            matched_count: 1 << 40,
        };
        let mut buf = BytesMut::new();
        t.emit(&mut buf);
        assert_eq!(buf.len(), OFP_TABLE_STATS_LEN);
        assert_eq!(TableStats::parse(&buf).unwrap(), (&[][..], t));
    }
}
