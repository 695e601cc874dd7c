//! Reading whole OpenFlow frames from any `AsyncRead`, cancel-safely, and the
//! HELLO rules both ends of a connection share.

use bytes::{Bytes, BytesMut};
use ofproto::codec::{OfpCodec, OfpFrame};
use ofproto::consts::OFPT_HELLO;
use ofproto::message::{ErrorMsg, Hello};
use ofproto::{Header, Message, OFP_VERSION};
use std::io;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_util::codec::Decoder;

/// Reads [`OfpFrame`]s. [`FrameReader::next`] is cancel safe (its only await
/// is `read_buf`), so it can sit in `select!` or under a timeout.
pub(crate) struct FrameReader<R> {
    rd: R,
    buf: BytesMut,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub(crate) fn new(rd: R) -> Self {
        FrameReader {
            rd,
            buf: BytesMut::with_capacity(16 * 1024),
        }
    }

    /// The next frame; `Ok(None)` on a clean end of stream. A header length
    /// below 8 (the stream can't be framed any more) or EOF inside a message
    /// is an error.
    pub(crate) async fn next(&mut self) -> io::Result<Option<OfpFrame>> {
        loop {
            if let Some(f) = OfpCodec.decode(&mut self.buf)? {
                return Ok(Some(f));
            }
            if self.buf.capacity() - self.buf.len() < 4096 {
                self.buf.reserve(16 * 1024);
            }
            if self.rd.read_buf(&mut self.buf).await? == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "connection closed inside a message ({} bytes buffered)",
                            self.buf.len()
                        ),
                    ))
                };
            }
        }
    }
}

/// Appends `msg` with `xid` to `buf`, or leaves `buf` as it was and returns
/// the length if the message does not fit the header's 16-bit length.
///
/// Not `Message::encode`/`OfpCodec`'s encoder: `Message::encode` has a
/// `debug_assert!` on the size, so in debug builds the codec's size error is
/// never reached — a too-big message from the bridge would panic the
/// connection task instead of being dropped with a warning.
pub(crate) fn encode_checked(xid: u32, msg: &Message, buf: &mut BytesMut) -> Result<(), usize> {
    let start = buf.len();
    Header {
        version: OFP_VERSION,
        msg_type: msg.msg_type(),
        length: 0,
        xid,
    }
    .emit(buf);
    msg.emit_body(buf);
    let len = buf.len() - start;
    match u16::try_from(len) {
        Ok(l) => {
            buf[start + 2..start + 4].copy_from_slice(&l.to_be_bytes());
            Ok(())
        }
        Err(_) => {
            buf.truncate(start);
            Err(len)
        }
    }
}

/// Our HELLO: version 0x04 header plus a version bitmap with only bit 4.
pub(crate) fn our_hello() -> Message {
    Message::Hello(Hello::with_versions(&[OFP_VERSION]))
}

/// "OpenFlow 1.3" for wire version 4, "version 0x07" for unknown ones.
pub(crate) fn version_name(v: u8) -> String {
    match v {
        1..=6 => format!("OpenFlow 1.{}", v - 1),
        _ => format!("version 0x{v:02x}"),
    }
}

fn version_list(vs: &[u8]) -> String {
    if vs.is_empty() {
        return "no versions".into();
    }
    vs.iter()
        .map(|&v| version_name(v))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks the peer's first message against OpenFlow 1.3.
///
/// Accepted: a HELLO whose version bitmap has bit 4, or a HELLO without a
/// bitmap whose header version is 4 or more (then both sides use
/// min(ours, theirs) = 4). Anything else is `Err(reason)`: a short English
/// sentence, sent as the ASCII data of `OFPHFC_INCOMPATIBLE`.
pub(crate) fn negotiate(first: &OfpFrame) -> Result<(), String> {
    if first.header.msg_type != OFPT_HELLO {
        return Err(format!(
            "Expected OFPT_HELLO as the first message, got {} (type {}).",
            ofproto::consts::msg_type_name(first.header.msg_type).unwrap_or("an unknown message"),
            first.header.msg_type
        ));
    }
    let hello = match Message::decode_with_header(&first.raw) {
        Ok((_, Message::Hello(h))) => h,
        Ok(_) => unreachable!("type checked above"),
        Err(e) => return Err(format!("Malformed OFPT_HELLO: {e}.")),
    };
    match hello.versions() {
        Some(vs) if vs.contains(&OFP_VERSION) => Ok(()),
        Some(vs) => Err(format!(
            "We support OpenFlow 1.3, you support {}; no common versions.",
            version_list(&vs)
        )),
        None if first.header.version >= OFP_VERSION => Ok(()),
        None => Err(format!(
            "We support OpenFlow 1.3, you support {} (HELLO without version bitmap); no common versions.",
            version_name(first.header.version)
        )),
    }
}

/// The `OFPET_HELLO_FAILED`/`OFPHFC_INCOMPATIBLE` error for a failed
/// negotiation, encoded in the peer's version when that is older than ours
/// (the OFPT_ERROR layout and these codes are the same since OpenFlow 1.0,
/// so an old peer can read why it was refused).
pub(crate) fn hello_failed(first: &OfpFrame, reason: &str) -> Bytes {
    let msg = Message::Error(ErrorMsg::Standard {
        code: ofproto::error::OFPHFC_INCOMPATIBLE,
        data: Bytes::copy_from_slice(reason.as_bytes()),
    });
    let mut v = msg.encode_to_vec(first.xid());
    v[0] = first.header.version.clamp(1, OFP_VERSION);
    Bytes::from(v)
}
