//! `OFPMP_QUEUE`: `ofp_queue_stats_request` and `ofp_queue_stats`.

use crate::consts::{OFPP_ANY, OFPQ_ALL};
use crate::error::OFPBRC_BAD_LEN;
use crate::wire::{take_exact, PResult};
use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u32, be_u64};

/// `sizeof(struct ofp_queue_stats_request)`.
pub const OFP_QUEUE_STATS_REQUEST_LEN: usize = 8;
/// `sizeof(struct ofp_queue_stats)`.
pub const OFP_QUEUE_STATS_LEN: usize = 40;

/// `ofp_queue_stats_request`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct QueueStatsRequest {
    /// `OFPP_ANY` for all ports.
    pub port_no: u32,
    /// `OFPQ_ALL` for all queues.
    pub queue_id: u32,
}

impl Default for QueueStatsRequest {
    fn default() -> Self {
        QueueStatsRequest {
            port_no: OFPP_ANY,
            queue_id: OFPQ_ALL,
        }
    }
}

impl QueueStatsRequest {
    pub fn parse(i: &[u8]) -> PResult<'_, QueueStatsRequest> {
        let (rest, b) = take_exact(
            i,
            OFP_QUEUE_STATS_REQUEST_LEN,
            OFPBRC_BAD_LEN,
            "queue stats request",
        )?;
        let (b, port_no) = be_u32(b)?;
        let (_, queue_id) = be_u32(b)?;
        Ok((rest, QueueStatsRequest { port_no, queue_id }))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        buf.put_u32(self.port_no);
        buf.put_u32(self.queue_id);
    }
}

/// `ofp_queue_stats`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct QueueStats {
    pub port_no: u32,
    pub queue_id: u32,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub duration_sec: u32,
    pub duration_nsec: u32,
}

impl QueueStats {
    pub fn parse(i: &[u8]) -> PResult<'_, QueueStats> {
        let (rest, b) = take_exact(i, OFP_QUEUE_STATS_LEN, OFPBRC_BAD_LEN, "queue stats")?;
        let (b, port_no) = be_u32(b)?;
        let (b, queue_id) = be_u32(b)?;
        let (b, tx_bytes) = be_u64(b)?;
        let (b, tx_packets) = be_u64(b)?;
        let (b, tx_errors) = be_u64(b)?;
        let (b, duration_sec) = be_u32(b)?;
        let (_, duration_nsec) = be_u32(b)?;
        Ok((
            rest,
            QueueStats {
                port_no,
                queue_id,
                tx_bytes,
                tx_packets,
                tx_errors,
                duration_sec,
                duration_nsec,
            },
        ))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        buf.put_u32(self.port_no);
        buf.put_u32(self.queue_id);
        buf.put_u64(self.tx_bytes);
        buf.put_u64(self.tx_packets);
        buf.put_u64(self.tx_errors);
        buf.put_u32(self.duration_sec);
        buf.put_u32(self.duration_nsec);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_stats_request_round_trips() {
        let r = QueueStatsRequest::default();
        let mut buf = BytesMut::new();
        r.emit(&mut buf);
        assert_eq!(&buf[..], &[0xff; 8]);
        assert_eq!(QueueStatsRequest::parse(&buf).unwrap(), (&[][..], r));
    }

    #[test]
    fn queue_stats_round_trips() {
        let q = QueueStats {
            port_no: 7,
            queue_id: 1,
            tx_bytes: 100,
            tx_packets: 2,
            tx_errors: 0,
            duration_sec: 3,
            duration_nsec: 4,
        };
        let mut buf = BytesMut::new();
        q.emit(&mut buf);
        assert_eq!(buf.len(), OFP_QUEUE_STATS_LEN);
        assert_eq!(QueueStats::parse(&buf).unwrap(), (&[][..], q));
    }
}
