//! `ofp_meter_mod` and `ofp_meter_band_*` (shared with the METER_CONFIG reply).
//!
//! Error choices: a band whose `len` is shorter than its header (12 bytes) or
//! than its type's fixed layout, or runs past the enclosing list, is a framing
//! error, `OFPBRC_BAD_LEN`; DROP and DSCP_REMARK bands must be exactly 16
//! bytes (anything else could not re-emit losslessly). A band type other than
//! DROP, DSCP_REMARK or EXPERIMENTER is `OFPMMFC_BAD_BAND`.

use crate::consts::{OFPMBT_DROP, OFPMBT_DSCP_REMARK, OFPMBT_EXPERIMENTER};
use crate::error::{WireError, OFPBRC_BAD_LEN, OFPMMFC_BAD_BAND};
use crate::wire::{fail, patch_len, put_zeros, take_exact, take_struct, PResult};
use bytes::{BufMut, Bytes, BytesMut};
use nom::number::complete::{be_u16, be_u32, be_u8};

/// Size of `ofp_meter_band_header`.
pub const OFP_METER_BAND_HEADER_LEN: usize = 12;
/// Size of `ofp_meter_band_drop` / `ofp_meter_band_dscp_remark`.
pub const OFP_METER_BAND_LEN: usize = 16;
/// Size of `ofp_meter_band_experimenter` without its data.
pub const OFP_METER_BAND_EXPERIMENTER_LEN: usize = 16;
/// Size of the fixed part of `ofp_meter_mod` after the OpenFlow header.
pub const OFP_METER_MOD_BODY_LEN: usize = 8;

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum MeterBand {
    Drop {
        rate: u32,
        burst_size: u32,
    },
    DscpRemark {
        rate: u32,
        burst_size: u32,
        prec_level: u8,
    },
    /// `data` is everything after the experimenter id.
    Experimenter {
        rate: u32,
        burst_size: u32,
        experimenter: u32,
        data: Bytes,
    },
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
    pub fn parse(i: &[u8]) -> PResult<'_, MeterBand> {
        let (_, h) = take_exact(i, 4, OFPBRC_BAD_LEN, "ofp_meter_band_header")?;
        let (h, ty) = be_u16(h)?;
        let (_, len) = be_u16(h)?;
        let len = usize::from(len);
        let (rest, b) = take_struct(
            i,
            len,
            OFP_METER_BAND_HEADER_LEN,
            OFPBRC_BAD_LEN,
            "ofp_meter_band",
        )?;
        // `b` holds at least the 12-byte header.
        let (b, rate) = be_u32(&b[4..])?;
        let (b, burst_size) = be_u32(b)?;
        let band = match ty {
            OFPMBT_DROP | OFPMBT_DSCP_REMARK => {
                if len != OFP_METER_BAND_LEN {
                    return Err(fail(
                        OFPBRC_BAD_LEN,
                        format!(
                            "meter band type {ty} has length {len}, must be {OFP_METER_BAND_LEN}"
                        ),
                    ));
                }
                if ty == OFPMBT_DROP {
                    MeterBand::Drop { rate, burst_size }
                } else {
                    let (_, prec_level) = be_u8(b)?;
                    MeterBand::DscpRemark {
                        rate,
                        burst_size,
                        prec_level,
                    }
                }
            }
            OFPMBT_EXPERIMENTER => {
                if len < OFP_METER_BAND_EXPERIMENTER_LEN {
                    return Err(fail(
                        OFPBRC_BAD_LEN,
                        format!(
                            "experimenter meter band length {len} is shorter than its fixed part ({OFP_METER_BAND_EXPERIMENTER_LEN})"
                        ),
                    ));
                }
                let (b, experimenter) = be_u32(b)?;
                MeterBand::Experimenter {
                    rate,
                    burst_size,
                    experimenter,
                    data: Bytes::copy_from_slice(b),
                }
            }
            _ => {
                return Err(fail(
                    OFPMMFC_BAD_BAND,
                    format!("unknown meter band type {ty}"),
                ))
            }
        };
        Ok((rest, band))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        let start = buf.len();
        let (ty, rate, burst_size) = match *self {
            MeterBand::Drop { rate, burst_size } => (OFPMBT_DROP, rate, burst_size),
            MeterBand::DscpRemark {
                rate, burst_size, ..
            } => (OFPMBT_DSCP_REMARK, rate, burst_size),
            MeterBand::Experimenter {
                rate, burst_size, ..
            } => (OFPMBT_EXPERIMENTER, rate, burst_size),
        };
        buf.put_u16(ty);
        buf.put_u16(0); // len, patched below
        buf.put_u32(rate);
        buf.put_u32(burst_size);
        match self {
            MeterBand::Drop { .. } => put_zeros(buf, 4),
            MeterBand::DscpRemark { prec_level, .. } => {
                buf.put_u8(*prec_level);
                put_zeros(buf, 3);
            }
            MeterBand::Experimenter {
                experimenter, data, ..
            } => {
                buf.put_u32(*experimenter);
                buf.put_slice(data);
            }
        }
        patch_len(buf, start + 2, start);
    }

    /// Bytes on the wire.
    pub fn wire_len(&self) -> usize {
        match self {
            MeterBand::Drop { .. } | MeterBand::DscpRemark { .. } => OFP_METER_BAND_LEN,
            MeterBand::Experimenter { data, .. } => OFP_METER_BAND_EXPERIMENTER_LEN + data.len(),
        }
    }

    /// The slice holds exactly a list of bands.
    pub fn parse_list(mut i: &[u8]) -> Result<Vec<MeterBand>, WireError> {
        let mut out = Vec::new();
        while !i.is_empty() {
            // Every successful parse consumes at least 12 bytes.
            let (rest, b) = MeterBand::parse(i)?;
            out.push(b);
            i = rest;
        }
        Ok(out)
    }

    pub fn emit_list(bands: &[MeterBand], buf: &mut BytesMut) {
        for b in bands {
            b.emit(buf);
        }
    }
}

