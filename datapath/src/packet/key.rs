//! [`FlowKey`]: the fixed-layout, allocation-free key a packet is classified
//! by. A flow's match compiles to a (value, mask) pair of `FlowKey`s with the
//! same layout; `key & mask == value` means "matches".

use ofproto::oxm::Match;
use ofproto::WireError;

/// Number of 64-bit words in a [`FlowKey`].
pub const FLOW_KEY_WORDS: usize = 16;

/// Every OF1.3 match field at a fixed byte offset (see the layout table in
/// this file), plus pipeline metadata. Fields that can never both be
/// present share storage as in OVS (tcp/udp/sctp ports; icmpv4/icmpv6
/// type/code; ipv4 and arp addresses; arp_sha/tha and nd_sll/tll): OXM
/// prerequisites guarantee a match never confuses them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[repr(C, align(8))]
pub struct FlowKey {
    pub words: [u64; FLOW_KEY_WORDS],
}

/// Compiles a validated match into (value, mask). Fields the datapath
/// cannot match (non-basic OXMs) → `OFPBMC_BAD_FIELD`.
pub fn compile_match(_m: &Match) -> Result<(FlowKey, FlowKey), WireError> {
    todo!()
}
