//! `ofp_group_mod` and `ofp_bucket` (shared with the GROUP_DESC reply).

use crate::action::Action;

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
    pub fn parse(_i: &[u8]) -> crate::wire::PResult<'_, Bucket> {
        todo!()
    }
    pub fn emit(&self, _buf: &mut bytes::BytesMut) {
        todo!()
    }
    /// The slice holds exactly a list of buckets.
    pub fn parse_list(_i: &[u8]) -> Result<Vec<Bucket>, crate::error::WireError> {
        todo!()
    }
}
