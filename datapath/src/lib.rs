//! The tapflow switch: data plane, pipeline, OpenFlow channel.

pub mod bridge;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod dataplane;
pub mod metrics;
pub mod ofconn;
pub mod packet;
pub mod pipeline;
pub mod port;
