//! MULTIPART_REQUEST / MULTIPART_REPLY of every type.

use crate::error::WireError;
use bytes::BytesMut;

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct MultipartRequest {
    pub flags: u16,
    pub body: MultipartRequestBody,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum MultipartRequestBody {
    Desc,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct MultipartReply {
    pub flags: u16,
    pub body: MultipartReplyBody,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum MultipartReplyBody {
    PortDesc(Vec<crate::port::PortDesc>),
}

impl MultipartRequest {
    /// `body` is the message after the 8-byte OpenFlow header.
    pub fn parse_body(_body: &[u8]) -> Result<Self, WireError> {
        todo!()
    }
    pub fn emit_body(&self, _buf: &mut BytesMut) {
        todo!()
    }
}

impl MultipartReply {
    pub fn parse_body(_body: &[u8]) -> Result<Self, WireError> {
        todo!()
    }
    pub fn emit_body(&self, _buf: &mut BytesMut) {
        todo!()
    }
}
