//! `OFPMP_GROUP_FEATURES` reply: `ofp_group_features`.

use crate::error::OFPBRC_BAD_LEN;
use crate::wire::{take_exact, PResult};
use bytes::{BufMut, BytesMut};
use nom::number::complete::be_u32;

/// `sizeof(struct ofp_group_features)`.
pub const OFP_GROUP_FEATURES_LEN: usize = 40;

/// `ofp_group_features`. Arrays are indexed by `OFPGT_*`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct GroupFeatures {
    /// Bitmap of `1 << OFPGT_*` supported.
    pub types: u32,
    /// `OFPGFC_*` bitmap.
    pub capabilities: u32,
    pub max_groups: [u32; 4],
    /// Bitmaps of `1 << OFPAT_*` supported, per group type.
    pub actions: [u32; 4],
}

impl GroupFeatures {
    pub fn parse(i: &[u8]) -> PResult<'_, GroupFeatures> {
        let (rest, b) = take_exact(i, OFP_GROUP_FEATURES_LEN, OFPBRC_BAD_LEN, "group features")?;
        let (mut b, types) = be_u32(b)?;
        let capabilities;
        (b, capabilities) = be_u32(b)?;
        let mut max_groups = [0u32; 4];
        for g in max_groups.iter_mut() {
            (b, *g) = be_u32(b)?;
        }
        let mut actions = [0u32; 4];
        for a in actions.iter_mut() {
            (b, *a) = be_u32(b)?;
        }
        Ok((
            rest,
            GroupFeatures {
                types,
                capabilities,
                max_groups,
                actions,
            },
        ))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        buf.put_u32(self.types);
        buf.put_u32(self.capabilities);
        self.max_groups.iter().for_each(|&g| buf.put_u32(g));
        self.actions.iter().for_each(|&a| buf.put_u32(a));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_features_round_trips_in_spec_order() {
        let g = GroupFeatures {
            types: 0xf,
            capabilities: 5,
            max_groups: [1, 2, 3, 4],
            actions: [5, 6, 7, 8],
        };
        let mut buf = BytesMut::new();
        g.emit(&mut buf);
        assert_eq!(buf.len(), OFP_GROUP_FEATURES_LEN);
        assert_eq!(&buf[8..12], &[0, 0, 0, 1]);
        assert_eq!(&buf[36..40], &[0, 0, 0, 8]);
        assert_eq!(GroupFeatures::parse(&buf).unwrap(), (&[][..], g));
    }
}
