//! `ofp_packet_queue` and queue properties (QUEUE_GET_CONFIG).
//!
//! Lengths are taken exactly as the `len` fields say: a queue or property is
//! not assumed to be padded to 8 (os-ken's vectors carry 17-byte experimenter
//! properties and 65-byte queues), so what is parsed re-emits byte for byte.
//! A queue or property whose `len` is shorter than its fixed part or runs past
//! the enclosing structure is `OFPBRC_BAD_LEN`; so is a MIN_RATE/MAX_RATE
//! property whose `len` is not 16.

use crate::consts::{OFPQT_EXPERIMENTER, OFPQT_MAX_RATE, OFPQT_MIN_RATE};
use crate::error::{WireError, OFPBRC_BAD_LEN};
use crate::wire::{fail, finish, patch_len, put_zeros, take_exact, take_struct, PResult};
use bytes::{BufMut, Bytes, BytesMut};
use nom::number::complete::{be_u16, be_u32};

/// Size of `ofp_queue_prop_header`.
pub const OFP_QUEUE_PROP_HEADER_LEN: usize = 8;
/// Size of `ofp_queue_prop_min_rate` / `ofp_queue_prop_max_rate`.
pub const OFP_QUEUE_PROP_RATE_LEN: usize = 16;
/// Size of `ofp_queue_prop_experimenter` without its data.
pub const OFP_QUEUE_PROP_EXPERIMENTER_LEN: usize = 16;
/// Size of `ofp_packet_queue` without its properties.
pub const OFP_PACKET_QUEUE_LEN: usize = 16;
/// Body size of QUEUE_GET_CONFIG_REQUEST and fixed part of the reply.
pub const OFP_QUEUE_GET_CONFIG_BODY_LEN: usize = 8;

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum QueueProp {
    /// Rate in 1/10 of a percent; >1000 means disabled.
    MinRate(u16),
    MaxRate(u16),
    /// `data` is everything after the experimenter id and its padding.
    Experimenter {
        experimenter: u32,
        data: Bytes,
    },
    /// A property type OF1.3 does not define, kept so it re-emits unchanged:
    /// `data` is everything after the 8-byte property header.
    Unknown {
        property: u16,
        data: Bytes,
    },
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

impl QueueProp {
    /// One queue property (its `len` field frames it).
    pub fn parse(i: &[u8]) -> PResult<'_, QueueProp> {
        let (_, h) = take_exact(i, 4, OFPBRC_BAD_LEN, "ofp_queue_prop_header")?;
        let (h, property) = be_u16(h)?;
        let (_, len) = be_u16(h)?;
        let len = usize::from(len);
        let (rest, b) = take_struct(
            i,
            len,
            OFP_QUEUE_PROP_HEADER_LEN,
            OFPBRC_BAD_LEN,
            "ofp_queue_prop",
        )?;
        let b = &b[OFP_QUEUE_PROP_HEADER_LEN..];
        let prop = match property {
            OFPQT_MIN_RATE | OFPQT_MAX_RATE => {
                if len != OFP_QUEUE_PROP_RATE_LEN {
                    return Err(fail(
                        OFPBRC_BAD_LEN,
                        format!("queue rate property has length {len}, must be {OFP_QUEUE_PROP_RATE_LEN}"),
                    ));
                }
                let (_, rate) = be_u16(b)?;
                if property == OFPQT_MIN_RATE {
                    QueueProp::MinRate(rate)
                } else {
                    QueueProp::MaxRate(rate)
                }
            }
            OFPQT_EXPERIMENTER => {
                if len < OFP_QUEUE_PROP_EXPERIMENTER_LEN {
                    return Err(fail(
                        OFPBRC_BAD_LEN,
                        format!(
                            "experimenter queue property length {len} is shorter than its fixed part ({OFP_QUEUE_PROP_EXPERIMENTER_LEN})"
                        ),
                    ));
                }
                let (b, experimenter) = be_u32(b)?;
                QueueProp::Experimenter {
                    experimenter,
                    data: Bytes::copy_from_slice(&b[4..]),
                }
            }
            _ => QueueProp::Unknown {
                property,
                data: Bytes::copy_from_slice(b),
            },
        };
        Ok((rest, prop))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        let start = buf.len();
        let property = match self {
            QueueProp::MinRate(_) => OFPQT_MIN_RATE,
            QueueProp::MaxRate(_) => OFPQT_MAX_RATE,
            QueueProp::Experimenter { .. } => OFPQT_EXPERIMENTER,
            QueueProp::Unknown { property, .. } => *property,
        };
        buf.put_u16(property);
        buf.put_u16(0); // len, patched below
        put_zeros(buf, 4);
        match self {
            QueueProp::MinRate(rate) | QueueProp::MaxRate(rate) => {
                buf.put_u16(*rate);
                put_zeros(buf, 6);
            }
            QueueProp::Experimenter { experimenter, data } => {
                buf.put_u32(*experimenter);
                put_zeros(buf, 4);
                buf.put_slice(data);
            }
            QueueProp::Unknown { data, .. } => buf.put_slice(data),
        }
        patch_len(buf, start + 2, start);
    }

    /// Bytes on the wire.
    pub fn wire_len(&self) -> usize {
        match self {
            QueueProp::MinRate(_) | QueueProp::MaxRate(_) => OFP_QUEUE_PROP_RATE_LEN,
            QueueProp::Experimenter { data, .. } => OFP_QUEUE_PROP_EXPERIMENTER_LEN + data.len(),
            QueueProp::Unknown { data, .. } => OFP_QUEUE_PROP_HEADER_LEN + data.len(),
        }
    }

    /// The slice holds exactly a list of properties.
    pub fn parse_list(mut i: &[u8]) -> Result<Vec<QueueProp>, WireError> {
        let mut out = Vec::new();
        while !i.is_empty() {
            // Every successful parse consumes at least 8 bytes.
            let (rest, p) = QueueProp::parse(i)?;
            out.push(p);
            i = rest;
        }
        Ok(out)
    }
}

