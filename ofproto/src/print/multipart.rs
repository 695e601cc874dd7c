//! Multipart request and reply bodies (after the header line and its
//! ` flags=…`). Port descriptions and port stats are in `port.rs`; the
//! TABLE reply is ovs-ofctl 3.1's (OVS ≥ 2.5) `table N:` blocks with
//! `ditto` runs.

use super::port::{write_port_desc_reply, write_port_stats_reply};
use super::{duration, group_name, meter_name, port_name};
use crate::consts::*;
use crate::multipart::{
    MultipartReplyBody as Rep, MultipartRequestBody as Req, TableFeatures, TableStats,
};
use crate::text;
use std::fmt::{self, Write};

pub(super) fn write_request(s: &mut String, body: &Req) -> fmt::Result {
    match body {
        Req::Flow(r) | Req::Aggregate(r) => {
            let mut parts = Vec::new();
            if r.table_id != OFPTT_ALL {
                parts.push(format!("table_id={}", r.table_id));
            }
            if r.out_port != OFPP_ANY {
                parts.push(format!("out_port={}", port_name(r.out_port)));
            }
            if r.out_group != OFPG_ANY {
                parts.push(format!("out_group={}", r.out_group));
            }
            if r.cookie_mask != 0 {
                parts.push(format!("cookie={:#x}/{:#x}", r.cookie, r.cookie_mask));
            }
            let m = text::format_match(&r.match_);
            if !m.is_empty() {
                parts.push(m);
            }
            if !parts.is_empty() {
                write!(s, " {}", parts.join(" "))?;
            }
        }
        Req::PortStats(p) => write!(s, " port_no={}", port_name(p.port_no))?,
        // OpenFlow 1.3 asks for every port; ovs-ofctl says so.
        Req::PortDesc => write!(s, " port={}", port_name(OFPP_ANY))?,
        Req::Queue(q) => write!(
            s,
            " port={} queue={}",
            port_name(q.port_no),
            if q.queue_id == OFPQ_ALL {
                "ALL".to_string()
            } else {
                q.queue_id.to_string()
            }
        )?,
        Req::Group(g) => write!(s, " group_id={}", group_name(g.group_id))?,
        Req::Meter(m) => write!(s, " meter={}", meter_name(m.meter_id))?,
        Req::MeterConfig(m) => write!(s, " meter={}", meter_name(m.meter_id))?,
        Req::TableFeatures(t) => {
            for tf in t {
                write_table_features(s, tf)?;
            }
        }
        Req::Experimenter(x) => write!(
            s,
            " experimenter={:#x} exp_type={} ({} bytes)",
            x.experimenter,
            x.exp_type,
            x.data.len()
        )?,
        Req::Desc | Req::Table | Req::GroupDesc | Req::GroupFeatures | Req::MeterFeatures => {}
    }
    Ok(())
}

