//! Multipart replies: splitting long lists over several messages with
//! `OFPMPF_REPLY_MORE`, and the fixed answers (DESC, TABLE_FEATURES).

use bytes::BytesMut;
use ofproto::consts::*;
use ofproto::instruction::Instruction;
use ofproto::multipart::{
    Desc, FlowStats, MultipartReply, MultipartReplyBody, TableFeatures, OFP_FLOW_STATS_FIXED_LEN,
    OFP_MULTIPART_HEADER_LEN,
};
use ofproto::Message;

/// Tables we advertise (FEATURES_REPLY `n_tables`, TABLE_FEATURES, TABLE
/// stats): all of 0..=254 (`OFPTT_MAX`), the 255 the pipeline holds. OVS
/// keeps table 254 internal and advertises 254; we have nothing to hide
/// there, and a usable table that isn't advertised confuses controllers.
pub const N_TABLES_ADVERTISED: u8 = 255;

/// Largest body of one multipart reply: 65535 bytes minus the OpenFlow and
/// multipart headers.
pub const MAX_REPLY_BODY: usize = 0xffff - 8 - OFP_MULTIPART_HEADER_LEN;

/// Splits `items` into chunks whose sizes add up to at most `max` each (an
/// item larger than `max` goes alone). Always at least one chunk, possibly
/// empty.
pub fn split_by_size<T>(items: Vec<T>, size: impl Fn(&T) -> usize, max: usize) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut cur_len = 0;
    for it in items {
        let n = size(&it);
        if !cur.is_empty() && cur_len + n > max {
            out.push(std::mem::take(&mut cur));
            cur_len = 0;
        }
        cur_len += n;
        cur.push(it);
    }
    out.push(cur);
    out
}

/// One MULTIPART_REPLY per chunk, all but the last with REPLY_MORE.
pub fn replies<T>(
    items: Vec<T>,
    size: impl Fn(&T) -> usize,
    wrap: impl Fn(Vec<T>) -> MultipartReplyBody,
) -> Vec<Message> {
    let chunks = split_by_size(items, size, MAX_REPLY_BODY);
    let last = chunks.len() - 1;
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            Message::MultipartReply(MultipartReply {
                flags: if i < last { OFPMPF_REPLY_MORE } else { 0 },
                body: wrap(c),
            })
        })
        .collect()
}

/// Encoded size of one `ofp_flow_stats`.
pub fn flow_stats_len(f: &FlowStats) -> usize {
    OFP_FLOW_STATS_FIXED_LEN + f.match_.wire_len() + Instruction::list_wire_len(&f.instructions)
}

/// Encoded size of one `ofp_table_features`.
pub fn table_features_len(t: &TableFeatures) -> usize {
    let mut b = BytesMut::new();
    t.emit(&mut b);
    b.len()
}

/// OFPMP_DESC.
pub fn desc(bridge: &str) -> Desc {
    Desc {
        mfr_desc: "tapflow".into(),
        hw_desc: "tapflow userspace datapath".into(),
        sw_desc: env!("CARGO_PKG_VERSION").into(),
        serial_num: "None".into(),
        dp_desc: bridge.into(),
    }
}

pub use crate::pipeline::table_config::{settable, SUPPORTED_ACTIONS};