impl MeterMod {
    /// `body` is the message after the 8-byte OpenFlow header.
    pub fn parse_body(body: &[u8]) -> Result<Self, WireError> {
        let (rest, (command, flags, meter_id)) = MeterMod::parse_fixed(body)?;
        let bands = MeterBand::parse_list(rest)?;
        Ok(MeterMod {
            command,
            flags,
            meter_id,
            bands,
        })
    }

    fn parse_fixed(i: &[u8]) -> PResult<'_, (u16, u16, u32)> {
        let (rest, f) = take_exact(i, OFP_METER_MOD_BODY_LEN, OFPBRC_BAD_LEN, "ofp_meter_mod")?;
        let (f, command) = be_u16(f)?;
        let (f, flags) = be_u16(f)?;
        let (_, meter_id) = be_u32(f)?;
        Ok((rest, (command, flags, meter_id)))
    }

    pub fn emit_body(&self, buf: &mut BytesMut) {
        buf.put_u16(self.command);
        buf.put_u16(self.flags);
        buf.put_u32(self.meter_id);
        MeterBand::emit_list(&self.bands, buf);
    }
}

#[cfg(test)]
pub(crate) mod arb {
    use super::{MeterBand, MeterMod};
    use bytes::Bytes;
    use proptest::prelude::*;

    pub fn band() -> impl Strategy<Value = MeterBand> {
        prop_oneof![
            (any::<u32>(), any::<u32>())
                .prop_map(|(rate, burst_size)| MeterBand::Drop { rate, burst_size }),
            (any::<u32>(), any::<u32>(), any::<u8>()).prop_map(|(rate, burst_size, prec_level)| {
                MeterBand::DscpRemark {
                    rate,
                    burst_size,
                    prec_level,
                }
            }),
            (
                any::<u32>(),
                any::<u32>(),
                any::<u32>(),
                proptest::collection::vec(any::<u8>(), 0..24)
            )
                .prop_map(|(rate, burst_size, experimenter, data)| {
                    MeterBand::Experimenter {
                        rate,
                        burst_size,
                        experimenter,
                        data: Bytes::from(data),
                    }
                }),
        ]
    }

