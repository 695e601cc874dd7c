//! `OFPMP_TABLE_FEATURES` (both directions): `ofp_table_features` and its
//! properties (`ofp_table_feature_prop_*`).
//!
//! Every property is `type u16, length u16` (length excludes the trailing
//! padding), a body, then zero padding to a multiple of 8. Id lists keep
//! exactly what was on the wire so a decoded reply re-encodes byte for byte:
//! instruction and action ids keep the bytes after their 4-byte header (empty
//! for standard ids, the experimenter id for experimenter ones), OXM ids keep
//! the raw 32-bit header (plus the experimenter id for class 0xffff).
//! Unknown property types are kept raw.

use super::{parse_list, skip, take_entry};
use crate::action::OFPAT_EXPERIMENTER;
use crate::consts::OFP_MAX_TABLE_NAME_LEN;
use crate::error::{WireError, OFPTFFC_BAD_LEN};
use crate::instruction::OFPIT_EXPERIMENTER;
use crate::oxm::OFPXMC_EXPERIMENTER;
use crate::wire::{cstr, fail, pad8, patch_len, put_cstr, put_zeros, take_exact, PResult};
use bytes::{BufMut, Bytes, BytesMut};
use nom::number::complete::{be_u16, be_u32, be_u64, be_u8};

// ofp_table_feature_prop_type
pub const OFPTFPT_INSTRUCTIONS: u16 = 0;
pub const OFPTFPT_INSTRUCTIONS_MISS: u16 = 1;
pub const OFPTFPT_NEXT_TABLES: u16 = 2;
pub const OFPTFPT_NEXT_TABLES_MISS: u16 = 3;
pub const OFPTFPT_WRITE_ACTIONS: u16 = 4;
pub const OFPTFPT_WRITE_ACTIONS_MISS: u16 = 5;
pub const OFPTFPT_APPLY_ACTIONS: u16 = 6;
pub const OFPTFPT_APPLY_ACTIONS_MISS: u16 = 7;
pub const OFPTFPT_MATCH: u16 = 8;
pub const OFPTFPT_WILDCARDS: u16 = 10;
pub const OFPTFPT_WRITE_SETFIELD: u16 = 12;
pub const OFPTFPT_WRITE_SETFIELD_MISS: u16 = 13;
pub const OFPTFPT_APPLY_SETFIELD: u16 = 14;
pub const OFPTFPT_APPLY_SETFIELD_MISS: u16 = 15;
pub const OFPTFPT_EXPERIMENTER: u16 = 0xfffe;
pub const OFPTFPT_EXPERIMENTER_MISS: u16 = 0xffff;

/// `sizeof(struct ofp_table_features)` without properties.
pub const OFP_TABLE_FEATURES_LEN: usize = 64;
/// Size of a property's `type` + `length` header.
pub const OFP_TABLE_FEATURE_PROP_HEADER_LEN: usize = 4;

/// Spec name of a table-feature property type, e.g. `OFPTFPT_MATCH`.
pub fn table_feature_prop_name(ty: u16) -> Option<&'static str> {
    Some(match ty {
        OFPTFPT_INSTRUCTIONS => "OFPTFPT_INSTRUCTIONS",
        OFPTFPT_INSTRUCTIONS_MISS => "OFPTFPT_INSTRUCTIONS_MISS",
        OFPTFPT_NEXT_TABLES => "OFPTFPT_NEXT_TABLES",
        OFPTFPT_NEXT_TABLES_MISS => "OFPTFPT_NEXT_TABLES_MISS",
        OFPTFPT_WRITE_ACTIONS => "OFPTFPT_WRITE_ACTIONS",
        OFPTFPT_WRITE_ACTIONS_MISS => "OFPTFPT_WRITE_ACTIONS_MISS",
        OFPTFPT_APPLY_ACTIONS => "OFPTFPT_APPLY_ACTIONS",
        OFPTFPT_APPLY_ACTIONS_MISS => "OFPTFPT_APPLY_ACTIONS_MISS",
        OFPTFPT_MATCH => "OFPTFPT_MATCH",
        OFPTFPT_WILDCARDS => "OFPTFPT_WILDCARDS",
        OFPTFPT_WRITE_SETFIELD => "OFPTFPT_WRITE_SETFIELD",
        OFPTFPT_WRITE_SETFIELD_MISS => "OFPTFPT_WRITE_SETFIELD_MISS",
        OFPTFPT_APPLY_SETFIELD => "OFPTFPT_APPLY_SETFIELD",
        OFPTFPT_APPLY_SETFIELD_MISS => "OFPTFPT_APPLY_SETFIELD_MISS",
        OFPTFPT_EXPERIMENTER => "OFPTFPT_EXPERIMENTER",
        OFPTFPT_EXPERIMENTER_MISS => "OFPTFPT_EXPERIMENTER_MISS",
        _ => return None,
    })
}

