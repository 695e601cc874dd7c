//! Every OpenFlow 1.3 message as a typed value: [`Message`] plus one file per
//! message family with its `parse_body`/`emit_body` side by side.
//!
//! [`Message::decode`] takes exactly one framed message (header included);
//! [`Message::encode`] writes header + body with the length filled in.
//! Decoding only checks framing and layout; the spec-level checks on contained
//! matches/instructions are [`Message::validate`], kept separate so a decoded
//! message can still be printed or forwarded when it would be refused.

mod async_config;
mod error_msg;
mod experimenter;
mod features;
mod flow_mod;
mod flow_removed;
mod hello;
mod packet_in;
mod packet_out;
mod port_mod;
mod port_status;
mod role;
mod switch_config;
mod table_mod;

pub use async_config::{AsyncConfig, OFP_ASYNC_CONFIG_BODY_LEN};
pub use error_msg::{
    ErrorMsg, OFP_ERROR_DATA_LEN, OFP_ERROR_EXPERIMENTER_MSG_BODY_LEN, OFP_ERROR_MSG_BODY_LEN,
};
pub(crate) use experimenter::{emit_experimenter, parse_experimenter};
pub use experimenter::{ExperimenterMsg, OFP_EXPERIMENTER_BODY_LEN};
pub use features::{FeaturesReply, OFP_SWITCH_FEATURES_BODY_LEN};
pub use flow_mod::{FlowMod, OFP_FLOW_MOD_FIXED_LEN, OFP_FLOW_MOD_MIN_BODY_LEN};
pub use flow_removed::{FlowRemoved, OFP_FLOW_REMOVED_FIXED_LEN, OFP_FLOW_REMOVED_MIN_BODY_LEN};
pub use hello::{Hello, HelloElem, OFP_HELLO_ELEM_HEADER_LEN};
pub use packet_in::{PacketIn, OFP_PACKET_IN_FIXED_LEN, OFP_PACKET_IN_MIN_BODY_LEN};
pub use packet_out::{PacketOut, OFP_PACKET_OUT_FIXED_LEN};
pub use port_mod::{PortMod, OFP_PORT_MOD_BODY_LEN};
pub use port_status::{PortStatus, OFP_PORT_STATUS_BODY_LEN};
pub use role::{RoleMsg, OFP_ROLE_REQUEST_BODY_LEN};
pub use switch_config::{SwitchConfig, OFP_SWITCH_CONFIG_BODY_LEN};
pub use table_mod::{TableMod, OFP_TABLE_MOD_BODY_LEN};