impl PacketQueue {
    /// One `ofp_packet_queue` (its `len` field frames it).
    pub fn parse(i: &[u8]) -> PResult<'_, PacketQueue> {
        let (_, h) = take_exact(i, 10, OFPBRC_BAD_LEN, "ofp_packet_queue")?;
        let (h, queue_id) = be_u32(h)?;
        let (h, port) = be_u32(h)?;
        let (_, len) = be_u16(h)?;
        let (rest, b) = take_struct(
            i,
            usize::from(len),
            OFP_PACKET_QUEUE_LEN,
            OFPBRC_BAD_LEN,
            "ofp_packet_queue",
        )?;
        let properties =
            QueueProp::parse_list(&b[OFP_PACKET_QUEUE_LEN..]).map_err(nom::Err::Failure)?;
        Ok((
            rest,
            PacketQueue {
                queue_id,
                port,
                properties,
            },
        ))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        let start = buf.len();
        buf.put_u32(self.queue_id);
        buf.put_u32(self.port);
        buf.put_u16(0); // len, patched below
        put_zeros(buf, 6);
        for p in &self.properties {
            p.emit(buf);
        }
        patch_len(buf, start + 8, start);
    }

    /// Bytes on the wire.
    pub fn wire_len(&self) -> usize {
        OFP_PACKET_QUEUE_LEN
            + self
                .properties
                .iter()
                .map(QueueProp::wire_len)
                .sum::<usize>()
    }

    /// The slice holds exactly a list of queues.
    pub fn parse_list(mut i: &[u8]) -> Result<Vec<PacketQueue>, WireError> {
        let mut out = Vec::new();
        while !i.is_empty() {
            // Every successful parse consumes at least 16 bytes.
            let (rest, q) = PacketQueue::parse(i)?;
            out.push(q);
            i = rest;
        }
        Ok(out)
    }
}

/// `port u32, pad 4`: the fixed part shared by the request and the reply.
fn parse_port(i: &[u8]) -> PResult<'_, u32> {
    let (rest, f) = take_exact(
        i,
        OFP_QUEUE_GET_CONFIG_BODY_LEN,
        OFPBRC_BAD_LEN,
        "ofp_queue_get_config",
    )?;
    let (_, port) = be_u32(f)?;
    Ok((rest, port))
}

