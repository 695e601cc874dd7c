//! `OFPTableFeaturesStats` and its properties in os-ken's JSON shape.

use super::compare::BASIC_OXM_NAMES;
use super::to_json::class;
use bytes::BytesMut;
use ofproto::multipart::{
    ActionId, ExperimenterProp, InstructionId, OxmId, TableFeatureProp, TableFeatures,
};
use ofproto::oxm::OFPXMC_OPENFLOW_BASIC;
use serde_json::{json, Value};

fn emitted(f: impl FnOnce(&mut BytesMut)) -> Vec<u8> {
    let mut b = BytesMut::new();
    f(&mut b);
    b.to_vec()
}

fn be16(b: &[u8], at: usize) -> Value {
    match b.get(at..at + 2) {
        Some(s) => json!(u16::from_be_bytes([s[0], s[1]])),
        None => json!(format!(
            "<no u16 at offset {at} of {} emitted bytes>",
            b.len()
        )),
    }
}

pub fn list(l: &[TableFeatures]) -> Value {
    Value::Array(l.iter().map(table_features).collect())
}

fn table_features(t: &TableFeatures) -> Value {
    let w = emitted(|b| t.emit(b));
    class(
        "OFPTableFeaturesStats",
        vec![
            ("config", json!(t.config)),
            ("length", be16(&w, 0)),
            ("max_entries", json!(t.max_entries)),
            ("metadata_match", json!(t.metadata_match)),
            ("metadata_write", json!(t.metadata_write)),
            ("name", json!(t.name)),
            (
                "properties",
                Value::Array(t.properties.iter().map(prop).collect()),
            ),
            ("table_id", json!(t.table_id)),
        ],
    )
}

fn prop(p: &TableFeatureProp) -> Value {
    use TableFeatureProp as P;
    let w = emitted(|b| p.emit(b));
    let (ty, length) = (be16(&w, 0), be16(&w, 2));
    let ids = |name: &str, key: &'static str, v: Value| {
        class(
            name,
            vec![(key, v), ("length", length.clone()), ("type", ty.clone())],
        )
    };
    match p {
        P::Instructions(l) | P::InstructionsMiss(l) => ids(
            "OFPTableFeaturePropInstructions",
            "instruction_ids",
            Value::Array(l.iter().map(instruction_id).collect()),
        ),
        P::NextTables(l) | P::NextTablesMiss(l) => {
            ids("OFPTableFeaturePropNextTables", "table_ids", json!(l))
        }
        P::WriteActions(l)
        | P::WriteActionsMiss(l)
        | P::ApplyActions(l)
        | P::ApplyActionsMiss(l) => ids(
            "OFPTableFeaturePropActions",
            "action_ids",
            Value::Array(l.iter().map(action_id).collect()),
        ),
        P::Match(l)
        | P::Wildcards(l)
        | P::WriteSetfield(l)
        | P::WriteSetfieldMiss(l)
        | P::ApplySetfield(l)
        | P::ApplySetfieldMiss(l) => ids(
            "OFPTableFeaturePropOxm",
            "oxm_ids",
            Value::Array(l.iter().map(oxm_id).collect()),
        ),
        P::Experimenter(x) | P::ExperimenterMiss(x) => experimenter_prop(x, length, ty),
        P::Unknown { .. } => class(
            "?OFPTableFeatureProp*",
            vec![("length", length), ("type", ty)],
        ),
    }
}

/// os-ken shows the data of an experimenter property as big-endian u32s.
fn experimenter_prop(x: &ExperimenterProp, length: Value, ty: Value) -> Value {
    let words: Vec<Value> = if x.data.len() % 4 == 0 {
        x.data
            .chunks(4)
            .map(|c| json!(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
            .collect()
    } else {
        vec![json!(format!(
            "<{} data bytes, not whole u32s>",
            x.data.len()
        ))]
    };
    class(
        "OFPTableFeaturePropExperimenter",
        vec![
            ("data", Value::Array(words)),
            ("exp_type", json!(x.exp_type)),
            ("experimenter", json!(x.experimenter)),
            ("length", length),
            ("type", ty),
        ],
    )
}

fn instruction_id(i: &InstructionId) -> Value {
    let w = emitted(|b| i.emit(b));
    let (ty, len) = (be16(&w, 0), be16(&w, 2));
    if i.data.is_empty() {
        class("OFPInstructionId", vec![("len", len), ("type", ty)])
    } else {
        class(
            "?OFPInstructionId|OFPInstructionExperimenterId*",
            vec![("len", len), ("type", ty)],
        )
    }
}

fn action_id(a: &ActionId) -> Value {
    let w = emitted(|b| a.emit(b));
    let (ty, len) = (be16(&w, 0), be16(&w, 2));
    if a.data.is_empty() {
        class("OFPActionId", vec![("len", len), ("type", ty)])
    } else {
        class(
            "?OFPActionId|OFPActionExperimenterId*|NXActionId*",
            vec![("len", len), ("type", ty)],
        )
    }
}

/// `OFPOxmId`: os-ken names the field in `type`; a non-basic id is compared
/// by its mask bit and length only.
fn oxm_id(o: &OxmId) -> Value {
    let hasmask = json!(u8::from(o.hasmask()));
    let length = json!(o.length());
    match BASIC_OXM_NAMES.get(usize::from(o.field())) {
        Some(name) if o.class() == OFPXMC_OPENFLOW_BASIC => class(
            "OFPOxmId",
            vec![
                ("hasmask", hasmask),
                ("length", length),
                ("type", json!(name)),
            ],
        ),
        _ => class(
            "?OFPOxmId|NXOxmId*|ONFOxmId*",
            vec![("hasmask", hasmask), ("length", length)],
        ),
    }
}