use crate::action::Action;
use crate::consts::*;
use crate::error::{WireError, OFPBRC_BAD_LEN, OFPBRC_BAD_TYPE, OFPBRC_BAD_VERSION};
use crate::group::GroupMod;
use crate::header::{Header, OFP_HEADER_LEN, OFP_VERSION};
use crate::instruction::Instruction;
use crate::meter::MeterMod;
use crate::multipart::{MultipartReply, MultipartRequest};
use crate::queue::{QueueGetConfigReply, QueueGetConfigRequest};
use crate::wire::{finish, patch_len, PResult};
use bytes::{Bytes, BytesMut};

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
    ///
    /// Checks, in order: at least 8 bytes; the header's length equals
    /// `buf.len()` (`OFPBRC_BAD_LEN` naming both); version 0x04 unless the
    /// message is a HELLO (`OFPBRC_BAD_VERSION`); a known type
    /// (`OFPBRC_BAD_TYPE`); then the body.
    pub fn decode(buf: &[u8]) -> Result<(u32, Message), WireError> {
        Message::decode_with_header(buf).map(|(h, m)| (h.xid, m))
    }

    /// [`Message::decode`], returning the whole header: a HELLO is accepted at
    /// any version, and version negotiation needs the one it came with.
    pub fn decode_with_header(buf: &[u8]) -> Result<(Header, Message), WireError> {
        if buf.len() < OFP_HEADER_LEN {
            return Err(WireError::new(
                OFPBRC_BAD_LEN,
                format!(
                    "message has {} bytes, fewer than the {OFP_HEADER_LEN}-byte ofp_header",
                    buf.len()
                ),
            ));
        }
        let (body, h) = Header::parse(buf)?;
        let length = usize::from(h.length);
        if length < OFP_HEADER_LEN || length != buf.len() {
            return Err(WireError::new(
                OFPBRC_BAD_LEN,
                format!("header says {length} bytes, message has {}", buf.len()),
            ));
        }
        if h.version != OFP_VERSION && h.msg_type != OFPT_HELLO {
            return Err(WireError::new(
                OFPBRC_BAD_VERSION,
                format!(
                    "version 0x{:02x} is not OpenFlow 1.3 (0x{OFP_VERSION:02x})",
                    h.version
                ),
            ));
        }
        let m = Message::decode_body(h.msg_type, body)?;
        Ok((h, m))
    }

    /// Decodes a body (the bytes after the 8-byte header) of type `msg_type`.
    /// Unknown types are `OFPBRC_BAD_TYPE`.
    pub fn decode_body(msg_type: u8, body: &[u8]) -> Result<Message, WireError> {
        Ok(match msg_type {
            OFPT_HELLO => Message::Hello(Hello::parse_body(body)?),
            OFPT_ERROR => Message::Error(ErrorMsg::parse_body(body)?),
            OFPT_ECHO_REQUEST => Message::EchoRequest(Bytes::copy_from_slice(body)),
            OFPT_ECHO_REPLY => Message::EchoReply(Bytes::copy_from_slice(body)),
            OFPT_EXPERIMENTER => Message::Experimenter(ExperimenterMsg::parse_body(body)?),
            OFPT_FEATURES_REQUEST => empty_body(body, Message::FeaturesRequest)?,
            OFPT_FEATURES_REPLY => Message::FeaturesReply(FeaturesReply::parse_body(body)?),
            OFPT_GET_CONFIG_REQUEST => empty_body(body, Message::GetConfigRequest)?,
            OFPT_GET_CONFIG_REPLY => Message::GetConfigReply(SwitchConfig::parse_body(body)?),
            OFPT_SET_CONFIG => Message::SetConfig(SwitchConfig::parse_body(body)?),
            OFPT_PACKET_IN => Message::PacketIn(PacketIn::parse_body(body)?),
            OFPT_FLOW_REMOVED => Message::FlowRemoved(FlowRemoved::parse_body(body)?),
            OFPT_PORT_STATUS => Message::PortStatus(PortStatus::parse_body(body)?),
            OFPT_PACKET_OUT => Message::PacketOut(PacketOut::parse_body(body)?),
            OFPT_FLOW_MOD => Message::FlowMod(FlowMod::parse_body(body)?),
            OFPT_GROUP_MOD => Message::GroupMod(GroupMod::parse_body(body)?),
            OFPT_PORT_MOD => Message::PortMod(PortMod::parse_body(body)?),
            OFPT_TABLE_MOD => Message::TableMod(TableMod::parse_body(body)?),
            OFPT_MULTIPART_REQUEST => {
                Message::MultipartRequest(MultipartRequest::parse_body(body)?)
            }
            OFPT_MULTIPART_REPLY => Message::MultipartReply(MultipartReply::parse_body(body)?),
            OFPT_BARRIER_REQUEST => empty_body(body, Message::BarrierRequest)?,
            OFPT_BARRIER_REPLY => empty_body(body, Message::BarrierReply)?,
            OFPT_QUEUE_GET_CONFIG_REQUEST => {
                Message::QueueGetConfigRequest(QueueGetConfigRequest::parse_body(body)?)
            }
            OFPT_QUEUE_GET_CONFIG_REPLY => {
                Message::QueueGetConfigReply(QueueGetConfigReply::parse_body(body)?)
            }
            OFPT_ROLE_REQUEST => Message::RoleRequest(RoleMsg::parse_body(body)?),
            OFPT_ROLE_REPLY => Message::RoleReply(RoleMsg::parse_body(body)?),
            OFPT_GET_ASYNC_REQUEST => empty_body(body, Message::GetAsyncRequest)?,
            OFPT_GET_ASYNC_REPLY => Message::GetAsyncReply(AsyncConfig::parse_body(body)?),
            OFPT_SET_ASYNC => Message::SetAsync(AsyncConfig::parse_body(body)?),
            OFPT_METER_MOD => Message::MeterMod(MeterMod::parse_body(body)?),
            t => {
                return Err(WireError::new(
                    OFPBRC_BAD_TYPE,
                    format!("unknown message type {t}"),
                ))
            }
        })
    }

    /// Appends header + body to `buf`.
    ///
    /// The header's 16-bit length cannot describe a message over 65535 bytes:
    /// such a message is written with a wrong length. Callers keep messages
    /// below that (multipart replies split with the MORE flag); the framing
    /// codec's encoder refuses oversized messages with an error.
    pub fn encode(&self, xid: u32, buf: &mut BytesMut) {
        let start = buf.len();
        Header {
            version: OFP_VERSION,
            msg_type: self.msg_type(),
            length: 0, // patched below
            xid,
        }
        .emit(buf);
        self.emit_body(buf);
        patch_len(buf, start + 2, start);
    }

    /// The whole message (header included) as a fresh vector.
    pub fn encode_to_vec(&self, xid: u32) -> Vec<u8> {
        let mut buf = BytesMut::new();
        self.encode(xid, &mut buf);
        buf.to_vec()
    }

    /// Appends the body only (what follows the 8-byte header).
    pub fn emit_body(&self, buf: &mut BytesMut) {
        match self {
            Message::Hello(m) => m.emit_body(buf),
            Message::Error(m) => m.emit_body(buf),
            Message::EchoRequest(d) | Message::EchoReply(d) => buf.extend_from_slice(d),
            Message::Experimenter(m) => m.emit_body(buf),
            Message::FeaturesRequest
            | Message::GetConfigRequest
            | Message::BarrierRequest
            | Message::BarrierReply
            | Message::GetAsyncRequest => {}
            Message::FeaturesReply(m) => m.emit_body(buf),
            Message::GetConfigReply(m) | Message::SetConfig(m) => m.emit_body(buf),
            Message::PacketIn(m) => m.emit_body(buf),
            Message::FlowRemoved(m) => m.emit_body(buf),
            Message::PortStatus(m) => m.emit_body(buf),
            Message::PacketOut(m) => m.emit_body(buf),
            Message::FlowMod(m) => m.emit_body(buf),
            Message::GroupMod(m) => m.emit_body(buf),
            Message::PortMod(m) => m.emit_body(buf),
            Message::TableMod(m) => m.emit_body(buf),
            Message::MultipartRequest(m) => m.emit_body(buf),
            Message::MultipartReply(m) => m.emit_body(buf),
            Message::QueueGetConfigRequest(m) => m.emit_body(buf),
            Message::QueueGetConfigReply(m) => m.emit_body(buf),
            Message::RoleRequest(m) | Message::RoleReply(m) => m.emit_body(buf),
            Message::GetAsyncReply(m) | Message::SetAsync(m) => m.emit_body(buf),
            Message::MeterMod(m) => m.emit_body(buf),
        }
    }

    /// The header's `type` for this message.
    pub fn msg_type(&self) -> u8 {
        match self {
            Message::Hello(_) => OFPT_HELLO,
            Message::Error(_) => OFPT_ERROR,
            Message::EchoRequest(_) => OFPT_ECHO_REQUEST,
            Message::EchoReply(_) => OFPT_ECHO_REPLY,
            Message::Experimenter(_) => OFPT_EXPERIMENTER,
            Message::FeaturesRequest => OFPT_FEATURES_REQUEST,
            Message::FeaturesReply(_) => OFPT_FEATURES_REPLY,
            Message::GetConfigRequest => OFPT_GET_CONFIG_REQUEST,
            Message::GetConfigReply(_) => OFPT_GET_CONFIG_REPLY,
            Message::SetConfig(_) => OFPT_SET_CONFIG,
            Message::PacketIn(_) => OFPT_PACKET_IN,
            Message::FlowRemoved(_) => OFPT_FLOW_REMOVED,
            Message::PortStatus(_) => OFPT_PORT_STATUS,
            Message::PacketOut(_) => OFPT_PACKET_OUT,
            Message::FlowMod(_) => OFPT_FLOW_MOD,
            Message::GroupMod(_) => OFPT_GROUP_MOD,
            Message::PortMod(_) => OFPT_PORT_MOD,
            Message::TableMod(_) => OFPT_TABLE_MOD,
            Message::MultipartRequest(_) => OFPT_MULTIPART_REQUEST,
            Message::MultipartReply(_) => OFPT_MULTIPART_REPLY,
            Message::BarrierRequest => OFPT_BARRIER_REQUEST,
            Message::BarrierReply => OFPT_BARRIER_REPLY,
            Message::QueueGetConfigRequest(_) => OFPT_QUEUE_GET_CONFIG_REQUEST,
            Message::QueueGetConfigReply(_) => OFPT_QUEUE_GET_CONFIG_REPLY,
            Message::RoleRequest(_) => OFPT_ROLE_REQUEST,
            Message::RoleReply(_) => OFPT_ROLE_REPLY,
            Message::GetAsyncRequest => OFPT_GET_ASYNC_REQUEST,
            Message::GetAsyncReply(_) => OFPT_GET_ASYNC_REPLY,
            Message::SetAsync(_) => OFPT_SET_ASYNC,
            Message::MeterMod(_) => OFPT_METER_MOD,
        }
    }

    /// The spec name of this message's type, e.g. `OFPT_FLOW_MOD`.
    pub fn type_name(&self) -> &'static str {
        msg_type_name(self.msg_type()).unwrap_or("OFPT_UNKNOWN")
    }

    /// Spec-level checks beyond the wire layout, on what a switch receives:
    /// a FLOW_MOD's match (`Match::validate`, `OFPBMC_*` errors) and
    /// instruction set (`Instruction::check`, `OFPBIC_*`), and the matches of
    /// multipart flow and aggregate requests.
    /// Action arguments (`Action::check_args`) are the datapath's business.
    /// Decoding never runs these, so a message that would be refused can still
    /// be printed; a switch calls this before acting on a message.
    pub fn validate(&self) -> Result<(), WireError> {
        match self {
            Message::FlowMod(fm) => {
                fm.match_.validate()?;
                Instruction::check(&fm.instructions)
            }
            Message::MultipartRequest(m) => m.validate(),
            // What the switch sends (PACKET_IN, FLOW_REMOVED, replies) is
            // not validated: their matches describe packets and flows as
            // they are, and a receiver has nothing to refuse.
            _ => Ok(()),
        }
    }
}

