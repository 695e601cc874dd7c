//! Fail modes, as OVS has them.
//!
//! - **standalone, no controller configured** (neither `--controller` nor
//!   `--listen`): the bridge holds a real `priority=0 actions=NORMAL` flow in
//!   table 0 from startup — visible in dump-flows, deletable, and an
//!   ordinary flow in every other respect.
//! - **standalone with controllers configured**: when no primary connection
//!   has been up for three inactivity-probe intervals (15 s by default;
//!   counted from startup or from the last primary connection going down),
//!   the data plane goes fail-open — NORMAL forwarding overrides the tables
//!   — until a primary connection comes up again. (Passive `--listen`
//!   targets count as configured controllers, as `ptcp:` controllers do in
//!   OVS.) Service connections never count.
//! - **secure**: only flows forward, always.
//!
//! Flows survive controller disconnects in every mode.

use crate::config::FailMode;
use ofproto::action::Action;
use ofproto::consts::*;
use ofproto::instruction::Instruction;
use ofproto::message::FlowMod;
use ofproto::oxm::Match;
use std::time::Duration;

/// Whether the bridge installs the `priority=0 actions=NORMAL` flow at startup.
pub fn installs_normal_flow(mode: FailMode, controllers_configured: bool) -> bool {
    mode == FailMode::Standalone && !controllers_configured
}

/// Whether the data plane should be fail-open now.
pub fn should_fail_open(
    mode: FailMode,
    controllers_configured: bool,
    primary_connected: bool,
    disconnected_for: Duration,
    after: Duration,
) -> bool {
    mode == FailMode::Standalone
        && controllers_configured
        && !primary_connected
        && disconnected_for >= after
}

/// `table=0,priority=0 actions=NORMAL`.
pub fn normal_flow() -> FlowMod {
    FlowMod {
        cookie: 0,
        cookie_mask: 0,
        table_id: 0,
        command: OFPFC_ADD,
        idle_timeout: 0,
        hard_timeout: 0,
        priority: 0,
        buffer_id: OFP_NO_BUFFER,
        out_port: OFPP_ANY,
        out_group: OFPG_ANY,
        flags: 0,
        match_: Match::default(),
        instructions: vec![Instruction::ApplyActions(vec![Action::Output {
            port: OFPP_NORMAL,
            max_len: 0,
        }])],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn normal_flow_only_for_standalone_without_controllers() {
        assert!(installs_normal_flow(FailMode::Standalone, false));
        assert!(!installs_normal_flow(FailMode::Standalone, true));
        assert!(!installs_normal_flow(FailMode::Secure, false));
        assert_eq!(
            ofproto::text::format_flow(&normal_flow()),
            "priority=0 actions=NORMAL"
        );
    }

    #[test]
    fn fail_open_after_three_probe_intervals_only_in_standalone() {
        let after = 15 * S;
        let sa = FailMode::Standalone;
        assert!(!should_fail_open(sa, true, false, 14 * S, after));
        assert!(should_fail_open(sa, true, false, 15 * S, after));
        assert!(!should_fail_open(sa, true, true, 100 * S, after));
        assert!(!should_fail_open(sa, false, false, 100 * S, after));
        assert!(!should_fail_open(
            FailMode::Secure,
            true,
            false,
            100 * S,
            after
        ));
    }
}