impl QueueGetConfigRequest {
    /// `body` is the message after the 8-byte OpenFlow header.
    pub fn parse_body(body: &[u8]) -> Result<Self, WireError> {
        let port = finish(
            parse_port(body),
            OFPBRC_BAD_LEN,
            "ofp_queue_get_config_request",
        )?;
        Ok(QueueGetConfigRequest { port })
    }

    pub fn emit_body(&self, buf: &mut BytesMut) {
        buf.put_u32(self.port);
        put_zeros(buf, 4);
    }
}

impl QueueGetConfigReply {
    /// `body` is the message after the 8-byte OpenFlow header.
    pub fn parse_body(body: &[u8]) -> Result<Self, WireError> {
        let (rest, port) = parse_port(body)?;
        let queues = PacketQueue::parse_list(rest)?;
        Ok(QueueGetConfigReply { port, queues })
    }

    pub fn emit_body(&self, buf: &mut BytesMut) {
        buf.put_u32(self.port);
        put_zeros(buf, 4);
        for q in &self.queues {
            q.emit(buf);
        }
    }
}

#[cfg(test)]
pub(crate) mod arb {
    use super::*;
    use proptest::prelude::*;

    pub fn prop() -> impl Strategy<Value = QueueProp> {
        prop_oneof![
            any::<u16>().prop_map(QueueProp::MinRate),
            any::<u16>().prop_map(QueueProp::MaxRate),
            (any::<u32>(), proptest::collection::vec(any::<u8>(), 0..20)).prop_map(
                |(experimenter, d)| QueueProp::Experimenter {
                    experimenter,
                    data: Bytes::from(d),
                }
            ),
            (3u16..0xffff, proptest::collection::vec(any::<u8>(), 0..20)).prop_map(
                |(property, d)| QueueProp::Unknown {
                    property,
                    data: Bytes::from(d),
                }
            ),
        ]
    }

    pub fn queue() -> impl Strategy<Value = PacketQueue> {
        (
            any::<u32>(),
            any::<u32>(),
            proptest::collection::vec(prop(), 0..4),
        )
            .prop_map(|(queue_id, port, properties)| PacketQueue {
                queue_id,
                port,
                properties,
            })
    }

