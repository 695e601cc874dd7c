//! `ofp_group_mod` and `ofp_bucket` (shared with the GROUP_DESC reply).
//!
//! Error choices: a bucket whose `len` is shorter than `ofp_bucket` (16) or
//! runs past the end of its enclosing list is a framing error of the message,
//! `OFPBRC_BAD_LEN`. A bucket that frames fine but whose `len` is not a
//! multiple of 8 is `OFPGMFC_BAD_BUCKET` (the spec requires 8-byte alignment of
//! buckets; the group-mod error is the most specific code for it). Errors from
//! the bucket's actions keep their own `OFPBAC_*` codes.

use crate::action::Action;
use crate::error::{WireError, OFPBRC_BAD_LEN, OFPGMFC_BAD_BUCKET};
use crate::wire::{fail, patch_len, put_zeros, take_exact, take_struct, PResult};
use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u16, be_u32, be_u8};

/// Size of `ofp_bucket` without its actions.
pub const OFP_BUCKET_LEN: usize = 16;
/// Size of the fixed part of `ofp_group_mod` after the OpenFlow header.
pub const OFP_GROUP_MOD_BODY_LEN: usize = 8;

#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct Bucket {
    pub weight: u16,
    pub watch_port: u32,
    pub watch_group: u32,
    pub actions: Vec<Action>,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct GroupMod {
    pub command: u16,
    pub group_type: u8,
    pub group_id: u32,
    pub buckets: Vec<Bucket>,
}

impl Bucket {
    /// One `ofp_bucket` (its `len` field frames it).
    pub fn parse(i: &[u8]) -> PResult<'_, Bucket> {
        let (_, len) =
            take_exact(i, 2, OFPBRC_BAD_LEN, "ofp_bucket").and_then(|(_, l)| be_u16(l))?;
        let len = usize::from(len);
        let (rest, b) = take_struct(i, len, OFP_BUCKET_LEN, OFPBRC_BAD_LEN, "ofp_bucket")?;
        if len % 8 != 0 {
            return Err(fail(
                OFPGMFC_BAD_BUCKET,
                format!("ofp_bucket length {len} is not a multiple of 8"),
            ));
        }
        // `b` holds at least 16 bytes: the fixed reads cannot fail.
        let (b, _len) = be_u16(b)?;
        let (b, weight) = be_u16(b)?;
        let (b, watch_port) = be_u32(b)?;
        let (b, watch_group) = be_u32(b)?;
        let actions = crate::message::parse_actions(&b[4..]).map_err(nom::Err::Failure)?;
        Ok((
            rest,
            Bucket {
                weight,
                watch_port,
                watch_group,
                actions,
            },
        ))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        let start = buf.len();
        buf.put_u16(0); // len, patched below
        buf.put_u16(self.weight);
        buf.put_u32(self.watch_port);
        buf.put_u32(self.watch_group);
        put_zeros(buf, 4);
        Action::emit_list(&self.actions, buf);
        patch_len(buf, start, start);
    }

    /// Bytes on the wire: the 16-byte header plus the actions.
    pub fn wire_len(&self) -> usize {
        OFP_BUCKET_LEN + self.actions.iter().map(Action::wire_len).sum::<usize>()
    }

    /// The slice holds exactly a list of buckets.
    pub fn parse_list(mut i: &[u8]) -> Result<Vec<Bucket>, WireError> {
        let mut out = Vec::new();
        while !i.is_empty() {
            // Every successful parse consumes at least OFP_BUCKET_LEN bytes.
            let (rest, b) = Bucket::parse(i)?;
            out.push(b);
            i = rest;
        }
        Ok(out)
    }

    pub fn emit_list(buckets: &[Bucket], buf: &mut BytesMut) {
        for b in buckets {
            b.emit(buf);
        }
    }
}

impl GroupMod {
    fn parse_fixed(i: &[u8]) -> PResult<'_, (u16, u8, u32)> {
        let (rest, f) = take_exact(i, OFP_GROUP_MOD_BODY_LEN, OFPBRC_BAD_LEN, "ofp_group_mod")?;
        let (f, command) = be_u16(f)?;
        let (f, group_type) = be_u8(f)?;
        let (_, group_id) = be_u32(&f[1..])?;
        Ok((rest, (command, group_type, group_id)))
    }

    /// `body` is the message after the 8-byte OpenFlow header.
    pub fn parse_body(body: &[u8]) -> Result<Self, WireError> {
        let (rest, (command, group_type, group_id)) = GroupMod::parse_fixed(body)?;
        let buckets = Bucket::parse_list(rest)?;
        Ok(GroupMod {
            command,
            group_type,
            group_id,
            buckets,
        })
    }

    pub fn emit_body(&self, buf: &mut BytesMut) {
        buf.put_u16(self.command);
        buf.put_u8(self.group_type);
        put_zeros(buf, 1);
        buf.put_u32(self.group_id);
        Bucket::emit_list(&self.buckets, buf);
    }
}

#[cfg(test)]
pub(crate) mod arb {
    use super::{Bucket, GroupMod};
    use proptest::prelude::*;

    /// A bucket with a few actions.
    pub fn bucket() -> impl Strategy<Value = Bucket> {
        (
            any::<u16>(),
            any::<u32>(),
            any::<u32>(),
            proptest::collection::vec(crate::action::arb::action(), 0..4),
        )
            .prop_map(|(weight, watch_port, watch_group, actions)| Bucket {
                weight,
                watch_port,
                watch_group,
                actions,
            })
    }