pub(super) fn write_reply(s: &mut String, body: &Rep) -> fmt::Result {
    match body {
        Rep::Desc(d) => write!(
            s,
            "\nManufacturer: {}\nHardware: {}\nSoftware: {}\nSerial Num: {}\nDP Description: {}",
            d.mfr_desc, d.hw_desc, d.sw_desc, d.serial_num, d.dp_desc
        )?,
        Rep::Flow(flows) => {
            for f in flows {
                write!(s, "\n{}", text::format_flow_stats(f))?;
            }
        }
        Rep::Aggregate(a) => write!(
            s,
            " packet_count={} byte_count={} flow_count={}",
            a.packet_count, a.byte_count, a.flow_count
        )?,
        Rep::Table(tables) => write_table_stats_reply(s, tables)?,
        Rep::PortStats(ports) => write_port_stats_reply(s, ports)?,
        Rep::Queue(queues) => {
            write!(s, " {} queues", queues.len())?;
            for q in queues {
                write!(
                    s,
                    "\n  port {} queue {}: bytes={}, pkts={}, errors={}, duration={}s",
                    port_name(q.port_no),
                    q.queue_id,
                    q.tx_bytes,
                    q.tx_packets,
                    q.tx_errors,
                    duration(q.duration_sec, q.duration_nsec)
                )?;
            }
        }
        Rep::Group(groups) => {
            for g in groups {
                write!(
                    s,
                    "\n group_id={},duration={}s,ref_count={},packet_count={},byte_count={}",
                    g.group_id,
                    duration(g.duration_sec, g.duration_nsec),
                    g.ref_count,
                    g.packet_count,
                    g.byte_count
                )?;
                for (i, b) in g.bucket_stats.iter().enumerate() {
                    write!(
                        s,
                        ",bucket{i}:packet_count={},byte_count={}",
                        b.packet_count, b.byte_count
                    )?;
                }
            }
        }
        Rep::GroupDesc(groups) => {
            for g in groups {
                let gm = crate::group::GroupMod {
                    command: OFPGC_ADD,
                    group_type: g.group_type,
                    group_id: g.group_id,
                    buckets: g.buckets.clone(),
                };
                write!(s, "\n {}", text::format_group(&gm))?;
            }
        }
        Rep::GroupFeatures(f) => write_group_features(s, f)?,
        Rep::Meter(meters) => {
            for m in meters {
                write!(
                    s,
                    "\nmeter:{} flow_count:{} packet_in_count:{} byte_in_count:{} duration:{}s bands:",
                    m.meter_id,
                    m.flow_count,
                    m.packet_in_count,
                    m.byte_in_count,
                    duration(m.duration_sec, m.duration_nsec)
                )?;
                for (i, b) in m.band_stats.iter().enumerate() {
                    write!(
                        s,
                        "\n{i}: packet_count:{} byte_count:{}",
                        b.packet_band_count, b.byte_band_count
                    )?;
                }
            }
        }
        Rep::MeterConfig(configs) => {
            for c in configs {
                let mm = crate::meter::MeterMod {
                    command: OFPMC_ADD,
                    flags: c.flags,
                    meter_id: c.meter_id,
                    bands: c.bands.clone(),
                };
                write!(s, "\n{}", text::format_meter(&mm))?;
            }
        }
        Rep::MeterFeatures(f) => write_meter_features(s, f)?,
        Rep::TableFeatures(t) => {
            for tf in t {
                write_table_features(s, tf)?;
            }
        }
        Rep::PortDesc(ports) => write_port_desc_reply(s, ports)?,
        Rep::Experimenter(x) => write!(
            s,
            " experimenter={:#x} exp_type={} ({} bytes)",
            x.experimenter,
            x.exp_type,
            x.data.len()
        )?,
    }
    Ok(())
}

/// The body of a TABLE reply: a blank line between blocks, one block per
/// table; a run of tables whose counters equal the table before them is
/// folded into `table N: ditto` / `tables A...B: ditto`.
///
/// ```text
///   table 0:
///     active=1, lookup=2, matched=3
///
///   tables 1...253: ditto
/// ```
fn write_table_stats_reply(s: &mut String, tables: &[TableStats]) -> fmt::Result {
    fn ditto(s: &mut String, run: Option<(u8, u8)>) -> fmt::Result {
        match run {
            Some((a, b)) if a == b => write!(s, "\n\n  table {a}: ditto"),
            Some((a, b)) => write!(s, "\n\n  tables {a}...{b}: ditto"),
            None => Ok(()),
        }
    }
    let counters = |t: &TableStats| (t.active_count, t.lookup_count, t.matched_count);
    let mut run: Option<(u8, u8)> = None;
    let mut prev: Option<&TableStats> = None;
    for t in tables {
        if prev.is_some_and(|p| counters(p) == counters(t)) {
            run = Some((run.map_or(t.table_id, |r| r.0), t.table_id));
        } else {
            ditto(s, run.take())?;
            if prev.is_some() {
                s.push('\n');
            }
            write!(
                s,
                "\n  table {}:\n    active={}, lookup={}, matched={}",
                t.table_id, t.active_count, t.lookup_count, t.matched_count
            )?;
        }
        prev = Some(t);
    }
    ditto(s, run)
}

fn write_table_features(s: &mut String, t: &TableFeatures) -> fmt::Result {
    write!(
        s,
        "\n  table {}:\n    name=\"{}\"\n    metadata: match={:#x} write={:#x}\n    max_entries={}\n    properties: {}",
        t.table_id,
        t.name,
        t.metadata_match,
        t.metadata_write,
        t.max_entries,
        t.properties.len()
    )
}

