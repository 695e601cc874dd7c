//! `OFPMP_GROUP`: `ofp_group_stats_request` and `ofp_group_stats` with its
//! `ofp_bucket_counter` list.

use super::{parse_list, skip, take_entry};
use crate::consts::OFPG_ALL;
use crate::error::{WireError, OFPBRC_BAD_LEN};
use crate::wire::{patch_len, take_exact, PResult};
use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u32, be_u64};

/// `sizeof(struct ofp_group_stats_request)`.
pub const OFP_GROUP_STATS_REQUEST_LEN: usize = 8;
/// `sizeof(struct ofp_group_stats)` without bucket counters.
pub const OFP_GROUP_STATS_LEN: usize = 40;
/// `sizeof(struct ofp_bucket_counter)`.
pub const OFP_BUCKET_COUNTER_LEN: usize = 16;

/// `ofp_group_stats_request`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct GroupStatsRequest {
    /// `OFPG_ALL` for all groups.
    pub group_id: u32,
}

impl Default for GroupStatsRequest {
    fn default() -> Self {
        GroupStatsRequest { group_id: OFPG_ALL }
    }
}

impl GroupStatsRequest {
    pub fn parse(i: &[u8]) -> PResult<'_, GroupStatsRequest> {
        let (rest, b) = take_exact(
            i,
            OFP_GROUP_STATS_REQUEST_LEN,
            OFPBRC_BAD_LEN,
            "group stats request",
        )?;
        let (_, group_id) = be_u32(b)?;
        Ok((rest, GroupStatsRequest { group_id }))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        buf.put_u32(self.group_id);
        buf.put_bytes(0, 4);
    }
}

/// `ofp_bucket_counter`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct BucketCounter {
    pub packet_count: u64,
    pub byte_count: u64,
}

impl BucketCounter {
    pub fn parse(i: &[u8]) -> PResult<'_, BucketCounter> {
        let (rest, b) = take_exact(i, OFP_BUCKET_COUNTER_LEN, OFPBRC_BAD_LEN, "bucket counter")?;
        let (b, packet_count) = be_u64(b)?;
        let (_, byte_count) = be_u64(b)?;
        Ok((
            rest,
            BucketCounter {
                packet_count,
                byte_count,
            },
        ))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        buf.put_u64(self.packet_count);
        buf.put_u64(self.byte_count);
    }
}

/// `ofp_group_stats`.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct GroupStats {
    pub group_id: u32,
    pub ref_count: u32,
    pub packet_count: u64,
    pub byte_count: u64,
    pub duration_sec: u32,
    pub duration_nsec: u32,
    pub bucket_stats: Vec<BucketCounter>,
}

impl GroupStats {
    pub fn parse(i: &[u8]) -> PResult<'_, GroupStats> {
        let (rest, entry) = take_entry(
            i,
            OFP_GROUP_STATS_LEN,
            0,
            OFP_GROUP_STATS_LEN,
            "group stats",
        )?;
        let (b, _) = skip(entry, 4)?; // length, pad
        let (b, group_id) = be_u32(b)?;
        let (b, ref_count) = be_u32(b)?;
        let (b, _) = skip(b, 4)?;
        let (b, packet_count) = be_u64(b)?;
        let (b, byte_count) = be_u64(b)?;
        let (b, duration_sec) = be_u32(b)?;
        let (b, duration_nsec) = be_u32(b)?;
        if b.len() % OFP_BUCKET_COUNTER_LEN != 0 {
            return Err(nom::Err::Failure(WireError::new(
                OFPBRC_BAD_LEN,
                format!(
                    "group stats bucket counters take {} bytes, not a multiple of {OFP_BUCKET_COUNTER_LEN}",
                    b.len()
                ),
            )));
        }
        let bucket_stats =
            parse_list(b, "bucket counter", BucketCounter::parse).map_err(nom::Err::Failure)?;
        Ok((
            rest,
            GroupStats {
                group_id,
                ref_count,
                packet_count,
                byte_count,
                duration_sec,
                duration_nsec,
                bucket_stats,
            },
        ))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        let start = buf.len();
        buf.put_u16(0); // length, patched below
        buf.put_bytes(0, 2);
        buf.put_u32(self.group_id);
        buf.put_u32(self.ref_count);
        buf.put_bytes(0, 4);
        buf.put_u64(self.packet_count);
        buf.put_u64(self.byte_count);
        buf.put_u32(self.duration_sec);
        buf.put_u32(self.duration_nsec);
        for c in &self.bucket_stats {
            c.emit(buf);
        }
        patch_len(buf, start, start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_stats_request_round_trips() {
        let r = GroupStatsRequest::default();
        let mut buf = BytesMut::new();
        r.emit(&mut buf);
        assert_eq!(&buf[..], &[0xff, 0xff, 0xff, 0xfc, 0, 0, 0, 0]);
        assert_eq!(GroupStatsRequest::parse(&buf).unwrap(), (&[][..], r));
    }

    #[test]
    fn group_stats_round_trips_with_bucket_counters() {
        let g = GroupStats {
            group_id: 1,
            ref_count: 2,
            packet_count: 123,
            byte_count: 12345,
            duration_sec: 9,
            duration_nsec: 609036000,
            bucket_stats: vec![
                BucketCounter {
                    packet_count: 234,
                    byte_count: 2345,
                },
                BucketCounter::default(),
            ],
        };
        let mut buf = BytesMut::new();
        g.emit(&mut buf);
        assert_eq!(buf.len(), 72);
        assert_eq!(&buf[..2], &[0, 72]);
        assert_eq!(GroupStats::parse(&buf).unwrap(), (&[][..], g));
    }

    #[test]
    fn group_stats_ragged_bucket_counters_are_bad_len() {
        let mut buf = BytesMut::new();
        GroupStats::default().emit(&mut buf);
        buf.put_bytes(0, 8);
        buf[1] = 48;
        let e = GroupStats::parse(&buf).unwrap_err();
        assert_eq!(WireError::from(e).code, OFPBRC_BAD_LEN);
    }

    #[test]
    fn group_stats_length_below_fixed_part_is_bad_len() {
        let mut b = [0u8; 40];
        b[1] = 32;
        let e = GroupStats::parse(&b).unwrap_err();
        assert_eq!(WireError::from(e).code, OFPBRC_BAD_LEN);
    }
}
