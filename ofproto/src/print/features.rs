//! FEATURES_REPLY as ovs-ofctl 3.1 prints it.

use super::bit_names;
use crate::consts::*;
use crate::message::FeaturesReply;
use std::fmt::{self, Write};

const CAPABILITIES: &[(u32, &str)] = &[
    (OFPC_FLOW_STATS, "FLOW_STATS"),
    (OFPC_TABLE_STATS, "TABLE_STATS"),
    (OFPC_PORT_STATS, "PORT_STATS"),
    (OFPC_GROUP_STATS, "GROUP_STATS"),
    (OFPC_IP_REASM, "IP_REASM"),
    (OFPC_QUEUE_STATS, "QUEUE_STATS"),
    (OFPC_PORT_BLOCKED, "PORT_BLOCKED"),
];

/// ` dpid:…`, `n_tables:…, n_buffers:…[, auxiliary_id:…]` and
/// `capabilities: …` (`0` when none).
pub(super) fn write_features_reply(s: &mut String, f: &FeaturesReply) -> fmt::Result {
    write!(
        s,
        " dpid:{:016x}\nn_tables:{}, n_buffers:{}",
        f.datapath_id, f.n_tables, f.n_buffers
    )?;
    if f.auxiliary_id != 0 {
        write!(s, ", auxiliary_id:{}", f.auxiliary_id)?;
    }
    write!(
        s,
        "\ncapabilities: {}",
        bit_names(f.capabilities, CAPABILITIES)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn print(f: &FeaturesReply) -> String {
        let mut s = String::new();
        write_features_reply(&mut s, f).unwrap();
        s
    }

    // ovs-ofctl 3.1's `ofp-print` of the same replies, header line left out.
    #[test]
    fn features_reply_lines() {
        let mut f = FeaturesReply {
            datapath_id: 0x1234,
            n_buffers: 256,
            n_tables: 254,
            auxiliary_id: 0,
            capabilities: 0x4f | 0x100,
            reserved: 0,
        };
        assert_eq!(
            print(&f),
            " dpid:0000000000001234\nn_tables:254, n_buffers:256\ncapabilities: FLOW_STATS TABLE_STATS PORT_STATS GROUP_STATS QUEUE_STATS PORT_BLOCKED"
        );
        f.capabilities = 0;
        f.auxiliary_id = 1;
        assert_eq!(
            print(&f),
            " dpid:0000000000001234\nn_tables:254, n_buffers:256, auxiliary_id:1\ncapabilities: 0"
        );
        // Every bit: the unnamed ones are left out.
        f.capabilities = u32::MAX;
        assert_eq!(
            print(&f).lines().last(),
            Some("capabilities: FLOW_STATS TABLE_STATS PORT_STATS GROUP_STATS IP_REASM QUEUE_STATS PORT_BLOCKED")
        );
    }
}
