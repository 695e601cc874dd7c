//! `ofp_instruction_*`: every OF1.3 instruction. Experimenter instructions are
//! kept as opaque bytes.
//!
//! Every instruction starts with `type: u16, len: u16`; `len` counts the whole
//! instruction and, like actions, is at least 8 and a multiple of 8. Framing
//! is checked first, then the type, then the per-type length. The action
//! lists inside WRITE_ACTIONS / APPLY_ACTIONS are parsed by
//! [`Action::parse_list`], and their failures keep their `OFPBAC_*` codes:
//! the spec reports a bad action as a bad action, wherever it sits.

use crate::action::Action;
use crate::error::{WireError, OFPBIC_BAD_LEN, OFPBIC_UNKNOWN_INST, OFPBIC_UNSUP_INST};
use crate::wire::{fail, pad8, patch_len, put_zeros, take_exact, take_struct, PResult};
use bytes::{BufMut, Bytes, BytesMut};
use nom::number::complete::{be_u32, be_u64, u8 as be_u8};

// ofp_instruction_type
pub const OFPIT_GOTO_TABLE: u16 = 1;
pub const OFPIT_WRITE_METADATA: u16 = 2;
pub const OFPIT_WRITE_ACTIONS: u16 = 3;
pub const OFPIT_APPLY_ACTIONS: u16 = 4;
pub const OFPIT_CLEAR_ACTIONS: u16 = 5;
pub const OFPIT_METER: u16 = 6;
pub const OFPIT_EXPERIMENTER: u16 = 0xffff;

// Structure sizes (`sizeof(struct ofp_instruction_*)`), named as in the spec.
/// `ofp_instruction_goto_table`: table_id u8, pad 3.
pub const OFP_INSTRUCTION_GOTO_TABLE_SIZE: usize = 8;
/// `ofp_instruction_write_metadata`: pad 4, metadata u64, metadata_mask u64.
pub const OFP_INSTRUCTION_WRITE_METADATA_SIZE: usize = 24;
/// `ofp_instruction_actions` before its actions: type, len, pad 4. Also what
/// CLEAR_ACTIONS uses, with no actions.
pub const OFP_INSTRUCTION_ACTIONS_SIZE: usize = 8;
/// `ofp_instruction_meter`: meter_id u32.
pub const OFP_INSTRUCTION_METER_SIZE: usize = 8;
/// `ofp_instruction_experimenter`: experimenter u32, then its own data.
pub const OFP_INSTRUCTION_EXPERIMENTER_SIZE: usize = 8;

/// Bytes of `type` + `len`: where an instruction's own fields start.
const TL_LEN: usize = 4;
/// No instruction is shorter than this (every structure above is >= 8).
const MIN_INSTRUCTION_LEN: usize = 8;

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Instruction {
    GotoTable(u8),
    WriteMetadata {
        metadata: u64,
        mask: u64,
    },
    WriteActions(Vec<Action>),
    ApplyActions(Vec<Action>),
    ClearActions,
    Meter(u32),
    /// `data` is everything after the experimenter id.
    Experimenter {
        experimenter: u32,
        data: Bytes,
    },
}

/// Spec name of an instruction type (`OFPIT_GOTO_TABLE`, ...); `None` for
/// types OF1.3 does not define.
pub fn instruction_type_name(ty: u16) -> Option<&'static str> {
    Some(match ty {
        OFPIT_GOTO_TABLE => "OFPIT_GOTO_TABLE",
        OFPIT_WRITE_METADATA => "OFPIT_WRITE_METADATA",
        OFPIT_WRITE_ACTIONS => "OFPIT_WRITE_ACTIONS",
        OFPIT_APPLY_ACTIONS => "OFPIT_APPLY_ACTIONS",
        OFPIT_CLEAR_ACTIONS => "OFPIT_CLEAR_ACTIONS",
        OFPIT_METER => "OFPIT_METER",
        OFPIT_EXPERIMENTER => "OFPIT_EXPERIMENTER",
        _ => return None,
    })
}

/// A name for error messages, also for types the spec does not define.
fn type_label(ty: u16) -> std::borrow::Cow<'static, str> {
    match instruction_type_name(ty) {
        Some(n) => n.into(),
        None => format!("instruction type {ty}").into(),
    }
}

/// The exact `len` of each fixed-size instruction type; `None` for the
/// action-carrying and experimenter types (variable) and for unknown types.
/// Any other `len` is refused, so no bytes hide behind the fields we know
/// (and re-emission is exact).
fn fixed_len(ty: u16) -> Option<usize> {
    Some(match ty {
        OFPIT_GOTO_TABLE => OFP_INSTRUCTION_GOTO_TABLE_SIZE,
        OFPIT_WRITE_METADATA => OFP_INSTRUCTION_WRITE_METADATA_SIZE,
        OFPIT_CLEAR_ACTIONS => OFP_INSTRUCTION_ACTIONS_SIZE,
        OFPIT_METER => OFP_INSTRUCTION_METER_SIZE,
        _ => return None,
    })
}