/// Bodiless messages: any body at all is `OFPBRC_BAD_LEN`.
fn empty_body(body: &[u8], m: Message) -> Result<Message, WireError> {
    if body.is_empty() {
        Ok(m)
    } else {
        Err(WireError::new(
            OFPBRC_BAD_LEN,
            format!("{} has no body, got {} bytes", m.type_name(), body.len()),
        ))
    }
}

/// Runs `p` over a fixed-size body after checking it is exactly `len` bytes
/// (shorter or longer → `OFPBRC_BAD_LEN`), so `p` may read without running out.
pub(crate) fn exact_body<'a, T>(
    body: &'a [u8],
    len: usize,
    what: &str,
    p: impl FnOnce(&'a [u8]) -> PResult<'a, T>,
) -> Result<T, WireError> {
    if body.len() != len {
        return Err(WireError::new(
            OFPBRC_BAD_LEN,
            format!("{what} body has {} bytes, must be {len}", body.len()),
        ));
    }
    finish(p(body), OFPBRC_BAD_LEN, what)
}

/// `OFPBRC_BAD_LEN` unless `body` holds at least the `len`-byte fixed part.
pub(crate) fn min_body(body: &[u8], len: usize, what: &str) -> Result<(), WireError> {
    if body.len() < len {
        return Err(WireError::new(
            OFPBRC_BAD_LEN,
            format!(
                "{what} body has {} bytes, shorter than its fixed part ({len})",
                body.len()
            ),
        ));
    }
    Ok(())
}

