//! A bridge: the owner task of one switch's authoritative state (flow
//! tables, ports, connections' roles) on the control plane.

pub mod event;

pub use event::{BridgeEvent, ConnHandle, ConnId, ConnKind, Outbound};