/// Shared framing of instruction and action ids: `type u16, len u16`, then
/// `len - 4` bytes (the experimenter id for experimenter ids).
fn parse_tl_id<'a>(i: &'a [u8], what: &'static str) -> PResult<'a, (u16, Bytes)> {
    let (_, hdr) = take_exact(i, 4, OFPTFFC_BAD_LEN, what)?;
    let ty = u16::from_be_bytes([hdr[0], hdr[1]]);
    let len = u16::from_be_bytes([hdr[2], hdr[3]]) as usize;
    if len < 4 {
        return Err(fail(
            OFPTFFC_BAD_LEN,
            format!("{what} length {len} is shorter than its 4-byte header"),
        ));
    }
    let (rest, whole) = take_exact(i, len, OFPTFFC_BAD_LEN, what)?;
    Ok((rest, (ty, Bytes::copy_from_slice(&whole[4..]))))
}

fn emit_tl_id(buf: &mut BytesMut, ty: u16, data: &[u8]) {
    buf.put_u16(ty);
    buf.put_u16((4 + data.len()) as u16);
    buf.put_slice(data);
}

/// An instruction id in `OFPTFPT_INSTRUCTIONS[_MISS]` (an `ofp_instruction`
/// header, or `ofp_instruction_experimenter` for experimenter ids).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct InstructionId {
    /// `OFPIT_*`.
    pub ty: u16,
    /// The bytes after the 4-byte header: empty for standard instructions,
    /// the experimenter id (and anything after it) for `OFPIT_EXPERIMENTER`.
    pub data: Bytes,
}

impl InstructionId {
    /// A standard (4-byte) id.
    pub fn new(ty: u16) -> Self {
        InstructionId {
            ty,
            data: Bytes::new(),
        }
    }

    /// An 8-byte `OFPIT_EXPERIMENTER` id.
    pub fn experimenter(experimenter: u32) -> Self {
        InstructionId {
            ty: OFPIT_EXPERIMENTER,
            data: Bytes::copy_from_slice(&experimenter.to_be_bytes()),
        }
    }

    pub fn wire_len(&self) -> usize {
        4 + self.data.len()
    }

    pub fn parse(i: &[u8]) -> PResult<'_, InstructionId> {
        let (rest, (ty, data)) = parse_tl_id(i, "instruction id")?;
        Ok((rest, InstructionId { ty, data }))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        emit_tl_id(buf, self.ty, &self.data);
    }
}

/// An action id in `OFPTFPT_{WRITE,APPLY}_ACTIONS[_MISS]` (4 bytes: type and
/// len; experimenter ids are 8: type, len, experimenter).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct ActionId {
    /// `OFPAT_*`.
    pub ty: u16,
    /// The bytes after the 4-byte header: empty for standard actions, the
    /// experimenter id (and anything after it) for `OFPAT_EXPERIMENTER`.
    pub data: Bytes,
}

impl ActionId {
    /// A standard (4-byte) id.
    pub fn new(ty: u16) -> Self {
        ActionId {
            ty,
            data: Bytes::new(),
        }
    }

    /// An 8-byte `OFPAT_EXPERIMENTER` id.
    pub fn experimenter(experimenter: u32) -> Self {
        ActionId {
            ty: OFPAT_EXPERIMENTER,
            data: Bytes::copy_from_slice(&experimenter.to_be_bytes()),
        }
    }

    pub fn wire_len(&self) -> usize {
        4 + self.data.len()
    }

    pub fn parse(i: &[u8]) -> PResult<'_, ActionId> {
        let (rest, (ty, data)) = parse_tl_id(i, "action id")?;
        Ok((rest, ActionId { ty, data }))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        emit_tl_id(buf, self.ty, &self.data);
    }
}