/// `Action::parse_list`, answering the empty list here.
pub(crate) fn parse_actions(i: &[u8]) -> Result<Vec<Action>, WireError> {
    if i.is_empty() {
        Ok(Vec::new())
    } else {
        Action::parse_list(i)
    }
}

/// `Instruction::parse_list`, answering the empty list here.
pub(crate) fn parse_instructions(i: &[u8]) -> Result<Vec<Instruction>, WireError> {
    if i.is_empty() {
        Ok(Vec::new())
    } else {
        Instruction::parse_list(i)
    }
}

/// Deterministic pseudo-random bytes for never-panic loops (no extra deps).
#[cfg(test)]
pub(crate) mod tests_util {
    /// xorshift64*; the seed must not be 0.
    pub(crate) struct Rng(pub u64);

    impl Rng {
        pub(crate) fn next_u64(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.0 = x;
            x.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        pub(crate) fn below(&mut self, n: usize) -> usize {
            (self.next_u64() % n as u64) as usize
        }

        /// 0..=max random bytes.
        pub(crate) fn bytes(&mut self, max: usize) -> Vec<u8> {
            let n = self.below(max + 1);
            (0..n).map(|_| self.next_u64() as u8).collect()
        }
    }
}

#[cfg(test)]
pub(crate) mod arb {
    //! proptest strategies for whole messages.