    pub fn reply() -> impl Strategy<Value = QueueGetConfigReply> {
        (any::<u32>(), proptest::collection::vec(queue(), 0..4))
            .prop_map(|(port, queues)| QueueGetConfigReply { port, queues })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[rustfmt::skip]
    const REPLY: [u8; 48] = [
        0, 0, 0, 1, 0, 0, 0, 0,                         // port 1
        0, 0, 0, 9, 0, 0, 0, 1, 0, 32, 0, 0, 0, 0, 0, 0, // queue 9 on port 1, len 32
        0, 1, 0, 16, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, // MIN_RATE 100
        0, 0, 0, 2, 0, 0, 0, 0,                         // queue 2 on port 0, len 16 (below)
    ];

    fn reply_bytes() -> Vec<u8> {
        let mut v = REPLY.to_vec();
        v.extend_from_slice(&[0, 16, 0, 0, 0, 0, 0, 0]);
        v
    }

    fn reply() -> QueueGetConfigReply {
        QueueGetConfigReply {
            port: 1,
            queues: vec![
                PacketQueue {
                    queue_id: 9,
                    port: 1,
                    properties: vec![QueueProp::MinRate(100)],
                },
                PacketQueue {
                    queue_id: 2,
                    port: 0,
                    properties: vec![],
                },
            ],
        }
    }

    #[test]
    fn reply_is_byte_exact_both_ways() {
        let mut buf = BytesMut::new();
        reply().emit_body(&mut buf);
        assert_eq!(&buf[..], &reply_bytes()[..]);
        assert_eq!(
            QueueGetConfigReply::parse_body(&reply_bytes()).unwrap(),
            reply()
        );
    }

    #[test]
    fn request_is_exactly_eight_bytes() {
        let r = QueueGetConfigRequest { port: 0xffff_fffc };
        let mut buf = BytesMut::new();
        r.emit_body(&mut buf);
        assert_eq!(&buf[..], &[0xff, 0xff, 0xff, 0xfc, 0, 0, 0, 0]);
        assert_eq!(QueueGetConfigRequest::parse_body(&buf).unwrap(), r);
        for n in 0..8 {
            let e = QueueGetConfigRequest::parse_body(&buf[..n]).unwrap_err();
            assert_eq!(e.code, OFPBRC_BAD_LEN);
        }
        let mut long = buf.to_vec();
        long.push(0);
        let e = QueueGetConfigRequest::parse_body(&long).unwrap_err();
        assert_eq!(e.code, OFPBRC_BAD_LEN);
    }

    #[test]
    fn unpadded_experimenter_property_round_trips() {
        // From 4-36-ofp_queue_get_config_reply.packet: a 17-byte property.
        let p = [
            0xff, 0xff, 0, 17, 0, 0, 0, 0, 0, 0, 0x03, 0xe7, 0, 0, 0, 0, 1,
        ];
        let (rest, q) = QueueProp::parse(&p).unwrap();
        assert!(rest.is_empty());
        assert_eq!(
            q,
            QueueProp::Experimenter {
                experimenter: 999,
                data: Bytes::from_static(&[1])
            }
        );
        let mut buf = BytesMut::new();
        q.emit(&mut buf);
        assert_eq!(&buf[..], &p[..]);
        assert_eq!(q.wire_len(), p.len());
    }

    #[test]
    fn unknown_property_is_kept() {
        let p = [0, 7, 0, 12, 0, 0, 0, 0, 1, 2, 3, 4];
        let (_, q) = QueueProp::parse(&p).unwrap();
        assert_eq!(
            q,
            QueueProp::Unknown {
                property: 7,
                data: Bytes::from_static(&[1, 2, 3, 4])
            }
        );
        let mut buf = BytesMut::new();
        q.emit(&mut buf);
        assert_eq!(&buf[..], &p[..]);
    }

    #[test]
    fn bad_lengths_are_bad_len() {
        let full = reply_bytes();
        for n in 0..full.len() {
            if n == 8 || n == 40 {
                continue; // between queues: valid
            }
            let e = QueueGetConfigReply::parse_body(&full[..n]).unwrap_err();
            assert_eq!(e.code, OFPBRC_BAD_LEN, "prefix {n}");
        }
        // Rate property with len 24.
        let p = [
            0, 1, 0, 24, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(QueueProp::parse_list(&p).unwrap_err().code, OFPBRC_BAD_LEN);
        // Property len below its header, queue len below its fixed part.
        assert!(QueueProp::parse_list(&[0, 9, 0, 4, 0, 0, 0, 0]).is_err());
        let mut v = reply_bytes();
        v[17] = 8;
        assert_eq!(
            QueueGetConfigReply::parse_body(&v).unwrap_err().code,
            OFPBRC_BAD_LEN
        );
    }

    #[test]
    fn queue_parsing_never_panics_on_noise() {
        let mut rng = crate::message::tests_util::Rng(7);
        for _ in 0..5000 {
            let mut v = rng.bytes(80);
            // Plausible queue and property headers so parsing goes deeper.
            if v.len() >= 28 {
                v[16] = 0;
                v[17] = 16 + v[17] % 64;
                v[24] = if v[24] & 1 == 0 { 0 } else { 0xff };
                v[25] = if v[24] == 0 { v[25] % 4 } else { 0xff };
                v[26] = 0;
                v[27] %= 40;
            }
            let _ = QueueGetConfigReply::parse_body(&v);
            let _ = QueueProp::parse_list(&v);
        }
    }

    proptest! {
        #[test]
        fn reply_round_trips(r in arb::reply()) {
            let mut buf = BytesMut::new();
            r.emit_body(&mut buf);
            let wire: usize = r.queues.iter().map(PacketQueue::wire_len).sum();
            prop_assert_eq!(buf.len(), 8 + wire);
            prop_assert_eq!(QueueGetConfigReply::parse_body(&buf).unwrap(), r);
        }
    }
}
