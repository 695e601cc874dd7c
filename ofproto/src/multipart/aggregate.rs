//! `OFPMP_AGGREGATE`: the request has the FLOW request's layout; the reply is
//! `ofp_aggregate_stats_reply`.

use super::skip;
use crate::error::OFPBRC_BAD_LEN;
use crate::wire::{take_exact, PResult};
use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u32, be_u64};

/// `ofp_aggregate_stats_request` is laid out exactly like
/// `ofp_flow_stats_request`.
pub type AggregateStatsRequest = super::FlowStatsRequest;

/// `sizeof(struct ofp_aggregate_stats_reply)`.
pub const OFP_AGGREGATE_STATS_REPLY_LEN: usize = 24;

/// `ofp_aggregate_stats_reply`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct AggregateStats {
    pub packet_count: u64,
    pub byte_count: u64,
    pub flow_count: u32,
}

impl AggregateStats {
    pub fn parse(i: &[u8]) -> PResult<'_, AggregateStats> {
        let (rest, b) = take_exact(
            i,
            OFP_AGGREGATE_STATS_REPLY_LEN,
            OFPBRC_BAD_LEN,
            "aggregate stats reply",
        )?;
        let (b, packet_count) = be_u64(b)?;
        let (b, byte_count) = be_u64(b)?;
        let (b, flow_count) = be_u32(b)?;
        skip(b, 4)?;
        Ok((
            rest,
            AggregateStats {
                packet_count,
                byte_count,
                flow_count,
            },
        ))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        buf.put_u64(self.packet_count);
        buf.put_u64(self.byte_count);
        buf.put_u32(self.flow_count);
        buf.put_bytes(0, 4);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::WireError;

    #[test]
    fn aggregate_reply_round_trips() {
        let a = AggregateStats {
            packet_count: 7,
            byte_count: 574,
            flow_count: 6,
        };
        let mut buf = BytesMut::new();
        a.emit(&mut buf);
        assert_eq!(buf.len(), OFP_AGGREGATE_STATS_REPLY_LEN);
        assert_eq!(AggregateStats::parse(&buf).unwrap(), (&[][..], a));
    }

    #[test]
    fn aggregate_reply_short_is_bad_len() {
        let e = AggregateStats::parse(&[0u8; 20]).unwrap_err();
        assert_eq!(WireError::from(e).code, OFPBRC_BAD_LEN);
    }
}
