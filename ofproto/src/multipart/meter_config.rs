//! `OFPMP_METER_CONFIG`: the request is `ofp_meter_multipart_request`; the
//! reply is a list of `ofp_meter_config`.

use super::take_entry;
use crate::meter::MeterBand;
use crate::wire::{patch_len, PResult};
use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u16, be_u32};

/// METER_CONFIG requests share the METER request's body.
pub type MeterConfigRequest = super::MeterStatsRequest;

/// `sizeof(struct ofp_meter_config)` without bands.
pub const OFP_METER_CONFIG_LEN: usize = 8;

/// `ofp_meter_config`.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct MeterConfig {
    /// `OFPMF_*`, raw.
    pub flags: u16,
    pub meter_id: u32,
    pub bands: Vec<MeterBand>,
}

impl MeterConfig {
    pub fn parse(i: &[u8]) -> PResult<'_, MeterConfig> {
        let (rest, entry) = take_entry(
            i,
            OFP_METER_CONFIG_LEN,
            0,
            OFP_METER_CONFIG_LEN,
            "meter config",
        )?;
        let (b, _length) = be_u16(entry)?;
        let (b, flags) = be_u16(b)?;
        let (b, meter_id) = be_u32(b)?;
        let bands = MeterBand::parse_list(b).map_err(nom::Err::Failure)?;
        Ok((
            rest,
            MeterConfig {
                flags,
                meter_id,
                bands,
            },
        ))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        let start = buf.len();
        buf.put_u16(0); // length, patched below
        buf.put_u16(self.flags);
        buf.put_u32(self.meter_id);
        for b in &self.bands {
            b.emit(buf);
        }
        patch_len(buf, start, start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consts::{OFPMF_KBPS, OFPMF_STATS};
    use crate::error::{WireError, OFPBRC_BAD_LEN};

    #[test]
    fn meter_config_round_trips_with_bands() {
        let m = MeterConfig {
            flags: OFPMF_KBPS | OFPMF_STATS,
            meter_id: 100,
            bands: vec![
                MeterBand::Drop {
                    rate: 1000,
                    burst_size: 10,
                },
                MeterBand::DscpRemark {
                    rate: 2000,
                    burst_size: 20,
                    prec_level: 1,
                },
            ],
        };
        let mut buf = BytesMut::new();
        m.emit(&mut buf);
        assert_eq!(u16::from_be_bytes([buf[0], buf[1]]) as usize, buf.len());
        assert_eq!(MeterConfig::parse(&buf).unwrap(), (&[][..], m));
    }

    #[test]
    fn meter_config_without_bands_round_trips() {
        let m = MeterConfig {
            flags: 0,
            meter_id: 1,
            bands: vec![],
        };
        let mut buf = BytesMut::new();
        m.emit(&mut buf);
        assert_eq!(&buf[..], &[0, 8, 0, 0, 0, 0, 0, 1]);
        assert_eq!(MeterConfig::parse(&buf).unwrap(), (&[][..], m));
    }

    #[test]
    fn meter_config_short_length_is_bad_len() {
        let e = MeterConfig::parse(&[0, 4, 0, 0, 0, 0, 0, 1]).unwrap_err();
        assert_eq!(WireError::from(e).code, OFPBRC_BAD_LEN);
    }
}
