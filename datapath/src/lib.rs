//! The tapflow switch: data plane, pipeline, OpenFlow channel.

pub mod packet;
pub mod pipeline;