    pub fn group_mod() -> impl Strategy<Value = GroupMod> {
        (
            any::<u16>(),
            any::<u8>(),
            any::<u32>(),
            proptest::collection::vec(bucket(), 0..4),
        )
            .prop_map(|(command, group_type, group_id, buckets)| GroupMod {
                command,
                group_type,
                group_id,
                buckets,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::OFPBAC_BAD_LEN;
    use proptest::prelude::*;

    fn emit(g: &GroupMod) -> BytesMut {
        let mut buf = BytesMut::new();
        g.emit_body(&mut buf);
        buf
    }

    #[rustfmt::skip]
    const EMPTY_BUCKET_GROUP: [u8; 24] = [
        0, 0, 1, 0, 0, 0, 0, 5,         // ADD, SELECT, pad, group 5
        0, 16, 0, 3, 0, 0, 0, 2,        // len 16, weight 3, watch_port 2
        0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, // watch_group ANY, pad
    ];

    fn empty_bucket_group() -> GroupMod {
        GroupMod {
            command: crate::consts::OFPGC_ADD,
            group_type: crate::consts::OFPGT_SELECT,
            group_id: 5,
            buckets: vec![Bucket {
                weight: 3,
                watch_port: 2,
                watch_group: crate::consts::OFPG_ANY,
                actions: vec![],
            }],
        }
    }

    #[test]
    fn group_mod_with_empty_bucket_is_byte_exact() {
        assert_eq!(&emit(&empty_bucket_group())[..], &EMPTY_BUCKET_GROUP[..]);
        assert_eq!(
            GroupMod::parse_body(&EMPTY_BUCKET_GROUP).unwrap(),
            empty_bucket_group()
        );
    }

    #[test]
    fn group_mod_without_buckets_is_its_fixed_part() {
        let g = GroupMod {
            command: crate::consts::OFPGC_DELETE,
            group_type: 0,
            group_id: crate::consts::OFPG_ALL,
            buckets: vec![],
        };
        let b = emit(&g);
        assert_eq!(&b[..], &[0, 2, 0, 0, 0xff, 0xff, 0xff, 0xfc]);
        assert_eq!(GroupMod::parse_body(&b).unwrap(), g);
    }

    #[test]
    fn group_mod_with_output_action_is_byte_exact() {
        let g = GroupMod {
            command: 0,
            group_type: 0,
            group_id: 1,
            buckets: vec![Bucket {
                weight: 1,
                watch_port: 1,
                watch_group: 1,
                actions: vec![Action::Output {
                    port: 2,
                    max_len: 0xffff,
                }],
            }],
        };
        // 4-21-ofp_group_mod.packet without its header.
        #[rustfmt::skip]
        let want = [
            0, 0, 0, 0, 0, 0, 0, 1,
            0, 0x20, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0,
            0, 0, 0, 0x10, 0, 0, 0, 2, 0xff, 0xff, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(&emit(&g)[..], &want[..]);
        assert_eq!(GroupMod::parse_body(&want).unwrap(), g);
    }

    #[test]
    fn group_mod_shorter_than_fixed_part_is_bad_len() {
        for n in 0..OFP_GROUP_MOD_BODY_LEN {
            let e = GroupMod::parse_body(&EMPTY_BUCKET_GROUP[..n]).unwrap_err();
            assert_eq!(e.code, OFPBRC_BAD_LEN, "prefix {n}");
        }
    }

    #[test]
    fn bucket_framing_errors_are_bad_len() {
        // Every cut inside the bucket: its len runs past the input.
        for n in OFP_GROUP_MOD_BODY_LEN + 1..EMPTY_BUCKET_GROUP.len() {
            let e = GroupMod::parse_body(&EMPTY_BUCKET_GROUP[..n]).unwrap_err();
            assert_eq!(e.code, OFPBRC_BAD_LEN, "prefix {n}");
        }
        // len shorter than ofp_bucket.
        for len in [0u8, 8, 15] {
            let mut v = EMPTY_BUCKET_GROUP;
            v[9] = len;
            let e = GroupMod::parse_body(&v).unwrap_err();
            assert_eq!(e.code, OFPBRC_BAD_LEN, "len {len}");
        }
    }

    #[test]
    fn bucket_len_not_multiple_of_8_is_bad_bucket() {
        let mut v = EMPTY_BUCKET_GROUP.to_vec();
        v[9] = 20;
        v.extend_from_slice(&[0; 4]);
        let e = GroupMod::parse_body(&v).unwrap_err();
        assert_eq!(e.code, OFPGMFC_BAD_BUCKET);
    }

    #[test]
    fn bucket_action_errors_keep_their_code() {
        // A bucket holding one 8-byte "action" whose own len (4) is too short.
        let mut v = EMPTY_BUCKET_GROUP.to_vec();
        v[9] = 24;
        v.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0]);
        let e = GroupMod::parse_body(&v).unwrap_err();
        assert_eq!(e.code, OFPBAC_BAD_LEN, "{e}");
    }

    #[test]
    fn bucket_list_never_panics_on_prefixes_or_noise() {
        let full = emit(&GroupMod {
            buckets: vec![empty_bucket_group().buckets[0].clone(); 3],
            ..empty_bucket_group()
        });
        for n in 0..=full.len() {
            let _ = GroupMod::parse_body(&full[..n]);
        }
        let mut rng = crate::message::tests_util::Rng(0x1234_5678);
        for _ in 0..2000 {
            let v = rng.bytes(64);
            let _ = Bucket::parse_list(&v);
        }
    }

    proptest! {
        #[test]
        fn group_mod_round_trips(g in arb::group_mod()) {
            let b = emit(&g);
            prop_assert_eq!(GroupMod::parse_body(&b).unwrap(), g);
        }
    }
}
