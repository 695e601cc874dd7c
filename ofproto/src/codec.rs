//! Framing for an OpenFlow byte stream: a tokio-util [`Decoder`]/[`Encoder`]
//! that cuts the stream at each header's `length` and hands out whole messages.
//!
//! The decoder yields [`OfpFrame`]s — the raw bytes of one message — rather than
//! decoded [`Message`]s: a message that fails to decode must be answered with an
//! `OFPT_ERROR` carrying its first 64 bytes, and the connection goes on. Only a
//! header length below 8 is fatal, because the stream can no longer be framed.

use crate::error::WireError;
use crate::header::{Header, OFP_HEADER_LEN};
use crate::message::Message;
use bytes::{Buf, Bytes, BytesMut};
use std::io;
use tokio_util::codec::{Decoder, Encoder};

/// The largest OpenFlow message (the header's length is 16 bits).
pub const OFP_MAX_MSG_LEN: usize = u16::MAX as usize;

/// One framed OpenFlow message, undecoded.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct OfpFrame {
    pub header: Header,
    /// The whole message, header included (`header.length` bytes).
    pub raw: Bytes,
}

impl OfpFrame {
    pub fn xid(&self) -> u32 {
        self.header.xid
    }

    /// Decodes the body. Failures carry the error the peer must be sent.
    pub fn decode(&self) -> Result<Message, WireError> {
        Message::decode(&self.raw).map(|(_, m)| m)
    }

    /// The first 64 bytes of the message: the `data` of an `OFPT_ERROR` reply.
    pub fn error_data(&self) -> Bytes {
        self.raw.slice(..self.raw.len().min(64))
    }
}

/// The OpenFlow framing codec. Decoding yields [`OfpFrame`]; encoding accepts a
/// `(xid, Message)` pair or an already-encoded frame.
#[derive(Clone, Copy, Debug, Default)]
pub struct OfpCodec;

impl Decoder for OfpCodec {
    type Item = OfpFrame;
    type Error = io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<OfpFrame>, io::Error> {
        if src.len() < OFP_HEADER_LEN {
            src.reserve(OFP_HEADER_LEN - src.len());
            return Ok(None);
        }
        let length = u16::from_be_bytes([src[2], src[3]]) as usize;
        if length < OFP_HEADER_LEN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("OpenFlow header length {length} is below the 8-byte minimum"),
            ));
        }
        if src.len() < length {
            // Bounded: at most one maximal message is ever buffered ahead.
            src.reserve(length - src.len());
            return Ok(None);
        }
        let raw = src.split_to(length).freeze();
        let (_, header) = Header::parse(&raw).map_err(|e| {
            io::Error::new(io::ErrorKind::InvalidData, WireError::from(e).to_string())
        })?;
        Ok(Some(OfpFrame { header, raw }))
    }
}

impl Encoder<(u32, Message)> for OfpCodec {
    type Error = io::Error;

    fn encode(&mut self, (xid, msg): (u32, Message), dst: &mut BytesMut) -> Result<(), io::Error> {
        self.encode((xid, &msg), dst)
    }
}

impl Encoder<(u32, &Message)> for OfpCodec {
    type Error = io::Error;

    fn encode(&mut self, (xid, msg): (u32, &Message), dst: &mut BytesMut) -> Result<(), io::Error> {
        let start = dst.len();
        msg.encode(xid, dst);
        if dst.len() - start > OFP_MAX_MSG_LEN {
            dst.truncate(start);
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "message exceeds 65535 bytes; split it (multipart replies use the MORE flag)",
            ));
        }
        Ok(())
    }
}

impl Encoder<OfpFrame> for OfpCodec {
    type Error = io::Error;

    fn encode(&mut self, frame: OfpFrame, dst: &mut BytesMut) -> Result<(), io::Error> {
        dst.extend_from_slice(frame.raw.chunk());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr(ty: u8, len: u16, xid: u32) -> Vec<u8> {
        let mut v = vec![4, ty];
        v.extend_from_slice(&len.to_be_bytes());
        v.extend_from_slice(&xid.to_be_bytes());
        v
    }

    #[test]
    fn frames_split_and_joined_messages() {
        let mut stream = hdr(2, 12, 7);
        stream.extend_from_slice(b"ping");
        stream.extend(hdr(20, 8, 9));
        let mut codec = OfpCodec;
        let mut buf = BytesMut::new();
        // Feed one byte at a time: frames appear only when complete.
        let mut frames = Vec::new();
        for b in stream {
            buf.extend_from_slice(&[b]);
            while let Some(f) = codec.decode(&mut buf).unwrap() {
                frames.push(f);
            }
        }
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].xid(), 7);
        assert_eq!(&frames[0].raw[8..], b"ping");
        assert_eq!(frames[1].header.msg_type, 20);
        assert_eq!(frames[1].xid(), 9);
        assert!(buf.is_empty());
    }

    #[test]
    fn length_below_header_is_fatal() {
        let mut buf = BytesMut::from(&hdr(0, 7, 1)[..]);
        assert!(OfpCodec.decode(&mut buf).is_err());
    }

    #[test]
    fn error_data_is_first_64_bytes() {
        let mut v = hdr(14, 100, 1);
        v.resize(100, 0xab);
        let mut buf = BytesMut::from(&v[..]);
        let f = OfpCodec.decode(&mut buf).unwrap().unwrap();
        assert_eq!(f.error_data().len(), 64);
        assert_eq!(&f.error_data()[..], &v[..64]);
    }
}