impl Instruction {
    /// Parses one instruction from the front of `i` and returns the bytes after it.
    pub fn parse(i: &[u8]) -> PResult<'_, Instruction> {
        let (_, tl) = take_exact(i, TL_LEN, OFPBIC_BAD_LEN, "instruction header")?;
        let ty = u16::from_be_bytes([tl[0], tl[1]]);
        let len = usize::from(u16::from_be_bytes([tl[2], tl[3]]));
        // Framing first: with a bad `len` the next instruction cannot be found.
        if len % 8 != 0 {
            return Err(fail(
                OFPBIC_BAD_LEN,
                format!("{} length {len} is not a multiple of 8", type_label(ty)),
            ));
        }
        let (rest, whole) =
            take_struct(i, len, MIN_INSTRUCTION_LEN, OFPBIC_BAD_LEN, "instruction")?;
        let body = &whole[TL_LEN..];

        // Then the exact length of fixed-size types (unknown types have none
        // and fall through to OFPBIC_UNKNOWN_INST below).
        if let Some(want) = fixed_len(ty) {
            if len != want {
                return Err(fail(
                    OFPBIC_BAD_LEN,
                    format!("{} has length {len}, must be {want}", type_label(ty)),
                ));
            }
        }

        // From here on `body` has the size the type's layout needs, so the
        // field readers below cannot run short.
        let inst = match ty {
            OFPIT_GOTO_TABLE => {
                let (_, table_id) = be_u8(body)?;
                Instruction::GotoTable(table_id)
            }
            OFPIT_WRITE_METADATA => {
                let (b, _pad) = take_exact(body, 4, OFPBIC_BAD_LEN, "write_metadata padding")?;
                let (b, metadata) = be_u64(b)?;
                let (_, mask) = be_u64(b)?;
                Instruction::WriteMetadata { metadata, mask }
            }
            OFPIT_WRITE_ACTIONS | OFPIT_APPLY_ACTIONS => {
                // The list runs from after the padding to the end of `len`;
                // an action error is reported as such (OFPBAC_*), not re-coded.
                let actions = Action::parse_list(&whole[OFP_INSTRUCTION_ACTIONS_SIZE..])
                    .map_err(nom::Err::Failure)?;
                if ty == OFPIT_WRITE_ACTIONS {
                    Instruction::WriteActions(actions)
                } else {
                    Instruction::ApplyActions(actions)
                }
            }
            OFPIT_CLEAR_ACTIONS => Instruction::ClearActions,
            OFPIT_METER => {
                let (_, meter_id) = be_u32(body)?;
                Instruction::Meter(meter_id)
            }
            OFPIT_EXPERIMENTER => {
                // `len` >= 8 guarantees the id; the rest is the experimenter's.
                let (data, experimenter) = be_u32(body)?;
                Instruction::Experimenter {
                    experimenter,
                    data: Bytes::copy_from_slice(data),
                }
            }
            _ => {
                return Err(fail(
                    OFPBIC_UNKNOWN_INST,
                    format!("unknown instruction type {ty} (length {len})"),
                ))
            }
        };
        Ok((rest, inst))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        // The length is patched in at the end rather than computed first,
        // which would walk every action (and its OXM) twice. It is a u16 on
        // the wire; only an in-memory action list or experimenter blob could
        // overflow it, and that is a caller bug.
        let start = buf.len();
        buf.put_u16(self.instruction_type());
        buf.put_u16(0);
        match self {
            Instruction::GotoTable(table_id) => {
                buf.put_u8(*table_id);
                put_zeros(buf, 3);
            }
            Instruction::WriteMetadata { metadata, mask } => {
                put_zeros(buf, 4);
                buf.put_u64(*metadata);
                buf.put_u64(*mask);
            }
            Instruction::WriteActions(actions) | Instruction::ApplyActions(actions) => {
                put_zeros(buf, 4);
                Action::emit_list(actions, buf);
            }
            Instruction::ClearActions => put_zeros(buf, 4),
            Instruction::Meter(meter_id) => buf.put_u32(*meter_id),
            Instruction::Experimenter { experimenter, data } => {
                buf.put_u32(*experimenter);
                buf.put_slice(data);
                // Parsed values already end on an 8-byte boundary; one built
                // in memory may not, and `len` must.
                put_zeros(buf, pad8(OFP_INSTRUCTION_EXPERIMENTER_SIZE + data.len()));
            }
        }
        patch_len(buf, start + 2, start);
    }

    /// Bytes on the wire, padding included (always a multiple of 8).
    pub fn wire_len(&self) -> usize {
        match self {
            Instruction::WriteActions(actions) | Instruction::ApplyActions(actions) => {
                OFP_INSTRUCTION_ACTIONS_SIZE + Action::list_wire_len(actions)
            }
            Instruction::Experimenter { data, .. } => {
                let n = OFP_INSTRUCTION_EXPERIMENTER_SIZE + data.len();
                n + pad8(n)
            }
            // The rest are one fixed-size structure each.
            _ => fixed_len(self.instruction_type()).unwrap_or(MIN_INSTRUCTION_LEN),
        }
    }

    /// The `OFPIT_*` value this instruction has on the wire.
    pub fn instruction_type(&self) -> u16 {
        match self {
            Instruction::GotoTable(_) => OFPIT_GOTO_TABLE,
            Instruction::WriteMetadata { .. } => OFPIT_WRITE_METADATA,
            Instruction::WriteActions(_) => OFPIT_WRITE_ACTIONS,
            Instruction::ApplyActions(_) => OFPIT_APPLY_ACTIONS,
            Instruction::ClearActions => OFPIT_CLEAR_ACTIONS,
            Instruction::Meter(_) => OFPIT_METER,
            Instruction::Experimenter { .. } => OFPIT_EXPERIMENTER,
        }
    }

    /// Parses a whole instruction list (the slice holds exactly the list).
    pub fn parse_list(i: &[u8]) -> Result<Vec<Instruction>, WireError> {
        // Every instruction is at least 8 bytes: the input (not a length
        // field) bounds the capacity, and one allocation serves the list.
        let mut out = Vec::with_capacity(i.len() / 8);
        let mut i = i;
        // Each successful parse consumes at least MIN_INSTRUCTION_LEN bytes,
        // so this terminates; a partial trailing instruction fails in `parse`.
        while !i.is_empty() {
            let (rest, x) = Instruction::parse(i)?;
            i = rest;
            out.push(x);
        }
        Ok(out)
    }

    pub fn emit_list(list: &[Instruction], buf: &mut BytesMut) {
        for x in list {
            x.emit(buf);
        }
    }

    /// Bytes on the wire of a whole list.
    pub fn list_wire_len(list: &[Instruction]) -> usize {
        list.iter().map(Instruction::wire_len).sum()
    }

    /// Checks what OF1.3.5 forbids in a flow's instruction list beyond the
    /// wire format: "the instruction set associated with a flow entry can
    /// contain a maximum of one instruction of each type" (§5.9).
    ///
    /// OF1.3 has no code for a duplicate (OF1.4 added `OFPBIC_DUP_INST`), so
    /// we answer `OFPBIC_UNSUP_INST`, the closest 1.3 code and what Open
    /// vSwitch sends an OF1.3 controller in that case. Experimenter
    /// instructions count as one type, whatever their experimenter id.
    pub fn check(list: &[Instruction]) -> Result<(), WireError> {
        for (n, x) in list.iter().enumerate() {
            let ty = x.instruction_type();
            if list[..n].iter().any(|y| y.instruction_type() == ty) {
                return Err(WireError::new(
                    OFPBIC_UNSUP_INST,
                    format!("duplicate {} instruction", type_label(ty)),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod arb {
    //! proptest strategies producing well-formed instructions.

    use super::*;
    use crate::action::arb::{action_list, experimenter_data};
    use proptest::prelude::*;

    pub fn instruction() -> impl Strategy<Value = Instruction> {
        prop_oneof![
            any::<u8>().prop_map(Instruction::GotoTable),
            (any::<u64>(), any::<u64>())
                .prop_map(|(metadata, mask)| Instruction::WriteMetadata { metadata, mask }),
            action_list().prop_map(Instruction::WriteActions),
            action_list().prop_map(Instruction::ApplyActions),
            Just(Instruction::ClearActions),
            any::<u32>().prop_map(Instruction::Meter),
            (any::<u32>(), experimenter_data())
                .prop_map(|(experimenter, data)| Instruction::Experimenter { experimenter, data }),
        ]
    }

    /// Any list, duplicates allowed (the wire format permits them).
    pub fn instruction_list() -> impl Strategy<Value = Vec<Instruction>> {
        proptest::collection::vec(instruction(), 0..6)
    }

    /// A list that [`Instruction::check`] accepts: at most one of each type.
    pub fn instruction_set() -> impl Strategy<Value = Vec<Instruction>> {
        instruction_list().prop_map(|list| {
            let mut seen = Vec::new();
            list.into_iter()
                .filter(|x| {
                    let ty = x.instruction_type();
                    let new = !seen.contains(&ty);
                    seen.push(ty);
                    new
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::arb::{every_action, Rng};
    use crate::action::{OFPAT_EXPERIMENTER, OFPAT_SET_FIELD};
    use crate::error::{ErrorCode, OFPBAC_BAD_LEN, OFPBAC_BAD_SET_LEN, OFPBAC_BAD_TYPE};
    use crate::oxm::OxmField;
    use crate::wire::MacAddr;
    use proptest::prelude::*;
    use serde_json::Value;
    use std::path::PathBuf;

    fn emit(x: &Instruction) -> Vec<u8> {
        let mut b = BytesMut::new();
        x.emit(&mut b);
        b.to_vec()
    }

    fn emit_list(list: &[Instruction]) -> Vec<u8> {
        let mut b = BytesMut::new();
        Instruction::emit_list(list, &mut b);
        b.to_vec()
    }

    /// `x` emits exactly `wire`, `wire` parses back to `x`, and `wire_len` agrees.
    fn round_trip(x: Instruction, wire: &[u8]) {
        assert_eq!(emit(&x), wire, "emit {x:?}");
        assert_eq!(x.wire_len(), wire.len(), "wire_len {x:?}");
        let (rest, back) = Instruction::parse(wire).unwrap();
        assert!(rest.is_empty());
        assert_eq!(back, x, "parse {wire:02x?}");
        let mut two = wire.to_vec();
        two.extend_from_slice(&[0, 5, 0, 8, 0, 0, 0, 0]);
        assert_eq!(
            Instruction::parse_list(&two).unwrap(),
            vec![x, Instruction::ClearActions]
        );
    }

    fn code_of(bytes: &[u8]) -> ErrorCode {
        Instruction::parse_list(bytes).unwrap_err().code
    }

    #[test]
    fn goto_table_round_trips() {
        round_trip(Instruction::GotoTable(7), &[0, 1, 0, 8, 7, 0, 0, 0]);
    }

    #[test]
    fn write_metadata_round_trips() {
        round_trip(
            Instruction::WriteMetadata {
                metadata: 0x0102_0304_0506_0708,
                mask: 0xff00_0000_0000_00ff,
            },
            &[
                0, 2, 0, 24, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0xff, 0, 0, 0, 0, 0, 0, 0xff,
            ],
        );
    }

    #[test]
    fn write_and_apply_actions_round_trip() {
        round_trip(Instruction::WriteActions(vec![]), &[0, 3, 0, 8, 0, 0, 0, 0]);
        round_trip(
            Instruction::ApplyActions(vec![
                Action::PopVlan,
                Action::Output {
                    port: 2,
                    max_len: 0xffff,
                },
            ]),
            &[
                0, 4, 0, 32, 0, 0, 0, 0, //
                0, 18, 0, 8, 0, 0, 0, 0, //
                0, 0, 0, 16, 0, 0, 0, 2, 0xff, 0xff, 0, 0, 0, 0, 0, 0,
            ],
        );
        round_trip(
            Instruction::WriteActions(vec![Action::Group(9)]),
            &[0, 3, 0, 16, 0, 0, 0, 0, 0, 22, 0, 8, 0, 0, 0, 9],
        );
    }

    #[test]
    fn clear_actions_round_trips() {
        round_trip(Instruction::ClearActions, &[0, 5, 0, 8, 0, 0, 0, 0]);
    }

    #[test]
    fn meter_round_trips() {
        round_trip(
            Instruction::Meter(0xffff_0000),
            &[0, 6, 0, 8, 0xff, 0xff, 0, 0],
        );
    }

    #[test]
    fn experimenter_round_trips_raw() {
        round_trip(
            Instruction::Experimenter {
                experimenter: 0x4f4e_4600,
                data: Bytes::new(),
            },
            &[0xff, 0xff, 0, 8, 0x4f, 0x4e, 0x46, 0],
        );
        round_trip(
            Instruction::Experimenter {
                experimenter: 0x2320,
                data: Bytes::from_static(&[1, 2, 3, 4, 5, 6, 7, 8]),
            },
            &[0xff, 0xff, 0, 16, 0, 0, 0x23, 0x20, 1, 2, 3, 4, 5, 6, 7, 8],
        );
    }

    #[test]
    fn experimenter_built_in_memory_is_padded_to_8() {
        let x = Instruction::Experimenter {
            experimenter: 1,
            data: Bytes::from_static(&[9]),
        };
        assert_eq!(x.wire_len(), 16);
        assert_eq!(
            emit(&x),
            [0xff, 0xff, 0, 16, 0, 0, 0, 1, 9, 0, 0, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn type_names_and_numbers_agree() {
        assert_eq!(
            instruction_type_name(OFPIT_GOTO_TABLE),
            Some("OFPIT_GOTO_TABLE")
        );
        assert_eq!(instruction_type_name(OFPIT_METER), Some("OFPIT_METER"));
        assert_eq!(
            instruction_type_name(OFPIT_EXPERIMENTER),
            Some("OFPIT_EXPERIMENTER")
        );
        assert_eq!(instruction_type_name(0), None);
        assert_eq!(instruction_type_name(7), None);
        assert_eq!(
            Instruction::ClearActions.instruction_type(),
            OFPIT_CLEAR_ACTIONS
        );
        assert_eq!(
            Instruction::ApplyActions(vec![]).instruction_type(),
            OFPIT_APPLY_ACTIONS
        );
    }

    // ---- OFPBIC_BAD_LEN ----

    #[test]
    fn len_below_8_is_bad_len() {
        assert_eq!(code_of(&[0, 5, 0, 0, 0, 0, 0, 0]), OFPBIC_BAD_LEN);
        assert_eq!(code_of(&[0, 5, 0, 4, 0, 0, 0, 0]), OFPBIC_BAD_LEN);
    }

    #[test]
    fn len_not_multiple_of_8_is_bad_len() {
        let e = Instruction::parse_list(&[0, 6, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0]).unwrap_err();
        assert_eq!(e.code, OFPBIC_BAD_LEN);
        assert!(e.reason.contains("multiple of 8"), "{}", e.reason);
    }

    #[test]
    fn len_past_input_is_bad_len() {
        assert_eq!(code_of(&[0, 4, 0, 16, 0, 0, 0, 0]), OFPBIC_BAD_LEN);
        assert_eq!(code_of(&[0, 4]), OFPBIC_BAD_LEN);
    }

    #[test]
    fn wrong_fixed_length_is_bad_len() {
        for (ty, len) in [(1u16, 16usize), (2, 16), (2, 32), (5, 16), (6, 16)] {
            let mut w = vec![0u8; len];
            w[..2].copy_from_slice(&ty.to_be_bytes());
            w[3] = len as u8;
            let e = Instruction::parse_list(&w).unwrap_err();
            assert_eq!(e.code, OFPBIC_BAD_LEN, "type {ty} len {len}");
            assert!(
                e.reason.contains(instruction_type_name(ty).unwrap()),
                "{}",
                e.reason
            );
        }
    }

    // ---- OFPBIC_UNKNOWN_INST ----

    #[test]
    fn unknown_type_is_unknown_inst() {
        assert_eq!(code_of(&[0, 0, 0, 8, 0, 0, 0, 0]), OFPBIC_UNKNOWN_INST);
        assert_eq!(code_of(&[0, 7, 0, 8, 0, 0, 0, 0]), OFPBIC_UNKNOWN_INST);
        assert_eq!(
            code_of(&[0, 1, 0, 8, 0, 0, 0, 0, 0xff, 0xfe, 0, 8, 0, 0, 0, 0]),
            OFPBIC_UNKNOWN_INST
        );
    }

    // ---- action errors keep their codes ----

    #[test]
    fn action_errors_inside_keep_their_codes() {
        // apply_actions holding an unknown action type.
        assert_eq!(
            code_of(&[0, 4, 0, 16, 0, 0, 0, 0, 0, 2, 0, 8, 0, 0, 0, 0]),
            OFPBAC_BAD_TYPE
        );
        // write_actions holding an action whose len runs past the instruction
        // (though not past the input).
        assert_eq!(
            code_of(&[0, 3, 0, 16, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
            OFPBAC_BAD_LEN
        );
        // set_field with a len that does not fit its OXM.
        assert_eq!(
            code_of(&[
                0, 4, 0, 32, 0, 0, 0, 0, //
                0, 25, 0, 24, 0x80, 0, 0x1c, 2, 0, 80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ]),
            OFPBAC_BAD_SET_LEN
        );
    }

    // ---- check ----

    #[test]
    fn check_accepts_one_of_each_type() {
        let all = vec![
            Instruction::Meter(1),
            Instruction::ApplyActions(vec![Action::PopVlan]),
            Instruction::ClearActions,
            Instruction::WriteActions(vec![Action::Output {
                port: 1,
                max_len: 0,
            }]),
            Instruction::WriteMetadata {
                metadata: 1,
                mask: 1,
            },
            Instruction::GotoTable(2),
            Instruction::Experimenter {
                experimenter: 1,
                data: Bytes::new(),
            },
        ];
        assert_eq!(Instruction::check(&all), Ok(()));
        assert_eq!(Instruction::check(&[]), Ok(()));
    }

    #[test]
    fn check_rejects_a_duplicate_type_as_unsup_inst() {
        let dup = [
            Instruction::ApplyActions(vec![]),
            Instruction::GotoTable(1),
            Instruction::ApplyActions(vec![Action::PopVlan]),
        ];
        let e = Instruction::check(&dup).unwrap_err();
        assert_eq!(e.code, OFPBIC_UNSUP_INST);
        assert!(e.reason.contains("OFPIT_APPLY_ACTIONS"), "{}", e.reason);
        let exp = [
            Instruction::Experimenter {
                experimenter: 1,
                data: Bytes::new(),
            },
            Instruction::Experimenter {
                experimenter: 2,
                data: Bytes::new(),
            },
        ];
        assert_eq!(
            Instruction::check(&exp).unwrap_err().code,
            OFPBIC_UNSUP_INST
        );
    }

    // ---- robustness ----

    fn sample_list() -> Vec<Instruction> {
        vec![
            Instruction::Meter(4),
            Instruction::ApplyActions(every_action()),
            Instruction::ClearActions,
            Instruction::WriteActions(vec![Action::Group(1), Action::SetQueue(2)]),
            Instruction::WriteMetadata {
                metadata: 0xabc,
                mask: 0xfff,
            },
            Instruction::Experimenter {
                experimenter: 0x2320,
                data: Bytes::from_static(&[0; 8]),
            },
            Instruction::GotoTable(3),
        ]
    }

    #[test]
    fn sample_list_round_trips() {
        let w = emit_list(&sample_list());
        assert_eq!(w.len(), Instruction::list_wire_len(&sample_list()));
        assert_eq!(Instruction::parse_list(&w).unwrap(), sample_list());
    }

    #[test]
    fn every_proper_prefix_fails_cleanly() {
        let list = sample_list();
        let w = emit_list(&list);
        let boundaries: Vec<usize> = list
            .iter()
            .scan(0, |at, x| {
                *at += x.wire_len();
                Some(*at)
            })
            .collect();
        for n in 0..w.len() {
            let r = Instruction::parse_list(&w[..n]);
            if n == 0 || boundaries.contains(&n) {
                assert!(r.is_ok(), "prefix {n} ends on an instruction boundary");
            } else {
                assert_eq!(r.unwrap_err().code, OFPBIC_BAD_LEN, "prefix {n}");
            }
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = Rng(0x696e_7374_7275_6374);
        for _ in 0..20_000 {
            let n = rng.below(128);
            let mut w: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            // Plausible headers, so the loop reaches the per-type code.
            if n >= 4 && rng.below(2) == 0 {
                w[0] = 0;
                w[1] = [1u8, 2, 3, 4, 5, 6][rng.below(6)];
                w[2] = 0;
                w[3] = (rng.below(n / 8 + 1) * 8) as u8;
            }
            let _ = Instruction::parse_list(&w);
        }
    }

    #[test]
    fn mutated_valid_lists_never_panic_and_reparse_stably() {
        let base = emit_list(&sample_list());
        let mut rng = Rng(0xfeed_face_cafe_beef);
        for _ in 0..20_000 {
            let mut w = base.clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(w.len());
                w[at] = rng.next() as u8;
            }
            if let Ok(list) = Instruction::parse_list(&w) {
                let b = emit_list(&list);
                assert_eq!(b.len(), Instruction::list_wire_len(&list));
                assert_eq!(Instruction::parse_list(&b).unwrap(), list);
            }
        }
    }

    proptest! {
        #[test]
        fn emit_then_parse_is_identity(x in arb::instruction()) {
            let w = emit(&x);
            prop_assert_eq!(w.len(), x.wire_len());
            prop_assert_eq!(w.len() % 8, 0);
            let (rest, back) = Instruction::parse(&w).unwrap();
            prop_assert!(rest.is_empty());
            prop_assert_eq!(back, x);
        }

        #[test]
        fn list_emit_then_parse_is_identity(list in arb::instruction_list()) {
            let w = emit_list(&list);
            prop_assert_eq!(Instruction::parse_list(&w).unwrap(), list);
        }

        #[test]
        fn generated_sets_pass_check(list in arb::instruction_set()) {
            prop_assert_eq!(Instruction::check(&list), Ok(()));
        }
    }

    // ---- golden vectors (os-ken / ovs-ofctl captures) ----

    fn vectors_dir() -> PathBuf {
        crate::testdata::of13_dir()
    }

    fn read_vector(name: &str) -> Vec<u8> {
        crate::testdata::of13_packet(name)
    }

    fn read_json(name: &str) -> Value {
        let p = vectors_dir().join("json").join(format!("{name}.json"));
        let s = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        serde_json::from_str(&s).unwrap()
    }

    /// The instruction bytes of an OFPT_FLOW_MOD: after the 8-byte header,
    /// the 40-byte fixed part, and the match padded to 8 bytes.
    fn flow_mod_instructions(msg: &[u8]) -> &[u8] {
        assert_eq!(msg[0], 4, "OpenFlow 1.3");
        assert_eq!(msg[1], crate::consts::OFPT_FLOW_MOD);
        assert_eq!(usize::from(u16::from_be_bytes([msg[2], msg[3]])), msg.len());
        let match_len = usize::from(u16::from_be_bytes([msg[50], msg[51]]));
        &msg[48 + match_len + pad8(match_len)..]
    }

    /// Minimal standard base64 decoder, for the JSON's `data` fields.
    fn base64(s: &str) -> Vec<u8> {
        let val = |c: u8| match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("bad base64 {c}"),
        };
        let digits: Vec<u8> = s.bytes().filter(|&c| c != b'=').map(val).collect();
        let mut out = Vec::new();
        for chunk in digits.chunks(4) {
            let mut acc = 0u32;
            for (k, d) in chunk.iter().enumerate() {
                acc |= u32::from(*d) << (18 - 6 * k);
            }
            out.extend_from_slice(&acc.to_be_bytes()[1..chunk.len()]);
        }
        out
    }

    /// os-ken's JSON rendering of an unmasked field's value, for the fields
    /// the vectors set (numbers as numbers, addresses as text).
    fn oxm_json_value(f: &OxmField) -> Option<Value> {
        use OxmField::*;
        Some(match f {
            VlanVid(v, None) | TcpSrc(v) | TcpDst(v) | UdpSrc(v) | UdpDst(v) | EthType(v) => {
                Value::from(*v)
            }
            MplsLabel(v) => Value::from(*v),
            IpDscp(v) | IpEcn(v) | IpProto(v) | VlanPcp(v) | MplsTc(v) => Value::from(*v),
            EthSrc(m, None) | EthDst(m, None) => Value::from(m.to_string()),
            Ipv4Src(a, None) | Ipv4Dst(a, None) => Value::from(a.to_string()),
            Ipv6Src(a, None) | Ipv6Dst(a, None) => Value::from(a.to_string()),
            _ => return None,
        })
    }

    /// Checks one of our actions against os-ken's decoded form.
    fn assert_action_matches(a: &Action, j: &Value) {
        let (class, f) = j.as_object().unwrap().iter().next().unwrap();
        assert_eq!(f["type"], a.action_type(), "{class} vs {a:?}");
        assert_eq!(f["len"], a.wire_len(), "{class} vs {a:?}");
        let expected_class = match a {
            Action::Output { port, max_len } => {
                assert_eq!(f["port"], *port);
                assert_eq!(f["max_len"], *max_len);
                "OFPActionOutput"
            }
            Action::CopyTtlOut => "OFPActionCopyTtlOut",
            Action::CopyTtlIn => "OFPActionCopyTtlIn",
            Action::SetMplsTtl(t) => {
                assert_eq!(f["mpls_ttl"], *t);
                "OFPActionSetMplsTtl"
            }
            Action::DecMplsTtl => "OFPActionDecMplsTtl",
            Action::PushVlan(e) => {
                assert_eq!(f["ethertype"], *e);
                "OFPActionPushVlan"
            }
            Action::PopVlan => "OFPActionPopVlan",
            Action::PushMpls(e) => {
                assert_eq!(f["ethertype"], *e);
                "OFPActionPushMpls"
            }
            Action::PopMpls(e) => {
                assert_eq!(f["ethertype"], *e);
                "OFPActionPopMpls"
            }
            Action::SetQueue(q) => {
                assert_eq!(f["queue_id"], *q);
                "OFPActionSetQueue"
            }
            Action::Group(g) => {
                assert_eq!(f["group_id"], *g);
                "OFPActionGroup"
            }
            Action::SetNwTtl(t) => {
                assert_eq!(f["nw_ttl"], *t);
                "OFPActionSetNwTtl"
            }
            Action::DecNwTtl => "OFPActionDecNwTtl",
            Action::PushPbb(e) => {
                assert_eq!(f["ethertype"], *e);
                "OFPActionPushPbb"
            }
            Action::PopPbb => "OFPActionPopPbb",
            Action::SetField(oxm) => {
                let t = &f["field"]["OXMTlv"];
                assert_eq!(t["mask"], Value::Null);
                let name = t["field"].as_str().unwrap();
                match oxm {
                    // ONF experimenter OXM: class 0xffff, value in the last byte.
                    OxmField::Raw(r) if name == "pbb_uca" => {
                        assert_eq!(r.class, 0xffff);
                        assert_eq!(t["value"], *r.body.last().unwrap());
                    }
                    OxmField::Raw(r) => panic!("set_field {name} parsed as {r:?}"),
                    typed => {
                        assert_eq!(typed.name(), name);
                        if let Some(v) = oxm_json_value(typed) {
                            assert_eq!(t["value"], v, "set_field {name}");
                        }
                    }
                }
                "OFPActionSetField"
            }
            Action::Experimenter { experimenter, data } => {
                assert_eq!(f["experimenter"], *experimenter);
                if let Some(d) = f.get("data").and_then(Value::as_str) {
                    assert_eq!(base64(d), data.as_ref());
                }
                if class.starts_with("NX") {
                    assert_eq!(*experimenter, crate::consts::NX_VENDOR_ID);
                    return;
                }
                "OFPActionExperimenterUnknown"
            }
        };
        assert_eq!(class, expected_class);
    }

    fn assert_instructions_match(list: &[Instruction], j: &Value) {
        let js = j.as_array().unwrap();
        assert_eq!(list.len(), js.len());
        for (x, jx) in list.iter().zip(js) {
            let (class, f) = jx.as_object().unwrap().iter().next().unwrap();
            assert_eq!(f["type"], x.instruction_type(), "{class} vs {x:?}");
            assert_eq!(f["len"], x.wire_len(), "{class} vs {x:?}");
            match x {
                Instruction::WriteActions(actions) | Instruction::ApplyActions(actions) => {
                    assert_eq!(class, "OFPInstructionActions");
                    let ja = f["actions"].as_array().unwrap();
                    assert_eq!(actions.len(), ja.len(), "{actions:?}");
                    for (a, ja) in actions.iter().zip(ja) {
                        assert_action_matches(a, ja);
                    }
                }
                Instruction::GotoTable(t) => assert_eq!(f["table_id"], *t),
                Instruction::Meter(m) => assert_eq!(f["meter_id"], *m),
                _ => {}
            }
        }
    }

    #[test]
    fn golden_flow_mod_instructions_match_os_ken_and_re_emit_identically() {
        let name = "4-2-ofp_flow_mod.packet";
        let msg = read_vector(name);
        let wire = flow_mod_instructions(&msg);
        let list = Instruction::parse_list(wire).unwrap();
        assert_eq!(emit_list(&list), wire);
        assert_eq!(Instruction::check(&list), Ok(()));

        let json = read_json(name);
        assert_instructions_match(&list, &json["OFPFlowMod"]["instructions"]);

        // Spot checks by hand, so the test is not only self-consistent.
        let Instruction::WriteActions(w) = &list[0] else {
            panic!("{:?}", list[0])
        };
        assert_eq!(w.len(), 18);
        assert_eq!(w[0], Action::SetField(OxmField::VlanVid(0x0102, None)));
        assert_eq!(w[5], Action::PushPbb(0x1234));
        assert_eq!(w[6], Action::PopMpls(0x9876));
        assert_eq!(
            w[14],
            Action::Experimenter {
                experimenter: 101,
                data: Bytes::from_static(&[0, 1, 2, 3, 4, 5, 6, 7])
            }
        );
        assert_eq!(
            w[17],
            Action::Output {
                port: 6,
                max_len: 0xffff
            }
        );
        let Instruction::ApplyActions(a) = &list[1] else {
            panic!("{:?}", list[1])
        };
        assert_eq!(
            a[0],
            Action::SetField(OxmField::EthSrc(MacAddr([1, 2, 3, 4, 5, 6]), None))
        );
        assert_eq!(a[1].action_type(), OFPAT_SET_FIELD);
        // The odd ethertypes parse but would not be installed.
        assert!(w[5].check_args().is_err());
    }

    #[test]
    fn ovs_ofctl_nicira_actions_re_emit_identically() {
        let names = [
            "ovs-ofctl-of13-action_note.packet",
            "ovs-ofctl-of13-action_resubmit.packet",
            "ovs-ofctl-of13-action_learn.packet",
            "ovs-ofctl-of13-action_ct_nat.packet",
            "ovs-ofctl-of13-action_conjunction.packet",
            "ovs-ofctl-of13-action_output_trunc.packet",
        ];
        for name in names {
            let msg = read_vector(name);
            let wire = flow_mod_instructions(&msg);
            let list = Instruction::parse_list(wire).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(emit_list(&list), wire, "{name}");
            let nicira = list
                .iter()
                .flat_map(|x| match x {
                    Instruction::WriteActions(a) | Instruction::ApplyActions(a) => a.as_slice(),
                    _ => &[],
                })
                .filter(|a| a.action_type() == OFPAT_EXPERIMENTER)
                .count();
            assert!(nicira > 0, "{name}: no experimenter action found");
            assert_instructions_match(&list, &read_json(name)["OFPFlowMod"]["instructions"]);
        }
    }

    #[test]
    fn every_ovs_ofctl_action_vector_re_emits_identically() {
        let dir = vectors_dir().join("packet");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if !(name.starts_with("ovs-ofctl-of13-action_") && name.ends_with(".packet")) {
                continue;
            }
            let msg = read_vector(&name);
            let wire = flow_mod_instructions(&msg);
            let list = Instruction::parse_list(wire).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(emit_list(&list), wire, "{name}");
            seen += 1;
        }
        assert!(seen >= 10, "only {seen} ovs-ofctl action vectors found");
    }
}