/// The OF1.3 action bits a group-features bitmap can carry, in the order
/// and with the names ovs-ofctl prints them; the ones Open vSwitch has no
/// name for (it drops them from its output) follow with their OF1.3 names,
/// so a switch that supports them (tapflowd) says so.
const GROUP_ACTION_NAMES: [(u8, &str); 16] = [
    (0, "output"),
    (22, "group"),
    (25, "set_field"),
    (18, "strip_vlan"),
    (17, "push_vlan"),
    (23, "mod_nw_ttl"),
    (24, "dec_ttl"),
    (15, "set_mpls_ttl"),
    (16, "dec_mpls_ttl"),
    (19, "push_mpls"),
    (20, "pop_mpls"),
    (21, "set_queue"),
    (11, "copy_ttl_out"),
    (12, "copy_ttl_in"),
    (26, "push_pbb"),
    (27, "pop_pbb"),
];

/// `OFPST_GROUP_FEATURES` as ovs-ofctl prints it.
fn write_group_features(s: &mut String, f: &crate::multipart::GroupFeatures) -> std::fmt::Result {
    write!(
        s,
        "\n Group table:\n    Types:  {:#x}\n    Capabilities:  {:#x}",
        f.types, f.capabilities
    )?;
    let names = ["all", "select", "indirect", "fast failover"];
    for (i, name) in names.iter().enumerate() {
        if f.max_groups[i] == 0 {
            continue;
        }
        write!(
            s,
            "\n    {name} group:\n       max_groups={:#x}\n       actions:",
            f.max_groups[i]
        )?;
        for (bit, a) in GROUP_ACTION_NAMES {
            if f.actions[i] & (1 << bit) != 0 {
                write!(s, " {a}")?;
            }
        }
    }
    Ok(())
}

/// `OFPST_METER_FEATURES` as ovs-ofctl prints it: band types and
/// capabilities by name.
fn write_meter_features(s: &mut String, f: &crate::multipart::MeterFeatures) -> std::fmt::Result {
    write!(
        s,
        "\nmax_meter:{} max_bands:{} max_color:{}\nband_types:",
        f.max_meter, f.max_bands, f.max_color
    )?;
    for (bit, name) in [(1, "drop"), (2, "dscp_remark")] {
        if f.band_types & (1 << bit) != 0 {
            write!(s, " {name}")?;
        }
    }
    s.push_str("\ncapabilities:");
    for (bit, name) in [(0, "kbps"), (1, "pktps"), (2, "burst"), (3, "stats")] {
        if f.capabilities & (1 << bit) != 0 {
            write!(s, " {name}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(t: u8, a: u32, l: u64, m: u64) -> TableStats {
        TableStats {
            table_id: t,
            active_count: a,
            lookup_count: l,
            matched_count: m,
        }
    }

    fn print(tables: &[TableStats]) -> String {
        let mut s = String::new();
        write_table_stats_reply(&mut s, tables).unwrap();
        s
    }

    // ovs-ofctl 3.1's `ofp-print` of the same replies, header line left out.
    #[test]
    fn table_stats_fold_equal_runs_into_ditto() {
        assert_eq!(print(&[]), "");
        assert_eq!(
            print(&[ts(0, 1, 2, 3)]),
            "\n  table 0:\n    active=1, lookup=2, matched=3"
        );
        assert_eq!(
            print(&[
                ts(0, 1, 2, 3),
                ts(1, 0, 0, 0),
                ts(2, 0, 0, 0),
                ts(3, 0, 0, 0),
                ts(4, 5, 0, 0)
            ]),
            "\n  table 0:\n    active=1, lookup=2, matched=3\n\n  table 1:\n    active=0, lookup=0, matched=0\n\n  tables 2...3: ditto\n\n  table 4:\n    active=5, lookup=0, matched=0"
        );
        assert_eq!(
            print(&[ts(0, 1, 2, 3), ts(1, 1, 2, 3)]),
            "\n  table 0:\n    active=1, lookup=2, matched=3\n\n  table 1: ditto"
        );
        // Table numbers need not follow each other.
        assert_eq!(
            print(&[ts(0, 1, 2, 3), ts(5, 1, 2, 3), ts(6, 1, 2, 3), ts(9, 0, 0, 0)]),
            "\n  table 0:\n    active=1, lookup=2, matched=3\n\n  tables 5...6: ditto\n\n  table 9:\n    active=0, lookup=0, matched=0"
        );
        let many: Vec<TableStats> = (0..254u8)
            .map(|t| ts(t, if t == 0 { 3 } else { 0 }, 10, 5))
            .collect();
        assert_eq!(
            print(&many),
            "\n  table 0:\n    active=3, lookup=10, matched=5\n\n  table 1:\n    active=0, lookup=10, matched=5\n\n  tables 2...253: ditto"
        );
    }
}
