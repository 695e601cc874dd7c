//! # ofproto — OpenFlow 1.3 on the wire and in ovs-ofctl text
//!
//! No I/O here: typed messages ([`message::Message`]), their nom parsers and
//! `bytes` encoders side by side (one file per concern, smoltcp `wire` style),
//! match validation with the exact `OFPBMC_*` errors, a tokio-util framing
//! codec, the ovs-ofctl flow syntax (parse and format), and `ofp-print`.
//!
//! Decoding never panics and never allocates from an unchecked length field;
//! every failure is a [`error::WireError`] naming the `OFPT_ERROR` to answer with.

pub mod action;
pub mod codec;
pub mod consts;
pub mod error;
pub mod fuzzing;
pub mod group;
pub mod header;
pub mod instruction;
pub mod message;
pub mod meter;
pub mod multipart;
pub mod oxm;
pub mod port;
pub mod print;
pub mod queue;
pub mod text;
pub mod wire;

pub use error::{ErrorCode, WireError};
pub use header::{Header, OFP_VERSION};
pub use message::Message;
pub use wire::MacAddr;

#[cfg(test)]
mod testdata;