    use super::*;
    use crate::action::arb::action;
    use crate::error::ErrorCode;
    use crate::instruction::arb::instruction_list;
    use crate::oxm::arb::valid_match;
    use crate::wire::MacAddr;
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::strategy::{BoxedStrategy, Union};

    fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
        vec(any::<u8>(), 0..=max).prop_map(Bytes::from)
    }

    pub fn hello() -> impl Strategy<Value = Hello> {
        let elem = prop_oneof![
            vec(any::<u32>(), 0..4).prop_map(HelloElem::VersionBitmap),
            // Type 1 would read back as a bitmap.
            (
                any::<u16>().prop_filter("not VERSIONBITMAP", |t| *t != 1),
                bytes(12)
            )
                .prop_map(|(ty, data)| HelloElem::Unknown { ty, data }),
        ];
        vec(elem, 0..4).prop_map(|elements| Hello { elements })
    }

    pub fn error_msg() -> impl Strategy<Value = ErrorMsg> {
        prop_oneof![
            (0u16..0xffff, any::<u16>(), bytes(64)).prop_map(|(ty, code, data)| {
                ErrorMsg::Standard {
                    code: ErrorCode::new(ty, code),
                    data,
                }
            }),
            (any::<u16>(), any::<u32>(), bytes(64)).prop_map(|(exp_type, experimenter, data)| {
                ErrorMsg::Experimenter {
                    exp_type,
                    experimenter,
                    data,
                }
            }),
        ]
    }

    pub fn packet_in() -> impl Strategy<Value = PacketIn> {
        (
            (
                any::<u32>(),
                any::<u16>(),
                any::<u8>(),
                any::<u8>(),
                any::<u64>(),
            ),
            valid_match(),
            bytes(100),
        )
            .prop_map(
                |((buffer_id, total_len, reason, table_id, cookie), match_, data)| PacketIn {
                    buffer_id,
                    total_len,
                    reason,
                    table_id,
                    cookie,
                    match_,
                    data,
                },
            )
    }

    pub fn flow_removed() -> impl Strategy<Value = FlowRemoved> {
        (
            (any::<u64>(), any::<u16>(), any::<u8>(), any::<u8>()),
            (any::<u32>(), any::<u32>(), any::<u16>(), any::<u16>()),
            (any::<u64>(), any::<u64>()),
            valid_match(),
        )
            .prop_map(
                |(
                    (cookie, priority, reason, table_id),
                    (duration_sec, duration_nsec, idle_timeout, hard_timeout),
                    (packet_count, byte_count),
                    match_,
                )| FlowRemoved {
                    cookie,
                    priority,
                    reason,
                    table_id,
                    duration_sec,
                    duration_nsec,
                    idle_timeout,
                    hard_timeout,
                    packet_count,
                    byte_count,
                    match_,
                },
            )
    }

    pub fn packet_out() -> impl Strategy<Value = PacketOut> {
        (any::<u32>(), any::<u32>(), vec(action(), 0..6), bytes(100)).prop_map(
            |(buffer_id, in_port, actions, data)| PacketOut {
                buffer_id,
                in_port,
                actions,
                data,
            },
        )
    }

    pub fn flow_mod() -> impl Strategy<Value = FlowMod> {
        (
            (any::<u64>(), any::<u64>(), any::<u8>(), any::<u8>()),
            (any::<u16>(), any::<u16>(), any::<u16>(), any::<u32>()),
            (any::<u32>(), any::<u32>(), any::<u16>()),
            valid_match(),
            instruction_list(),
        )
            .prop_map(
                |(
                    (cookie, cookie_mask, table_id, command),
                    (idle_timeout, hard_timeout, priority, buffer_id),
                    (out_port, out_group, flags),
                    match_,
                    instructions,
                )| FlowMod {
                    cookie,
                    cookie_mask,
                    table_id,
                    command,
                    idle_timeout,
                    hard_timeout,
                    priority,
                    buffer_id,
                    out_port,
                    out_group,
                    flags,
                    match_,
                    instructions,
                },
            )
    }

