//! The l2-learning app's up-front flows: everything goes to the controller,
//! which learns source MACs from the PACKET_INs and installs its learned
//! flows itself (`crate::apps`), like Ryu's simple_switch_13.

use super::{to_planned, PlannedFlow};
use crate::desc::NetDesc;

/// Flows the l2-learning app installs up front (table-miss to CONTROLLER etc.).
pub fn l2_learning_base(desc: &NetDesc) -> Vec<PlannedFlow> {
    // Whole frames to the controller: it floods or forwards them with
    // PACKET_OUT, so it needs all of each frame.
    ["priority=0 actions=CONTROLLER:65535"]
        .into_iter()
        .filter_map(|t| to_planned(t.to_string(), desc.controller.cookie))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l2_base_is_a_table_miss_to_the_controller_with_the_cookie() {
        let d = NetDesc::parse("[controller]\napp = \"l2-learning\"\ncookie = \"0x42\"\n").unwrap();
        let base = l2_learning_base(&d);
        assert_eq!(base.len(), 1);
        assert_eq!(base[0].text, "priority=0 actions=CONTROLLER:65535");
        assert_eq!(base[0].flow_mod.cookie, 0x42);
        assert_eq!(base[0].flow_mod.priority, 0);
        assert_eq!(
            base[0].flow_mod.instructions,
            [ofproto::instruction::Instruction::ApplyActions(vec![
                ofproto::action::Action::Output {
                    port: ofproto::consts::OFPP_CONTROLLER,
                    max_len: 0xffff
                }
            ])]
        );
    }
}
