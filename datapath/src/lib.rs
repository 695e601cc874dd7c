//! The tapflow switch: data plane, pipeline, OpenFlow channel.
