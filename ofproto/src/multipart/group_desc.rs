//! `OFPMP_GROUP_DESC` reply: `ofp_group_desc` entries.

use super::{skip, take_entry};
use crate::group::Bucket;
use crate::wire::{patch_len, PResult};
use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u32, be_u8};

/// `sizeof(struct ofp_group_desc)` without buckets.
pub const OFP_GROUP_DESC_LEN: usize = 8;

/// `ofp_group_desc`.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct GroupDesc {
    /// `OFPGT_*`, raw.
    pub group_type: u8,
    pub group_id: u32,
    pub buckets: Vec<Bucket>,
}

impl GroupDesc {
    pub fn parse(i: &[u8]) -> PResult<'_, GroupDesc> {
        let (rest, entry) = take_entry(i, OFP_GROUP_DESC_LEN, 0, OFP_GROUP_DESC_LEN, "group desc")?;
        let (b, _) = skip(entry, 2)?; // length
        let (b, group_type) = be_u8(b)?;
        let (b, _) = skip(b, 1)?;
        let (b, group_id) = be_u32(b)?;
        let buckets = Bucket::parse_list(b).map_err(nom::Err::Failure)?;
        Ok((
            rest,
            GroupDesc {
                group_type,
                group_id,
                buckets,
            },
        ))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        let start = buf.len();
        buf.put_u16(0); // length, patched below
        buf.put_u8(self.group_type);
        buf.put_u8(0);
        buf.put_u32(self.group_id);
        for b in &self.buckets {
            b.emit(buf);
        }
        patch_len(buf, start, start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;
    use crate::consts::{OFPGT_SELECT, OFPG_ANY, OFPP_ANY};
    use crate::error::{WireError, OFPBRC_BAD_LEN};

    #[test]
    fn group_desc_round_trips_with_buckets() {
        let g = GroupDesc {
            group_type: OFPGT_SELECT,
            group_id: 1,
            buckets: vec![Bucket {
                weight: 1,
                watch_port: OFPP_ANY,
                watch_group: OFPG_ANY,
                actions: vec![Action::Output {
                    port: 2,
                    max_len: 0xffe5,
                }],
            }],
        };
        let mut buf = BytesMut::new();
        g.emit(&mut buf);
        assert_eq!(u16::from_be_bytes([buf[0], buf[1]]) as usize, buf.len());
        assert_eq!(GroupDesc::parse(&buf).unwrap(), (&[][..], g));
    }

    #[test]
    fn group_desc_without_buckets_round_trips() {
        let g = GroupDesc {
            group_type: 0,
            group_id: 0xffff_ff00,
            buckets: vec![],
        };
        let mut buf = BytesMut::new();
        g.emit(&mut buf);
        assert_eq!(&buf[..], &[0, 8, 0, 0, 0xff, 0xff, 0xff, 0]);
        assert_eq!(GroupDesc::parse(&buf).unwrap(), (&[][..], g));
    }

    #[test]
    fn group_desc_length_past_input_is_bad_len() {
        let e = GroupDesc::parse(&[0, 16, 0, 0, 0, 0, 0, 1]).unwrap_err();
        assert_eq!(WireError::from(e).code, OFPBRC_BAD_LEN);
    }
}
