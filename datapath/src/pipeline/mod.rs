//! The OpenFlow pipeline: flow tables (priority classifiers), instructions,
//! the action set, counters and timeouts.
