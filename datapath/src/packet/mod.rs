//! Packets on the data plane: one pass over a frame builds a [`FlowKey`]
//! holding every OF1.3 match field the packet has (`parse.rs`); a flow's
//! `Match` compiles to the same layout as a (key, mask) pair (`key.rs`), so
//! classification is `(packet_key & mask) == flow_key`.

pub mod key;

pub use key::{FlowKey, FLOW_KEY_WORDS};
