//! The ovs-ofctl text syntax, parsed into and printed from the OpenFlow 1.3
//! wire types, so that what an operator types for `ovs-ofctl -O OpenFlow13`
//! works with tapflow and what tapflow prints looks exactly like ovs-ofctl.
//!
//! - flows: [`parse_flow`] (`add-flow`/`mod-flows`/`del-flows`),
//!   [`parse_flows_file`] (`add-flows FILE`), [`format_flow`] (parseable),
//!   [`format_flow_stats`] / [`format_flow_stats_no_stats`] /
//!   [`format_flow_stats_header`] (`dump-flows`), [`format_flow_mod`]
//!   (`ofp-print` of a FLOW_MOD);
//! - matches and actions alone: [`parse_match`], [`format_match`],
//!   [`parse_actions`], [`format_actions`], [`format_action`];
//! - groups and meters: [`parse_group`], [`format_group`], [`parse_meter`],
//!   [`format_meter`] and their command/print variants;
//! - ports: [`parse_port`], [`format_port`].
//!
//! Every parse error is a [`TextError`] naming the offending token and its
//! byte position. Where ovs-ofctl silently changes a flow (a match field
//! whose prerequisite is missing is dropped), so do we, and
//! [`parse_flow_with_warnings`] says what was dropped.
//!
//! One file per concern: `lex` (tokenizer, numbers, addresses), `port`,
//! `field` (match fields), `action` (actions and instructions), `flow`,
//! `group`, `meter`, `error`. Behavior was checked against Open vSwitch 3.1's
//! ovs-ofctl (`parse-flow`, `ofp-print`, and `add-flow`/`dump-flows` against
//! a fake switch); the unit tests hold those outputs as literal strings.

mod action;
mod error;
mod field;
mod flow;
mod group;
mod lex;
mod meter;
mod port;

pub use action::{format_action, format_action_list, format_actions, parse_actions};
pub use error::{TextError, TextWarning};
pub use field::{format_match, parse_match};
pub use flow::{
    format_duration, format_flow, format_flow_mod, format_flow_stats, format_flow_stats_header,
    format_flow_stats_no_stats, format_match_with_priority, parse_flow, parse_flow_stats_request,
    parse_flow_with_warnings, parse_flows_file, FlowCommand, DEFAULT_PRIORITY,
};
pub use group::{
    format_group, format_group_desc, format_group_mod, parse_group, parse_group_cmd, GroupCommand,
};
pub use meter::{
    format_meter, format_meter_config, format_meter_mod, parse_meter, parse_meter_cmd, MeterCommand,
};
pub use port::{format_port, parse_port};

#[cfg(test)]
mod proptests;