/// An OXM id in `OFPTFPT_MATCH`, `_WILDCARDS` and the `*_SETFIELD*`
/// properties: a 32-bit OXM header, followed by the experimenter id when the
/// class is `OFPXMC_EXPERIMENTER` (0xffff).
///
/// The header is kept raw: switches disagree about `oxm_hasmask` and
/// `oxm_length` here (OF1.3.3 says the length is the payload length), and the
/// exact value must survive a round trip. `experimenter` is `Some` exactly
/// when the class is 0xffff for anything this parser produces; `emit` writes
/// what the value holds.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct OxmId {
    pub header: u32,
    pub experimenter: Option<u32>,
}

impl OxmId {
    /// A non-experimenter id from its parts.
    pub fn new(class: u16, field: u8, hasmask: bool, length: u8) -> Self {
        OxmId {
            header: (class as u32) << 16
                | ((field as u32) & 0x7f) << 9
                | (hasmask as u32) << 8
                | length as u32,
            experimenter: None,
        }
    }

    /// An experimenter-class id (8 bytes on the wire).
    pub fn new_experimenter(field: u8, hasmask: bool, length: u8, experimenter: u32) -> Self {
        OxmId {
            experimenter: Some(experimenter),
            ..OxmId::new(OFPXMC_EXPERIMENTER, field, hasmask, length)
        }
    }

    pub fn class(&self) -> u16 {
        (self.header >> 16) as u16
    }

    pub fn field(&self) -> u8 {
        ((self.header >> 9) & 0x7f) as u8
    }

    pub fn hasmask(&self) -> bool {
        self.header & 0x100 != 0
    }

    pub fn length(&self) -> u8 {
        self.header as u8
    }

    pub fn wire_len(&self) -> usize {
        if self.experimenter.is_some() {
            8
        } else {
            4
        }
    }

    pub fn parse(i: &[u8]) -> PResult<'_, OxmId> {
        let (i, b) = take_exact(i, 4, OFPTFFC_BAD_LEN, "OXM id")?;
        let header = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        if (header >> 16) as u16 == OFPXMC_EXPERIMENTER {
            let (i, e) = take_exact(i, 4, OFPTFFC_BAD_LEN, "experimenter OXM id")?;
            let experimenter = u32::from_be_bytes([e[0], e[1], e[2], e[3]]);
            Ok((
                i,
                OxmId {
                    header,
                    experimenter: Some(experimenter),
                },
            ))
        } else {
            Ok((
                i,
                OxmId {
                    header,
                    experimenter: None,
                },
            ))
        }
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        buf.put_u32(self.header);
        if let Some(e) = self.experimenter {
            buf.put_u32(e);
        }
    }
}

/// Body of `OFPTFPT_EXPERIMENTER[_MISS]`.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct ExperimenterProp {
    pub experimenter: u32,
    pub exp_type: u32,
    /// Everything after `exp_type` up to the property's length (padding
    /// excluded).
    pub data: Bytes,
}

/// One table-feature property.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum TableFeatureProp {
    Instructions(Vec<InstructionId>),
    InstructionsMiss(Vec<InstructionId>),
    NextTables(Vec<u8>),
    NextTablesMiss(Vec<u8>),
    WriteActions(Vec<ActionId>),
    WriteActionsMiss(Vec<ActionId>),
    ApplyActions(Vec<ActionId>),
    ApplyActionsMiss(Vec<ActionId>),
    Match(Vec<OxmId>),
    Wildcards(Vec<OxmId>),
    WriteSetfield(Vec<OxmId>),
    WriteSetfieldMiss(Vec<OxmId>),
    ApplySetfield(Vec<OxmId>),
    ApplySetfieldMiss(Vec<OxmId>),
    Experimenter(ExperimenterProp),
    ExperimenterMiss(ExperimenterProp),
    /// A property type this crate does not know: `data` is the body after the
    /// 4-byte header, padding excluded. (`ty` should not be a known type;
    /// if it is, it re-parses as that type.)
    Unknown {
        ty: u16,
        data: Bytes,
    },
}

fn parse_oxm_ids(b: &[u8]) -> Result<Vec<OxmId>, WireError> {
    parse_list(b, "OXM id", OxmId::parse)
}