    pub fn port_mod() -> impl Strategy<Value = PortMod> {
        (any::<u32>(), any::<[u8; 6]>(), any::<[u32; 3]>()).prop_map(|(port_no, mac, v)| PortMod {
            port_no,
            hw_addr: MacAddr(mac),
            config: v[0],
            mask: v[1],
            advertise: v[2],
        })
    }

    fn role() -> impl Strategy<Value = RoleMsg> {
        (any::<u32>(), any::<u64>()).prop_map(|(role, generation_id)| RoleMsg {
            role,
            generation_id,
        })
    }

    fn async_config() -> impl Strategy<Value = AsyncConfig> {
        any::<[u32; 6]>().prop_map(|v| AsyncConfig {
            packet_in_mask: [v[0], v[1]],
            port_status_mask: [v[2], v[3]],
            flow_removed_mask: [v[4], v[5]],
        })
    }

    fn switch_config() -> impl Strategy<Value = SwitchConfig> {
        (any::<u16>(), any::<u16>()).prop_map(|(flags, miss_send_len)| SwitchConfig {
            flags,
            miss_send_len,
        })
    }

    /// Every message type except MULTIPART_REQUEST/REPLY (see `crate::multipart`).
    pub fn message() -> impl Strategy<Value = Message> {
        let arms: Vec<BoxedStrategy<Message>> = vec![
            hello().prop_map(Message::Hello).boxed(),
            error_msg().prop_map(Message::Error).boxed(),
            bytes(64).prop_map(Message::EchoRequest).boxed(),
            bytes(64).prop_map(Message::EchoReply).boxed(),
            (any::<u32>(), any::<u32>(), bytes(32))
                .prop_map(|(experimenter, exp_type, data)| {
                    Message::Experimenter(ExperimenterMsg {
                        experimenter,
                        exp_type,
                        data,
                    })
                })
                .boxed(),
            Just(Message::FeaturesRequest).boxed(),
            (
                any::<u64>(),
                any::<u32>(),
                any::<u8>(),
                any::<u8>(),
                any::<[u32; 2]>(),
            )
                .prop_map(|(datapath_id, n_buffers, n_tables, auxiliary_id, v)| {
                    Message::FeaturesReply(FeaturesReply {
                        datapath_id,
                        n_buffers,
                        n_tables,
                        auxiliary_id,
                        capabilities: v[0],
                        reserved: v[1],
                    })
                })
                .boxed(),
            Just(Message::GetConfigRequest).boxed(),
            switch_config().prop_map(Message::GetConfigReply).boxed(),
            switch_config().prop_map(Message::SetConfig).boxed(),
            packet_in().prop_map(Message::PacketIn).boxed(),
            flow_removed().prop_map(Message::FlowRemoved).boxed(),
            (any::<u8>(), crate::port::arb::port_desc())
                .prop_map(|(reason, desc)| Message::PortStatus(PortStatus { reason, desc }))
                .boxed(),
            packet_out().prop_map(Message::PacketOut).boxed(),
            flow_mod().prop_map(Message::FlowMod).boxed(),
            crate::group::arb::group_mod()
                .prop_map(Message::GroupMod)
                .boxed(),
            port_mod().prop_map(Message::PortMod).boxed(),
            (any::<u8>(), any::<u32>())
                .prop_map(|(table_id, config)| Message::TableMod(TableMod { table_id, config }))
                .boxed(),
            Just(Message::BarrierRequest).boxed(),
            Just(Message::BarrierReply).boxed(),
            any::<u32>()
                .prop_map(|port| Message::QueueGetConfigRequest(QueueGetConfigRequest { port }))
                .boxed(),
            crate::queue::arb::reply()
                .prop_map(Message::QueueGetConfigReply)
                .boxed(),
            role().prop_map(Message::RoleRequest).boxed(),
            role().prop_map(Message::RoleReply).boxed(),
            Just(Message::GetAsyncRequest).boxed(),
            async_config().prop_map(Message::GetAsyncReply).boxed(),
            async_config().prop_map(Message::SetAsync).boxed(),
            crate::meter::arb::meter_mod()
                .prop_map(Message::MeterMod)
                .boxed(),
        ];
        Union::new(arms)
    }
}

#[cfg(test)]
mod tests;
