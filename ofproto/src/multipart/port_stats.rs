//! `OFPMP_PORT_STATS`: `ofp_port_stats_request` and `ofp_port_stats`.

use super::skip;
use crate::consts::OFPP_ANY;
use crate::error::OFPBRC_BAD_LEN;
use crate::wire::{take_exact, PResult};
use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u32, be_u64};

/// `sizeof(struct ofp_port_stats_request)`.
pub const OFP_PORT_STATS_REQUEST_LEN: usize = 8;
/// `sizeof(struct ofp_port_stats)`.
pub const OFP_PORT_STATS_LEN: usize = 112;

/// `ofp_port_stats_request`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct PortStatsRequest {
    /// `OFPP_ANY` for all ports.
    pub port_no: u32,
}

impl Default for PortStatsRequest {
    fn default() -> Self {
        PortStatsRequest { port_no: OFPP_ANY }
    }
}

impl PortStatsRequest {
    pub fn parse(i: &[u8]) -> PResult<'_, PortStatsRequest> {
        let (rest, b) = take_exact(
            i,
            OFP_PORT_STATS_REQUEST_LEN,
            OFPBRC_BAD_LEN,
            "port stats request",
        )?;
        let (_, port_no) = be_u32(b)?;
        Ok((rest, PortStatsRequest { port_no }))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        buf.put_u32(self.port_no);
        buf.put_bytes(0, 4);
    }
}

/// `ofp_port_stats`: counters of one port (all-ones = unavailable).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct PortStats {
    pub port_no: u32,
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_dropped: u64,
    pub tx_dropped: u64,
    pub rx_errors: u64,
    pub tx_errors: u64,
    pub rx_frame_err: u64,
    pub rx_over_err: u64,
    pub rx_crc_err: u64,
    pub collisions: u64,
    pub duration_sec: u32,
    pub duration_nsec: u32,
}

impl PortStats {
    pub fn parse(i: &[u8]) -> PResult<'_, PortStats> {
        let (rest, b) = take_exact(i, OFP_PORT_STATS_LEN, OFPBRC_BAD_LEN, "port stats")?;
        let (b, port_no) = be_u32(b)?;
        let (b, _) = skip(b, 4)?;
        let (b, rx_packets) = be_u64(b)?;
        let (b, tx_packets) = be_u64(b)?;
        let (b, rx_bytes) = be_u64(b)?;
        let (b, tx_bytes) = be_u64(b)?;
        let (b, rx_dropped) = be_u64(b)?;
        let (b, tx_dropped) = be_u64(b)?;
        let (b, rx_errors) = be_u64(b)?;
        let (b, tx_errors) = be_u64(b)?;
        let (b, rx_frame_err) = be_u64(b)?;
        let (b, rx_over_err) = be_u64(b)?;
        let (b, rx_crc_err) = be_u64(b)?;
        let (b, collisions) = be_u64(b)?;
        let (b, duration_sec) = be_u32(b)?;
        let (_, duration_nsec) = be_u32(b)?;
        Ok((
            rest,
            PortStats {
                port_no,
                rx_packets,
                tx_packets,
                rx_bytes,
                tx_bytes,
                rx_dropped,
                tx_dropped,
                rx_errors,
                tx_errors,
                rx_frame_err,
                rx_over_err,
                rx_crc_err,
                collisions,
                duration_sec,
                duration_nsec,
            },
        ))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        buf.put_u32(self.port_no);
        buf.put_bytes(0, 4);
        for c in [
            self.rx_packets,
            self.tx_packets,
            self.rx_bytes,
            self.tx_bytes,
            self.rx_dropped,
            self.tx_dropped,
            self.rx_errors,
            self.tx_errors,
            self.rx_frame_err,
            self.rx_over_err,
            self.rx_crc_err,
            self.collisions,
        ] {
            buf.put_u64(c);
        }
        buf.put_u32(self.duration_sec);
        buf.put_u32(self.duration_nsec);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::WireError;

    #[test]
    fn port_stats_request_round_trips() {
        let r = PortStatsRequest { port_no: 9 };
        let mut buf = BytesMut::new();
        r.emit(&mut buf);
        assert_eq!(&buf[..], &[0, 0, 0, 9, 0, 0, 0, 0]);
        assert_eq!(PortStatsRequest::parse(&buf).unwrap(), (&[][..], r));
    }

    #[test]
    fn port_stats_round_trips_every_counter_in_place() {
        let p = PortStats {
            port_no: 1,
            rx_packets: 2,
            tx_packets: 3,
            rx_bytes: 4,
            tx_bytes: 5,
            rx_dropped: 6,
            tx_dropped: 7,
            rx_errors: 8,
            tx_errors: 9,
            rx_frame_err: 10,
            rx_over_err: 11,
            rx_crc_err: 12,
            collisions: 13,
            duration_sec: 14,
            duration_nsec: 15,
        };
        let mut buf = BytesMut::new();
        p.emit(&mut buf);
        assert_eq!(buf.len(), OFP_PORT_STATS_LEN);
        // collisions is the last u64, right before the two durations.
        assert_eq!(buf[96..104], 13u64.to_be_bytes());
        assert_eq!(PortStats::parse(&buf).unwrap(), (&[][..], p));
    }

    #[test]
    fn port_stats_truncated_is_bad_len() {
        let e = PortStats::parse(&[0u8; 111]).unwrap_err();
        assert_eq!(WireError::from(e).code, OFPBRC_BAD_LEN);
    }
}