/// OFPMP_TABLE_FEATURES for tables 0..N_TABLES_ADVERTISED as the pipeline
/// starts: every required property (instructions, next_tables, write/apply
/// actions, match, wildcards, write/apply setfield) and the `_MISS`
/// variants, equal to the regular ones (the table-miss entry can do what
/// any entry can). A controller may narrow this with a set request
/// ([`TableConfigs::replace`](crate::pipeline::table_config::TableConfigs::replace)).
pub fn table_features(max_entries: u32) -> Vec<TableFeatures> {
    crate::pipeline::table_config::TableConfigs::new(max_entries).features()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ofproto::action::*;
    use ofproto::instruction::OFPIT_GOTO_TABLE;
    use ofproto::multipart::*;
    use ofproto::oxm::*;

    #[test]
    fn split_respects_the_budget_and_keeps_order() {
        let v: Vec<usize> = (0..10).collect();
        let c = split_by_size(v, |_| 30, 100);
        assert_eq!(
            c,
            vec![vec![0, 1, 2], vec![3, 4, 5], vec![6, 7, 8], vec![9]]
        );
        let c = split_by_size(Vec::<u8>::new(), |_| 1, 10);
        assert_eq!(c, vec![Vec::<u8>::new()]);
        // An oversized item goes alone rather than vanishing.
        let c = split_by_size(vec![5, 500, 5], |n| *n, 100);
        assert_eq!(c, vec![vec![5], vec![500], vec![5]]);
    }

    fn decode(m: &Message) -> (u16, MultipartReplyBody, usize) {
        let bytes = m.encode_to_vec(7);
        let (_, back) = Message::decode(&bytes).unwrap();
        match back {
            Message::MultipartReply(r) => (r.flags, r.body, bytes.len()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn flow_stats_len_is_the_encoded_length() {
        let fm = ofproto::text::parse_flow(
            "table=3,priority=7,tcp,nw_dst=10.0.0.0/8,tp_dst=80 actions=set_field:1->tcp_dst,output:2,goto_table:9",
            ofproto::text::FlowCommand::Add,
        )
        .unwrap();
        let fs = FlowStats {
            table_id: fm.table_id,
            duration_sec: 1,
            duration_nsec: 2,
            priority: fm.priority,
            idle_timeout: 0,
            hard_timeout: 0,
            flags: 0,
            cookie: 0,
            packet_count: 0,
            byte_count: 0,
            match_: fm.match_,
            instructions: fm.instructions,
        };
        let msgs = replies(vec![fs.clone()], flow_stats_len, MultipartReplyBody::Flow);
        let (_, _, n) = decode(&msgs[0]);
        assert_eq!(n, 16 + flow_stats_len(&fs));
    }

    #[test]
    fn many_flows_split_into_replies_under_64k_with_more_flags() {
        let fm = ofproto::text::parse_flow(
            "priority=100,arp,arp_tpa=10.10.10.12 actions=output:2",
            ofproto::text::FlowCommand::Add,
        )
        .unwrap();
        let one = FlowStats {
            table_id: 0,
            duration_sec: 0,
            duration_nsec: 0,
            priority: 100,
            idle_timeout: 0,
            hard_timeout: 0,
            flags: 0,
            cookie: 0,
            packet_count: 0,
            byte_count: 0,
            match_: fm.match_,
            instructions: fm.instructions,
        };
        let n = 5000;
        let msgs = replies(vec![one; n], flow_stats_len, MultipartReplyBody::Flow);
        assert!(msgs.len() > 1);
        let mut total = 0;
        for (i, m) in msgs.iter().enumerate() {
            let (flags, body, len) = decode(m);
            assert!(len <= 0xffff);
            let more = i + 1 < msgs.len();
            assert_eq!(flags & OFPMPF_REPLY_MORE != 0, more);
            match body {
                MultipartReplyBody::Flow(v) => total += v.len(),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(total, n);
    }

    #[test]
    fn table_features_have_every_required_property_for_every_table() {
        let tf = table_features(1 << 20);
        let msgs = replies(tf, table_features_len, MultipartReplyBody::TableFeatures);
        assert!(msgs.len() > 1, "one reply cannot hold 254 tables");
        let mut tables = Vec::new();
        for (i, m) in msgs.iter().enumerate() {
            let (flags, body, len) = decode(m);
            assert!(len <= 0xffff);
            assert_eq!(flags & OFPMPF_REPLY_MORE != 0, i + 1 < msgs.len());
            match body {
                MultipartReplyBody::TableFeatures(v) => tables.extend(v),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(tables.len(), usize::from(N_TABLES_ADVERTISED));
        for (i, t) in tables.iter().enumerate() {
            assert_eq!(usize::from(t.table_id), i);
            let types: Vec<u16> = t.properties.iter().map(|p| p.prop_type()).collect();
            for required in [
                OFPTFPT_INSTRUCTIONS,
                OFPTFPT_NEXT_TABLES,
                OFPTFPT_WRITE_ACTIONS,
                OFPTFPT_APPLY_ACTIONS,
                OFPTFPT_MATCH,
                OFPTFPT_WILDCARDS,
                OFPTFPT_WRITE_SETFIELD,
                OFPTFPT_APPLY_SETFIELD,
            ] {
                assert!(types.contains(&required), "table {i} lacks {required}");
            }
            let get = |ty: u16| t.properties.iter().find(|p| p.prop_type() == ty).unwrap();
            use TableFeatureProp as P;
            match (get(OFPTFPT_INSTRUCTIONS), get(OFPTFPT_INSTRUCTIONS_MISS)) {
                (P::Instructions(a), P::InstructionsMiss(b)) => {
                    assert_eq!(a, b);
                    let goto = a.iter().any(|x| x.ty == OFPIT_GOTO_TABLE);
                    assert_eq!(goto, i + 1 < tables.len(), "table {i}");
                }
                other => panic!("{other:?}"),
            }
            match (get(OFPTFPT_NEXT_TABLES), get(OFPTFPT_NEXT_TABLES_MISS)) {
                (P::NextTables(a), P::NextTablesMiss(b)) => {
                    assert_eq!(a, b);
                    assert_eq!(
                        a.first().copied(),
                        (i + 1 < tables.len()).then_some(i as u8 + 1)
                    );
                }
                other => panic!("{other:?}"),
            }
            match (get(OFPTFPT_MATCH), get(OFPTFPT_WILDCARDS)) {
                (P::Match(m), P::Wildcards(w)) => {
                    assert_eq!(m.len(), BASIC_FIELD_COUNT);
                    assert_eq!(w.len(), BASIC_FIELD_COUNT);
                    let ipv4 = m.iter().find(|o| o.field() == OFPXMT_OFB_IPV4_DST).unwrap();
                    assert!(ipv4.hasmask() && ipv4.length() == 8);
                }
                other => panic!("{other:?}"),
            }
            match (
                get(OFPTFPT_APPLY_SETFIELD),
                get(OFPTFPT_WRITE_SETFIELD_MISS),
            ) {
                (P::ApplySetfield(a), P::WriteSetfieldMiss(b)) => {
                    assert_eq!(a, b);
                    assert!(!a.iter().any(|o| o.field() == OFPXMT_OFB_IN_PORT));
                    assert!(a.iter().any(|o| o.field() == OFPXMT_OFB_ETH_DST));
                }
                other => panic!("{other:?}"),
            }
            match (get(OFPTFPT_APPLY_ACTIONS), get(OFPTFPT_WRITE_ACTIONS_MISS)) {
                (P::ApplyActions(a), P::WriteActionsMiss(b)) => {
                    assert_eq!(a, b);
                    assert!(a.iter().any(|x| x.ty == OFPAT_OUTPUT));
                    assert!(a.iter().any(|x| x.ty == OFPAT_GROUP));
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