fn parse_experimenter_prop(b: &[u8]) -> Result<ExperimenterProp, WireError> {
    let (data, hdr) = take_exact(b, 8, OFPTFFC_BAD_LEN, "experimenter table feature property")?;
    let (hdr, experimenter) = be_u32(hdr)?;
    let (_, exp_type) = be_u32(hdr)?;
    Ok(ExperimenterProp {
        experimenter,
        exp_type,
        data: Bytes::copy_from_slice(data),
    })
}

impl TableFeatureProp {
    /// The `OFPTFPT_*` type.
    pub fn prop_type(&self) -> u16 {
        use TableFeatureProp as P;
        match self {
            P::Instructions(_) => OFPTFPT_INSTRUCTIONS,
            P::InstructionsMiss(_) => OFPTFPT_INSTRUCTIONS_MISS,
            P::NextTables(_) => OFPTFPT_NEXT_TABLES,
            P::NextTablesMiss(_) => OFPTFPT_NEXT_TABLES_MISS,
            P::WriteActions(_) => OFPTFPT_WRITE_ACTIONS,
            P::WriteActionsMiss(_) => OFPTFPT_WRITE_ACTIONS_MISS,
            P::ApplyActions(_) => OFPTFPT_APPLY_ACTIONS,
            P::ApplyActionsMiss(_) => OFPTFPT_APPLY_ACTIONS_MISS,
            P::Match(_) => OFPTFPT_MATCH,
            P::Wildcards(_) => OFPTFPT_WILDCARDS,
            P::WriteSetfield(_) => OFPTFPT_WRITE_SETFIELD,
            P::WriteSetfieldMiss(_) => OFPTFPT_WRITE_SETFIELD_MISS,
            P::ApplySetfield(_) => OFPTFPT_APPLY_SETFIELD,
            P::ApplySetfieldMiss(_) => OFPTFPT_APPLY_SETFIELD_MISS,
            P::Experimenter(_) => OFPTFPT_EXPERIMENTER,
            P::ExperimenterMiss(_) => OFPTFPT_EXPERIMENTER_MISS,
            P::Unknown { ty, .. } => *ty,
        }
    }

