//! `ofp_meter_mod` and `ofp_meter_band_*` (shared with the METER_CONFIG reply).

use bytes::Bytes;

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum MeterBand {
    Drop { rate: u32, burst_size: u32 },
    DscpRemark { rate: u32, burst_size: u32, prec_level: u8 },
    /// `data` is everything after the experimenter id.
    Experimenter { rate: u32, burst_size: u32, experimenter: u32, data: Bytes },
}

#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct MeterMod {
    pub command: u16,
    pub flags: u16,
    pub meter_id: u32,
    pub bands: Vec<MeterBand>,
}

impl MeterBand {
    /// One `ofp_meter_band_*` (its `len` field frames it).
    pub fn parse(_i: &[u8]) -> crate::wire::PResult<'_, MeterBand> {
        todo!()
    }
    pub fn emit(&self, _buf: &mut bytes::BytesMut) {
        todo!()
    }
    /// The slice holds exactly a list of bands.
    pub fn parse_list(_i: &[u8]) -> Result<Vec<MeterBand>, crate::error::WireError> {
        todo!()
    }
}
