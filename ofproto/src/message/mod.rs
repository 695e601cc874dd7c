//! Every OpenFlow 1.3 message as a typed value: [`Message`] plus one file per
//! message family with its `parse_body`/`emit_body` side by side.
//!
//! [`Message::decode`] takes exactly one framed message (header included);
//! [`Message::encode`] writes header + body with the length filled in.

use crate::error::WireError;
use crate::group::GroupMod;
use crate::meter::MeterMod;
use crate::multipart::{MultipartReply, MultipartRequest};
use crate::oxm::Match;
use crate::action::Action;
use crate::instruction::Instruction;
use crate::port::PortDesc;
use crate::queue::{QueueGetConfigReply, QueueGetConfigRequest};
use bytes::{Bytes, BytesMut};

/// `OFPT_HELLO` elements.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct Hello {
    pub elements: Vec<HelloElem>,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum HelloElem {
    /// `OFPHET_VERSIONBITMAP`: bit n of word n/32 set = version n supported.
    VersionBitmap(Vec<u32>),
    /// Unknown element types are kept (body without the 4-byte TLV header).
    Unknown { ty: u16, data: Bytes },
}

/// `OFPT_ERROR`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum ErrorMsg {
    Standard { code: crate::error::ErrorCode, data: Bytes },
    /// `OFPET_EXPERIMENTER` (type 0xffff).
    Experimenter { exp_type: u16, experimenter: u32, data: Bytes },
}

/// `OFPT_EXPERIMENTER` (symmetric message).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct ExperimenterMsg {
    pub experimenter: u32,
    pub exp_type: u32,
    pub data: Bytes,
}

/// `OFPT_FEATURES_REPLY` (`ofp_switch_features`).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct FeaturesReply {
    pub datapath_id: u64,
    pub n_buffers: u32,
    pub n_tables: u8,
    pub auxiliary_id: u8,
    pub capabilities: u32,
    pub reserved: u32,
}

/// `ofp_switch_config` (GET_CONFIG_REPLY, SET_CONFIG).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct SwitchConfig {
    pub flags: u16,
    pub miss_send_len: u16,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct PacketIn {
    pub buffer_id: u32,
    pub total_len: u16,
    pub reason: u8,
    pub table_id: u8,
    pub cookie: u64,
    pub match_: Match,
    pub data: Bytes,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct FlowRemoved {
    pub cookie: u64,
    pub priority: u16,
    pub reason: u8,
    pub table_id: u8,
    pub duration_sec: u32,
    pub duration_nsec: u32,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    pub packet_count: u64,
    pub byte_count: u64,
    pub match_: Match,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct PortStatus {
    pub reason: u8,
    pub desc: PortDesc,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct PacketOut {
    pub buffer_id: u32,
    pub in_port: u32,
    pub actions: Vec<Action>,
    pub data: Bytes,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct FlowMod {
    pub cookie: u64,
    pub cookie_mask: u64,
    pub table_id: u8,
    pub command: u8,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    pub priority: u16,
    pub buffer_id: u32,
    pub out_port: u32,
    pub out_group: u32,
    pub flags: u16,
    pub match_: Match,
    pub instructions: Vec<Instruction>,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct PortMod {
    pub port_no: u32,
    pub hw_addr: crate::wire::MacAddr,
    pub config: u32,
    pub mask: u32,
    pub advertise: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct TableMod {
    pub table_id: u8,
    pub config: u32,
}

/// ROLE_REQUEST / ROLE_REPLY body.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct RoleMsg {
    pub role: u32,
    pub generation_id: u64,
}

/// GET_ASYNC_REPLY / SET_ASYNC body: index 0 = master/equal, 1 = slave.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct AsyncConfig {
    pub packet_in_mask: [u32; 2],
    pub port_status_mask: [u32; 2],
    pub flow_removed_mask: [u32; 2],
}

/// One OpenFlow 1.3 message (without its header; the xid travels beside it).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Message {
    Hello(Hello),
    Error(ErrorMsg),
    EchoRequest(Bytes),
    EchoReply(Bytes),
    Experimenter(ExperimenterMsg),
    FeaturesRequest,
    FeaturesReply(FeaturesReply),
    GetConfigRequest,
    GetConfigReply(SwitchConfig),
    SetConfig(SwitchConfig),
    PacketIn(PacketIn),
    FlowRemoved(FlowRemoved),
    PortStatus(PortStatus),
    PacketOut(PacketOut),
    FlowMod(FlowMod),
    GroupMod(GroupMod),
    PortMod(PortMod),
    TableMod(TableMod),
    MultipartRequest(MultipartRequest),
    MultipartReply(MultipartReply),
    BarrierRequest,
    BarrierReply,
    QueueGetConfigRequest(QueueGetConfigRequest),
    QueueGetConfigReply(QueueGetConfigReply),
    RoleRequest(RoleMsg),
    RoleReply(RoleMsg),
    GetAsyncRequest,
    GetAsyncReply(AsyncConfig),
    SetAsync(AsyncConfig),
    MeterMod(MeterMod),
}

impl Message {
    /// Decodes exactly one message: `buf` holds the header and body, and the
    /// header's length must equal `buf.len()`. Returns the xid and the message.
    pub fn decode(_buf: &[u8]) -> Result<(u32, Message), WireError> {
        todo!()
    }

    /// Appends header + body to `buf`.
    pub fn encode(&self, _xid: u32, _buf: &mut BytesMut) {
        todo!()
    }

    /// The header's `type` for this message.
    pub fn msg_type(&self) -> u8 {
        todo!()
    }
}
