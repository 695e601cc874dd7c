//! `OFPMP_METER`: `ofp_meter_multipart_request` and `ofp_meter_stats` with its
//! `ofp_meter_band_stats` list.

use super::{parse_list, skip, take_entry};
use crate::consts::OFPM_ALL;
use crate::error::{WireError, OFPBRC_BAD_LEN};
use crate::wire::{patch_len, take_exact, PResult};
use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u32, be_u64};

/// `sizeof(struct ofp_meter_multipart_request)`.
pub const OFP_METER_MULTIPART_REQUEST_LEN: usize = 8;
/// `sizeof(struct ofp_meter_stats)` without band stats.
pub const OFP_METER_STATS_LEN: usize = 40;
/// `sizeof(struct ofp_meter_band_stats)`.
pub const OFP_METER_BAND_STATS_LEN: usize = 16;

/// `ofp_meter_multipart_request`, the body of METER and METER_CONFIG requests.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct MeterStatsRequest {
    /// `OFPM_ALL` for all meters.
    pub meter_id: u32,
}

impl Default for MeterStatsRequest {
    fn default() -> Self {
        MeterStatsRequest { meter_id: OFPM_ALL }
    }
}

impl MeterStatsRequest {
    pub fn parse(i: &[u8]) -> PResult<'_, MeterStatsRequest> {
        let (rest, b) = take_exact(
            i,
            OFP_METER_MULTIPART_REQUEST_LEN,
            OFPBRC_BAD_LEN,
            "meter multipart request",
        )?;
        let (_, meter_id) = be_u32(b)?;
        Ok((rest, MeterStatsRequest { meter_id }))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        buf.put_u32(self.meter_id);
        buf.put_bytes(0, 4);
    }
}

/// `ofp_meter_band_stats`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct MeterBandStats {
    pub packet_band_count: u64,
    pub byte_band_count: u64,
}

impl MeterBandStats {
    pub fn parse(i: &[u8]) -> PResult<'_, MeterBandStats> {
        let (rest, b) = take_exact(
            i,
            OFP_METER_BAND_STATS_LEN,
            OFPBRC_BAD_LEN,
            "meter band stats",
        )?;
        let (b, packet_band_count) = be_u64(b)?;
        let (_, byte_band_count) = be_u64(b)?;
        Ok((
            rest,
            MeterBandStats {
                packet_band_count,
                byte_band_count,
            },
        ))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        buf.put_u64(self.packet_band_count);
        buf.put_u64(self.byte_band_count);
    }
}

/// `ofp_meter_stats`.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct MeterStats {
    pub meter_id: u32,
    pub flow_count: u32,
    pub packet_in_count: u64,
    pub byte_in_count: u64,
    pub duration_sec: u32,
    pub duration_nsec: u32,
    pub band_stats: Vec<MeterBandStats>,
}

impl MeterStats {
    pub fn parse(i: &[u8]) -> PResult<'_, MeterStats> {
        // The length field sits after meter_id here.
        let (rest, entry) = take_entry(
            i,
            OFP_METER_STATS_LEN,
            4,
            OFP_METER_STATS_LEN,
            "meter stats",
        )?;
        let (b, meter_id) = be_u32(entry)?;
        let (b, _) = skip(b, 8)?; // len, pad[6]
        let (b, flow_count) = be_u32(b)?;
        let (b, packet_in_count) = be_u64(b)?;
        let (b, byte_in_count) = be_u64(b)?;
        let (b, duration_sec) = be_u32(b)?;
        let (b, duration_nsec) = be_u32(b)?;
        if b.len() % OFP_METER_BAND_STATS_LEN != 0 {
            return Err(nom::Err::Failure(WireError::new(
                OFPBRC_BAD_LEN,
                format!(
                    "meter band stats take {} bytes, not a multiple of {OFP_METER_BAND_STATS_LEN}",
                    b.len()
                ),
            )));
        }
        let band_stats =
            parse_list(b, "meter band stats", MeterBandStats::parse).map_err(nom::Err::Failure)?;
        Ok((
            rest,
            MeterStats {
                meter_id,
                flow_count,
                packet_in_count,
                byte_in_count,
                duration_sec,
                duration_nsec,
                band_stats,
            },
        ))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        let start = buf.len();
        buf.put_u32(self.meter_id);
        buf.put_u16(0); // len, patched below
        buf.put_bytes(0, 6);
        buf.put_u32(self.flow_count);
        buf.put_u64(self.packet_in_count);
        buf.put_u64(self.byte_in_count);
        buf.put_u32(self.duration_sec);
        buf.put_u32(self.duration_nsec);
        for s in &self.band_stats {
            s.emit(buf);
        }
        patch_len(buf, start + 4, start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meter_request_round_trips() {
        let r = MeterStatsRequest { meter_id: 100 };
        let mut buf = BytesMut::new();
        r.emit(&mut buf);
        assert_eq!(&buf[..], &[0, 0, 0, 100, 0, 0, 0, 0]);
        assert_eq!(MeterStatsRequest::parse(&buf).unwrap(), (&[][..], r));
    }

    #[test]
    fn meter_stats_round_trips_with_len_after_meter_id() {
        let m = MeterStats {
            meter_id: 100,
            flow_count: 1,
            packet_in_count: 2,
            byte_in_count: 3,
            duration_sec: 4,
            duration_nsec: 480000,
            band_stats: vec![MeterBandStats {
                packet_band_count: 5,
                byte_band_count: 6,
            }],
        };
        let mut buf = BytesMut::new();
        m.emit(&mut buf);
        assert_eq!(buf.len(), 56);
        assert_eq!(&buf[4..6], &[0, 56]);
        assert_eq!(MeterStats::parse(&buf).unwrap(), (&[][..], m));
    }

    #[test]
    fn meter_stats_ragged_band_stats_are_bad_len() {
        let mut buf = BytesMut::new();
        MeterStats::default().emit(&mut buf);
        buf.put_bytes(0, 8);
        buf[5] = 48;
        let e = MeterStats::parse(&buf).unwrap_err();
        assert_eq!(WireError::from(e).code, OFPBRC_BAD_LEN);
    }
}
