//! `OFPMP_METER_FEATURES` reply: `ofp_meter_features`.

use super::skip;
use crate::error::OFPBRC_BAD_LEN;
use crate::wire::{take_exact, PResult};
use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u32, be_u8};

/// `sizeof(struct ofp_meter_features)`.
pub const OFP_METER_FEATURES_LEN: usize = 16;

/// `ofp_meter_features`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct MeterFeatures {
    pub max_meter: u32,
    /// Bitmap of `1 << OFPMBT_*`.
    pub band_types: u32,
    /// `OFPMF_*` bitmap.
    pub capabilities: u32,
    pub max_bands: u8,
    pub max_color: u8,
}

impl MeterFeatures {
    pub fn parse(i: &[u8]) -> PResult<'_, MeterFeatures> {
        let (rest, b) = take_exact(i, OFP_METER_FEATURES_LEN, OFPBRC_BAD_LEN, "meter features")?;
        let (b, max_meter) = be_u32(b)?;
        let (b, band_types) = be_u32(b)?;
        let (b, capabilities) = be_u32(b)?;
        let (b, max_bands) = be_u8(b)?;
        let (b, max_color) = be_u8(b)?;
        skip(b, 2)?;
        Ok((
            rest,
            MeterFeatures {
                max_meter,
                band_types,
                capabilities,
                max_bands,
                max_color,
            },
        ))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        buf.put_u32(self.max_meter);
        buf.put_u32(self.band_types);
        buf.put_u32(self.capabilities);
        buf.put_u8(self.max_bands);
        buf.put_u8(self.max_color);
        buf.put_bytes(0, 2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meter_features_round_trips() {
        let m = MeterFeatures {
            max_meter: 16777216,
            band_types: 0x8000_0006,
            capabilities: 15,
            max_bands: 255,
            max_color: 0,
        };
        let mut buf = BytesMut::new();
        m.emit(&mut buf);
        assert_eq!(buf.len(), OFP_METER_FEATURES_LEN);
        assert_eq!(MeterFeatures::parse(&buf).unwrap(), (&[][..], m));
    }
}