    /// One property including its trailing padding. Framing errors are
    /// `OFPTFFC_BAD_LEN`.
    pub fn parse(i: &[u8]) -> PResult<'_, TableFeatureProp> {
        use TableFeatureProp as P;
        let (_, hdr) = take_exact(
            i,
            OFP_TABLE_FEATURE_PROP_HEADER_LEN,
            OFPTFFC_BAD_LEN,
            "table feature property header",
        )?;
        let ty = u16::from_be_bytes([hdr[0], hdr[1]]);
        let len = u16::from_be_bytes([hdr[2], hdr[3]]) as usize;
        if len < OFP_TABLE_FEATURE_PROP_HEADER_LEN {
            return Err(fail(
                OFPTFFC_BAD_LEN,
                format!("table feature property {ty:#x} length {len} is shorter than its header"),
            ));
        }
        let (rest, whole) = take_exact(
            i,
            len + pad8(len),
            OFPTFFC_BAD_LEN,
            "table feature property",
        )?;
        let b = &whole[OFP_TABLE_FEATURE_PROP_HEADER_LEN..len];
        let f = nom::Err::Failure;
        let prop = match ty {
            OFPTFPT_INSTRUCTIONS | OFPTFPT_INSTRUCTIONS_MISS => {
                let ids = parse_list(b, "instruction id", InstructionId::parse).map_err(f)?;
                if ty == OFPTFPT_INSTRUCTIONS {
                    P::Instructions(ids)
                } else {
                    P::InstructionsMiss(ids)
                }
            }
            OFPTFPT_NEXT_TABLES => P::NextTables(b.to_vec()),
            OFPTFPT_NEXT_TABLES_MISS => P::NextTablesMiss(b.to_vec()),
            OFPTFPT_WRITE_ACTIONS..=OFPTFPT_APPLY_ACTIONS_MISS => {
                let ids = parse_list(b, "action id", ActionId::parse).map_err(f)?;
                match ty {
                    OFPTFPT_WRITE_ACTIONS => P::WriteActions(ids),
                    OFPTFPT_WRITE_ACTIONS_MISS => P::WriteActionsMiss(ids),
                    OFPTFPT_APPLY_ACTIONS => P::ApplyActions(ids),
                    _ => P::ApplyActionsMiss(ids),
                }
            }
            OFPTFPT_MATCH => P::Match(parse_oxm_ids(b).map_err(f)?),
            OFPTFPT_WILDCARDS => P::Wildcards(parse_oxm_ids(b).map_err(f)?),
            OFPTFPT_WRITE_SETFIELD => P::WriteSetfield(parse_oxm_ids(b).map_err(f)?),
            OFPTFPT_WRITE_SETFIELD_MISS => P::WriteSetfieldMiss(parse_oxm_ids(b).map_err(f)?),
            OFPTFPT_APPLY_SETFIELD => P::ApplySetfield(parse_oxm_ids(b).map_err(f)?),
            OFPTFPT_APPLY_SETFIELD_MISS => P::ApplySetfieldMiss(parse_oxm_ids(b).map_err(f)?),
            OFPTFPT_EXPERIMENTER => P::Experimenter(parse_experimenter_prop(b).map_err(f)?),
            OFPTFPT_EXPERIMENTER_MISS => {
                P::ExperimenterMiss(parse_experimenter_prop(b).map_err(f)?)
            }
            _ => P::Unknown {
                ty,
                data: Bytes::copy_from_slice(b),
            },
        };
        Ok((rest, prop))
    }

    /// Emits the property and its padding.
    pub fn emit(&self, buf: &mut BytesMut) {
        use TableFeatureProp as P;
        let start = buf.len();
        buf.put_u16(self.prop_type());
        buf.put_u16(0); // length, patched below
        match self {
            P::Instructions(ids) | P::InstructionsMiss(ids) => ids.iter().for_each(|x| x.emit(buf)),
            P::NextTables(t) | P::NextTablesMiss(t) => buf.put_slice(t),
            P::WriteActions(ids)
            | P::WriteActionsMiss(ids)
            | P::ApplyActions(ids)
            | P::ApplyActionsMiss(ids) => ids.iter().for_each(|x| x.emit(buf)),
            P::Match(ids)
            | P::Wildcards(ids)
            | P::WriteSetfield(ids)
            | P::WriteSetfieldMiss(ids)
            | P::ApplySetfield(ids)
            | P::ApplySetfieldMiss(ids) => ids.iter().for_each(|x| x.emit(buf)),
            P::Experimenter(e) | P::ExperimenterMiss(e) => {
                buf.put_u32(e.experimenter);
                buf.put_u32(e.exp_type);
                buf.put_slice(&e.data);
            }
            P::Unknown { data, .. } => buf.put_slice(data),
        }
        patch_len(buf, start + 2, start);
        let len = buf.len() - start;
        put_zeros(buf, pad8(len));
    }
}

/// `ofp_table_features`: one table's capabilities.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct TableFeatures {
    pub table_id: u8,
    /// At most 31 bytes on the wire (NUL-padded to 32).
    pub name: String,
    pub metadata_match: u64,
    pub metadata_write: u64,
    /// `OFPTC_*` bits, raw.
    pub config: u32,
    pub max_entries: u32,
    pub properties: Vec<TableFeatureProp>,
}

