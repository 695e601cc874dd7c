//! The OpenFlow pipeline: flow tables (priority classifiers), instructions,
//! the action set, counters and timeouts.
//!
//! - [`classifier`]: tuple-space-search priority classifier over
//!   [`FlowKey`](crate::packet::FlowKey)s, persistent so snapshots are cheap.
//! - [`flow_table`]: one OpenFlow table — [`FlowEntry`], FLOW_MOD semantics
//!   of OF1.3.5 §6.4 per table, timeouts.
//! - [`groups`]: the group table (GROUP_MOD validation, counters, the
//!   snapshot the data plane executes groups from).
//! - [`meters`]: the meter table and its lock-free token buckets.
//! - [`table_config`]: what each table may hold (TABLE_FEATURES, also
//!   its set form) and the FLOW_MOD checks against it.
//! - [`tables`]: the [`Pipeline`] of 255 tables — FLOW_MOD validation and
//!   dispatch (incl. `OFPTT_ALL`), flow/aggregate/table statistics, and
//!   publication of immutable [`PipelineSnapshot`]s to the data plane.
//!
//! Time is [`Nanos`]: nanoseconds on the process-wide monotonic clock
//! [`clock::now`]; the control plane passes `now` explicitly (tests use
//! made-up times), the data plane stamps flow use with the same clock.

pub mod classifier;
pub mod flow_table;
pub mod groups;
pub mod meters;
pub mod table_config;
pub mod tables;

pub use classifier::{Classifier, ClassifierSnapshot};
pub use flow_table::{
    FlowCounters, FlowEntry, FlowFilter, FlowModOutcome, FlowTable, RemovedFlow, TableCounters,
};
pub use tables::{Pipeline, PipelineConfig, PipelineSnapshot, SnapshotReader, TableSnapshot};

/// Nanoseconds on the monotonic clock of [`clock::now`].
pub type Nanos = u64;

pub mod clock {
    //! The monotonic clock flow timestamps use.
    use super::Nanos;
    use std::sync::OnceLock;
    use std::time::Instant;

    static EPOCH: OnceLock<Instant> = OnceLock::new();

    /// Nanoseconds since the first call in this process (monotonic).
    pub fn now() -> Nanos {
        let epoch = *EPOCH.get_or_init(Instant::now);
        Instant::now().duration_since(epoch).as_nanos() as Nanos
    }

    /// `(seconds, nanoseconds)` from `since` to `now` at millisecond
    /// precision, as OVS reports durations (dump-flows shows
    /// `duration=1.234s`; ovs-ofctl prints all nine digits otherwise).
    pub fn duration(since: Nanos, now: Nanos) -> (u32, u32) {
        let d = now.saturating_sub(since);
        (
            (d / super::NANOS_PER_SEC).min(u64::from(u32::MAX)) as u32,
            (d % super::NANOS_PER_SEC / 1_000_000 * 1_000_000) as u32,
        )
    }
}

/// Nanoseconds per second.
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

#[cfg(test)]
pub(crate) mod testutil;
