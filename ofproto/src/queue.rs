//! `ofp_packet_queue` and queue properties (QUEUE_GET_CONFIG).

use bytes::Bytes;

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum QueueProp {
    /// Rate in 1/10 of a percent; >1000 means disabled.
    MinRate(u16),
    MaxRate(u16),
    /// `data` is everything after the experimenter id and its padding.
    Experimenter { experimenter: u32, data: Bytes },
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct PacketQueue {
    pub queue_id: u32,
    pub port: u32,
    pub properties: Vec<QueueProp>,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct QueueGetConfigRequest {
    pub port: u32,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct QueueGetConfigReply {
    pub port: u32,
    pub queues: Vec<PacketQueue>,
}