    pub fn meter_mod() -> impl Strategy<Value = MeterMod> {
        (
            any::<u16>(),
            any::<u16>(),
            any::<u32>(),
            proptest::collection::vec(band(), 0..4),
        )
            .prop_map(|(command, flags, meter_id, bands)| MeterMod {
                command,
                flags,
                meter_id,
                bands,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// 4-45-ofp_meter_mod.packet without its header.
    #[rustfmt::skip]
    const METER_MOD: [u8; 56] = [
        0, 0, 0, 0x0e, 0, 0, 0, 0x64,
        0, 1, 0, 0x10, 0, 0, 0x03, 0xe8, 0, 0, 0, 0x0a, 0, 0, 0, 0,
        0, 2, 0, 0x10, 0, 0, 0x03, 0xe8, 0, 0, 0, 0x0a, 1, 0, 0, 0,
        0xff, 0xff, 0, 0x10, 0, 0, 0x03, 0xe8, 0, 0, 0, 0x0a, 0, 0, 0x03, 0xe7,
    ];

    fn meter_mod() -> MeterMod {
        MeterMod {
            command: crate::consts::OFPMC_ADD,
            flags: 0x0e,
            meter_id: 100,
            bands: vec![
                MeterBand::Drop {
                    rate: 1000,
                    burst_size: 10,
                },
                MeterBand::DscpRemark {
                    rate: 1000,
                    burst_size: 10,
                    prec_level: 1,
                },
                MeterBand::Experimenter {
                    rate: 1000,
                    burst_size: 10,
                    experimenter: 999,
                    data: Bytes::new(),
                },
            ],
        }
    }

    #[test]
    fn meter_mod_is_byte_exact_both_ways() {
        let mut buf = BytesMut::new();
        meter_mod().emit_body(&mut buf);
        assert_eq!(&buf[..], &METER_MOD[..]);
        assert_eq!(MeterMod::parse_body(&METER_MOD).unwrap(), meter_mod());
        let wire: usize = meter_mod().bands.iter().map(MeterBand::wire_len).sum();
        assert_eq!(wire + OFP_METER_MOD_BODY_LEN, METER_MOD.len());
    }

    #[test]
    fn experimenter_band_keeps_its_data() {
        let b = MeterBand::Experimenter {
            rate: 1,
            burst_size: 2,
            experimenter: 3,
            data: Bytes::from_static(&[1, 2, 3, 4, 5, 6, 7, 8]),
        };
        let mut buf = BytesMut::new();
        b.emit(&mut buf);
        assert_eq!(&buf[2..4], &[0, 24]);
        assert_eq!(MeterBand::parse(&buf).unwrap(), (&[][..], b));
    }

    #[test]
    fn every_truncation_is_bad_len() {
        for n in 0..METER_MOD.len() {
            if n == OFP_METER_MOD_BODY_LEN || n == 24 || n == 40 {
                continue; // cuts between bands leave a valid message
            }
            let e = MeterMod::parse_body(&METER_MOD[..n]).unwrap_err();
            assert_eq!(e.code, OFPBRC_BAD_LEN, "prefix {n}: {e}");
        }
    }

    #[test]
    fn wrong_band_lengths_are_bad_len() {
        // DROP with len 24 (padded with 8 more bytes): not a legal drop band.
        let mut v = METER_MOD[..24].to_vec();
        v[11] = 24;
        v.extend_from_slice(&[0; 8]);
        assert_eq!(MeterMod::parse_body(&v).unwrap_err().code, OFPBRC_BAD_LEN);
        // Experimenter band shorter than 16.
        let mut v = METER_MOD[..8].to_vec();
        v.extend_from_slice(&[0xff, 0xff, 0, 12, 0, 0, 0, 1, 0, 0, 0, 1]);
        assert_eq!(MeterMod::parse_body(&v).unwrap_err().code, OFPBRC_BAD_LEN);
        // len below the band header.
        for len in [0u8, 4, 11] {
            let mut v = METER_MOD;
            v[11] = len;
            assert_eq!(MeterMod::parse_body(&v).unwrap_err().code, OFPBRC_BAD_LEN);
        }
    }

    #[test]
    fn unknown_band_type_is_bad_band() {
        let mut v = METER_MOD;
        v[9] = 3;
        assert_eq!(MeterMod::parse_body(&v).unwrap_err().code, OFPMMFC_BAD_BAND);
    }

    #[test]
    fn band_list_never_panics_on_noise() {
        let mut rng = crate::message::tests_util::Rng(42);
        for _ in 0..5000 {
            let mut v = rng.bytes(48);
            // Make the first band's header plausible so parsing goes deeper.
            if v.len() >= 4 {
                v[0] = 0;
                v[1] = (v[1] % 3) + 1;
                v[2] = 0;
                v[3] %= 64;
            }
            let _ = MeterBand::parse_list(&v);
            let _ = MeterMod::parse_body(&v);
        }
    }

    proptest! {
        #[test]
        fn meter_mod_round_trips(m in arb::meter_mod()) {
            let mut buf = BytesMut::new();
            m.emit_body(&mut buf);
            prop_assert_eq!(MeterMod::parse_body(&buf).unwrap(), m);
        }
    }
}