impl TableFeatures {
    pub fn parse(i: &[u8]) -> PResult<'_, TableFeatures> {
        let (rest, entry) = take_entry(
            i,
            OFP_TABLE_FEATURES_LEN,
            0,
            OFP_TABLE_FEATURES_LEN,
            "table features",
        )?;
        let (b, _length) = be_u16(entry)?;
        let (b, table_id) = be_u8(b)?;
        let (b, _) = skip(b, 5)?;
        let (b, name) = take_exact(b, OFP_MAX_TABLE_NAME_LEN, OFPTFFC_BAD_LEN, "table name")?;
        let (b, metadata_match) = be_u64(b)?;
        let (b, metadata_write) = be_u64(b)?;
        let (b, config) = be_u32(b)?;
        let (b, max_entries) = be_u32(b)?;
        let properties = parse_list(b, "table feature property", TableFeatureProp::parse)
            .map_err(nom::Err::Failure)?;
        Ok((
            rest,
            TableFeatures {
                table_id,
                name: cstr(name),
                metadata_match,
                metadata_write,
                config,
                max_entries,
                properties,
            },
        ))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        let start = buf.len();
        buf.put_u16(0); // length, patched below
        buf.put_u8(self.table_id);
        buf.put_bytes(0, 5);
        put_cstr(buf, &self.name, OFP_MAX_TABLE_NAME_LEN);
        buf.put_u64(self.metadata_match);
        buf.put_u64(self.metadata_write);
        buf.put_u32(self.config);
        buf.put_u32(self.max_entries);
        for p in &self.properties {
            p.emit(buf);
        }
        patch_len(buf, start, start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::OFPBRC_BAD_LEN;
    use crate::oxm::OFPXMC_OPENFLOW_BASIC;

    fn round_trip_prop(p: &TableFeatureProp) -> BytesMut {
        let mut buf = BytesMut::new();
        p.emit(&mut buf);
        assert_eq!(buf.len() % 8, 0, "{p:?} not padded");
        let (rest, back) = TableFeatureProp::parse(&buf).unwrap();
        assert!(rest.is_empty());
        assert_eq!(&back, p);
        buf
    }

    fn exp(n: u32) -> ExperimenterProp {
        ExperimenterProp {
            experimenter: 101,
            exp_type: n,
            data: Bytes::from((0..n).flat_map(|x| x.to_be_bytes()).collect::<Vec<u8>>()),
        }
    }

    fn every_prop() -> Vec<TableFeatureProp> {
        use TableFeatureProp as P;
        let ins = vec![
            InstructionId::new(1),
            InstructionId::new(6),
            InstructionId::experimenter(0x2320),
        ];
        let acts = vec![
            ActionId::new(0),
            ActionId::new(25),
            ActionId::experimenter(0x4f4e4600),
        ];
        let oxms = vec![
            OxmId::new(OFPXMC_OPENFLOW_BASIC, 0, false, 4),
            OxmId::new(OFPXMC_OPENFLOW_BASIC, 3, true, 12),
            OxmId::new_experimenter(7, false, 8, 0x4f4e4600),
            OxmId::new(1, 2, false, 4),
        ];
        vec![
            P::Instructions(ins.clone()),
            P::InstructionsMiss(ins),
            P::NextTables(vec![1, 2, 3]),
            P::NextTablesMiss(vec![]),
            P::WriteActions(acts.clone()),
            P::WriteActionsMiss(acts.clone()),
            P::ApplyActions(acts.clone()),
            P::ApplyActionsMiss(acts),
            P::Match(oxms.clone()),
            P::Wildcards(oxms.clone()),
            P::WriteSetfield(oxms.clone()),
            P::WriteSetfieldMiss(oxms.clone()),
            P::ApplySetfield(oxms.clone()),
            P::ApplySetfieldMiss(oxms),
            P::Experimenter(exp(0)),
            P::ExperimenterMiss(exp(3)),
            P::Unknown {
                ty: 9,
                data: Bytes::from_static(&[1, 2, 3, 4, 5]),
            },
        ]
    }

    #[test]
    fn every_property_type_round_trips_with_its_type_code() {
        for p in every_prop() {
            let buf = round_trip_prop(&p);
            assert_eq!(u16::from_be_bytes([buf[0], buf[1]]), p.prop_type());
        }
        let types: Vec<u16> = every_prop().iter().map(|p| p.prop_type()).collect();
        for t in [
            0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 13, 14, 15, 0xfffe, 0xffff,
        ] {
            assert!(types.contains(&t), "type {t} not covered");
            assert!(table_feature_prop_name(t).is_some());
        }
    }

    #[test]
    fn property_length_excludes_padding() {
        let p = TableFeatureProp::NextTables(vec![1, 2, 3]);
        let buf = round_trip_prop(&p);
        assert_eq!(&buf[..], &[0, 2, 0, 7, 1, 2, 3, 0]);
        let p = TableFeatureProp::Instructions(vec![InstructionId::new(1)]);
        assert_eq!(&round_trip_prop(&p)[..], &[0, 0, 0, 8, 0, 1, 0, 4]);
    }

    #[test]
    fn ids_keep_their_exact_bytes() {
        let p =
            TableFeatureProp::ApplyActions(vec![ActionId::experimenter(0x2320), ActionId::new(0)]);
        let buf = round_trip_prop(&p);
        assert_eq!(
            &buf[..16],
            &[0, 6, 0, 16, 0xff, 0xff, 0, 8, 0, 0, 0x23, 0x20, 0, 0, 0, 4]
        );
        let id = OxmId::new(OFPXMC_OPENFLOW_BASIC, 6, true, 4);
        assert_eq!(
            (id.class(), id.field(), id.hasmask(), id.length()),
            (0x8000, 6, true, 4)
        );
        assert_eq!(id.header, 0x8000_0d04);
    }

    #[test]
    fn unknown_property_is_kept_raw() {
        let raw = [0x12, 0x34, 0, 6, 0xaa, 0xbb, 0, 0];
        let (rest, p) = TableFeatureProp::parse(&raw).unwrap();
        assert!(rest.is_empty());
        assert_eq!(
            p,
            TableFeatureProp::Unknown {
                ty: 0x1234,
                data: Bytes::from_static(&[0xaa, 0xbb])
            }
        );
        let mut buf = BytesMut::new();
        p.emit(&mut buf);
        assert_eq!(&buf[..], &raw);
    }

    fn prop_err(b: &[u8]) -> WireError {
        WireError::from(TableFeatureProp::parse(b).unwrap_err())
    }

    #[test]
    fn property_framing_errors_are_tffc_bad_len() {
        // length < 4
        assert_eq!(prop_err(&[0, 2, 0, 3, 0, 0, 0, 0]).code, OFPTFFC_BAD_LEN);
        // length past input
        assert_eq!(prop_err(&[0, 2, 0, 12, 1, 2, 3, 4]).code, OFPTFFC_BAD_LEN);
        // padding missing
        assert_eq!(prop_err(&[0, 2, 0, 5, 1]).code, OFPTFFC_BAD_LEN);
        // header cut
        assert_eq!(prop_err(&[0, 2]).code, OFPTFFC_BAD_LEN);
        // instruction id with len < 4 (would otherwise never advance)
        assert_eq!(prop_err(&[0, 0, 0, 8, 0, 1, 0, 0]).code, OFPTFFC_BAD_LEN);
        // instruction id running past the property
        assert_eq!(prop_err(&[0, 0, 0, 8, 0, 1, 0, 8]).code, OFPTFFC_BAD_LEN);
        // half an instruction id
        assert_eq!(prop_err(&[0, 0, 0, 6, 0, 1, 0, 0]).code, OFPTFFC_BAD_LEN);
        // experimenter OXM id without its experimenter
        assert_eq!(
            prop_err(&[0, 8, 0, 8, 0xff, 0xff, 0, 4]).code,
            OFPTFFC_BAD_LEN
        );
        // OXM id list not a multiple of 4
        assert_eq!(prop_err(&[0, 8, 0, 6, 0x80, 0, 0, 0]).code, OFPTFFC_BAD_LEN);
        // experimenter property shorter than experimenter + exp_type
        assert_eq!(
            prop_err(&[0xff, 0xfe, 0, 8, 0, 0, 0, 1]).code,
            OFPTFFC_BAD_LEN
        );
    }

    fn sample_features() -> TableFeatures {
        TableFeatures {
            table_id: 0,
            name: "私のテーブル".into(),
            metadata_match: u64::MAX,
            metadata_write: u64::MAX,
            config: 0,
            max_entries: 16777216,
            properties: every_prop(),
        }
    }

    #[test]
    fn table_features_round_trip_with_every_property() {
        let t = sample_features();
        let mut buf = BytesMut::new();
        t.emit(&mut buf);
        assert_eq!(u16::from_be_bytes([buf[0], buf[1]]) as usize, buf.len());
        assert_eq!(buf.len() % 8, 0);
        let (rest, back) = TableFeatures::parse(&buf).unwrap();
        assert!(rest.is_empty());
        assert_eq!(back, t);
    }

    #[test]
    fn table_features_entry_framing_errors_are_brc_bad_len() {
        let mut buf = BytesMut::new();
        TableFeatures::default().emit(&mut buf);
        assert_eq!(buf.len(), OFP_TABLE_FEATURES_LEN);
        let e = WireError::from(TableFeatures::parse(&buf[..63]).unwrap_err());
        assert_eq!(e.code, OFPBRC_BAD_LEN);
        buf[1] = 56;
        let e = WireError::from(TableFeatures::parse(&buf).unwrap_err());
        assert_eq!(e.code, OFPBRC_BAD_LEN);
        buf[1] = 72;
        let e = WireError::from(TableFeatures::parse(&buf).unwrap_err());
        assert_eq!(e.code, OFPBRC_BAD_LEN);
    }
}
