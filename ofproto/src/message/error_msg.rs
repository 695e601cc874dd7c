//! `OFPT_ERROR`: `type u16, code u16, data`; for `type = OFPET_EXPERIMENTER`
//! (0xffff): `type u16, exp_type u16, experimenter u32, data`.

use crate::error::{ErrorCode, WireError, OFPBRC_BAD_LEN, OFPET_EXPERIMENTER};
use bytes::{BufMut, Bytes, BytesMut};

/// Size of the fixed part of `ofp_error_msg` after the OpenFlow header.
pub const OFP_ERROR_MSG_BODY_LEN: usize = 4;
/// Size of the fixed part of `ofp_error_experimenter_msg` after the header.
pub const OFP_ERROR_EXPERIMENTER_MSG_BODY_LEN: usize = 8;
/// How much of an offending request an error reply carries back (spec: at least 64 bytes).
pub const OFP_ERROR_DATA_LEN: usize = 64;

/// `OFPT_ERROR`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum ErrorMsg {
    Standard {
        code: crate::error::ErrorCode,
        data: Bytes,
    },
    /// `OFPET_EXPERIMENTER` (type 0xffff).
    Experimenter {
        exp_type: u16,
        experimenter: u32,
        data: Bytes,
    },
}

impl ErrorMsg {
    /// `body` is the message after the 8-byte OpenFlow header.
    pub fn parse_body(body: &[u8]) -> Result<Self, WireError> {
        if body.len() < OFP_ERROR_MSG_BODY_LEN {
            return Err(WireError::truncated(
                OFPBRC_BAD_LEN,
                "ofp_error_msg",
                OFP_ERROR_MSG_BODY_LEN,
                body.len(),
            ));
        }
        let ty = u16::from_be_bytes([body[0], body[1]]);
        let code = u16::from_be_bytes([body[2], body[3]]);
        if ty == OFPET_EXPERIMENTER {
            if body.len() < OFP_ERROR_EXPERIMENTER_MSG_BODY_LEN {
                return Err(WireError::truncated(
                    OFPBRC_BAD_LEN,
                    "ofp_error_experimenter_msg",
                    OFP_ERROR_EXPERIMENTER_MSG_BODY_LEN,
                    body.len(),
                ));
            }
            return Ok(ErrorMsg::Experimenter {
                exp_type: code,
                experimenter: u32::from_be_bytes([body[4], body[5], body[6], body[7]]),
                data: Bytes::copy_from_slice(&body[OFP_ERROR_EXPERIMENTER_MSG_BODY_LEN..]),
            });
        }
        Ok(ErrorMsg::Standard {
            code: ErrorCode::new(ty, code),
            data: Bytes::copy_from_slice(&body[OFP_ERROR_MSG_BODY_LEN..]),
        })
    }

    /// Note: a `Standard` error whose `code.ty` is 0xffff is written as is and
    /// reads back as `Experimenter`; build experimenter errors with that variant.
    pub fn emit_body(&self, buf: &mut BytesMut) {
        match self {
            ErrorMsg::Standard { code, data } => {
                buf.put_u16(code.ty);
                buf.put_u16(code.code);
                buf.put_slice(data);
            }
            ErrorMsg::Experimenter {
                exp_type,
                experimenter,
                data,
            } => {
                buf.put_u16(OFPET_EXPERIMENTER);
                buf.put_u16(*exp_type);
                buf.put_u32(*experimenter);
                buf.put_slice(data);
            }
        }
    }

    /// The error a switch sends back for `err`, carrying the first 64 bytes
    /// of the offending message (`request`, header included) as the spec asks.
    pub fn for_request(err: &WireError, request: &[u8]) -> ErrorMsg {
        ErrorMsg::Standard {
            code: err.code,
            data: Bytes::copy_from_slice(&request[..request.len().min(OFP_ERROR_DATA_LEN)]),
        }
    }

    /// The data field (for standard errors usually the start of the offending message).
    pub fn data(&self) -> &Bytes {
        match self {
            ErrorMsg::Standard { data, .. } | ErrorMsg::Experimenter { data, .. } => data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::OFPBAC_BAD_OUT_GROUP;

    #[test]
    fn standard_error_is_byte_exact() {
        let e = ErrorMsg::Standard {
            code: OFPBAC_BAD_OUT_GROUP,
            data: Bytes::from_static(b"fugafuga"),
        };
        let mut buf = BytesMut::new();
        e.emit_body(&mut buf);
        assert_eq!(&buf[..], b"\x00\x02\x00\x09fugafuga");
        assert_eq!(ErrorMsg::parse_body(&buf).unwrap(), e);
    }

    #[test]
    fn experimenter_error_is_byte_exact() {
        let e = ErrorMsg::Experimenter {
            exp_type: 60000,
            experimenter: 999999,
            data: Bytes::from_static(b"jikken data"),
        };
        let mut buf = BytesMut::new();
        e.emit_body(&mut buf);
        assert_eq!(&buf[..], b"\xff\xff\xea\x60\x00\x0f\x42\x3fjikken data");
        assert_eq!(ErrorMsg::parse_body(&buf).unwrap(), e);
    }

    #[test]
    fn short_errors_are_bad_len() {
        for v in [&[][..], &[0, 1, 0], &[0xff, 0xff, 0, 1, 0, 0, 0]] {
            assert_eq!(ErrorMsg::parse_body(v).unwrap_err().code, OFPBRC_BAD_LEN);
        }
        // Exactly the fixed part, no data.
        assert!(ErrorMsg::parse_body(&[0, 1, 0, 6])
            .unwrap()
            .data()
            .is_empty());
    }

    #[test]
    fn for_request_keeps_64_bytes() {
        let req = [7u8; 100];
        let e = ErrorMsg::for_request(&WireError::new(OFPBRC_BAD_LEN, "x"), &req);
        assert_eq!(e.data().len(), 64);
        let e = ErrorMsg::for_request(&WireError::new(OFPBRC_BAD_LEN, "x"), &req[..10]);
        assert_eq!(e.data().len(), 10);
    }
}
