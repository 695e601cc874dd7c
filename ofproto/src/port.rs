//! `ofp_port`: a port's description (PORT_STATUS, PORT_DESC reply).

use crate::wire::MacAddr;

pub const OFP_PORT_LEN: usize = 64;

#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct PortDesc {
    pub port_no: u32,
    pub hw_addr: MacAddr,
    /// Interface name (at most 15 bytes on the wire, NUL-padded to 16).
    pub name: String,
    pub config: u32,
    pub state: u32,
    pub curr: u32,
    pub advertised: u32,
    pub supported: u32,
    pub peer: u32,
    pub curr_speed: u32,
    pub max_speed: u32,
}

impl PortDesc {
    pub fn parse(_i: &[u8]) -> crate::wire::PResult<'_, PortDesc> {
        todo!()
    }
    pub fn emit(&self, _buf: &mut bytes::BytesMut) {
        todo!()
    }
}
