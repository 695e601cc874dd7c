//! The tapflow switch: data plane, pipeline, OpenFlow channel.

pub mod bridge;
pub mod config;
pub mod ofconn;
// pub mod cli; (enabled when ofproto::text lands)
pub mod packet;
pub mod pipeline;
pub mod port;
