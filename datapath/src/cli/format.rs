//! Replies printed exactly as Open vSwitch 3.1's `ovs-ofctl -O OpenFlow13`
//! prints them, for the parts where `ofproto::print` (the `ofp-print`
//! layout) differs from what ovs-ofctl shows today: ports sorted by number
//! with `current:`-style labels, port counters of `UINT64_MAX` as `?`,
//! table counters in OVS ≥ 2.5's `table N:` blocks with `ditto` runs, and
//! `capabilities: 0`. Each function's output was compared with ovs-ofctl's
//! for the same bytes (`ovs-ofctl ofp-print HEX` and the fake switch of
//! `tests/cli_openflow.rs`).

use ofproto::consts::*;
use ofproto::message::FeaturesReply;
use ofproto::multipart::{PortStats, TableStats};
use ofproto::port::PortDesc;
use ofproto::text::{format_duration, format_port};
use std::fmt::Write;

/// `NAME (OF1.3) (xid=0x2):` plus ` flags=[more]` for a part with more to come.
pub fn header(name: &str, xid: u32, more: bool) -> String {
    format!(
        "{name} (OF1.3) (xid={xid:#x}):{}",
        if more { " flags=[more]" } else { "" }
    )
}

/// Set bits by name (low bit first), `0` when none; bits without a name are
/// dropped, as OVS does when it decodes them.
fn bit_names(bits: u32, names: &[(u32, &str)]) -> String {
    let out: Vec<&str> = names
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| *n)
        .collect();
    if out.is_empty() {
        "0".into()
    } else {
        out.join(" ")
    }
}

const CAPABILITIES: &[(u32, &str)] = &[
    (OFPC_FLOW_STATS, "FLOW_STATS"),
    (OFPC_TABLE_STATS, "TABLE_STATS"),
    (OFPC_PORT_STATS, "PORT_STATS"),
    (OFPC_GROUP_STATS, "GROUP_STATS"),
    (OFPC_IP_REASM, "IP_REASM"),
    (OFPC_QUEUE_STATS, "QUEUE_STATS"),
    (OFPC_PORT_BLOCKED, "PORT_BLOCKED"),
];
const PORT_CONFIG: &[(u32, &str)] = &[
    (OFPPC_PORT_DOWN, "PORT_DOWN"),
    (OFPPC_NO_RECV, "NO_RECV"),
    (OFPPC_NO_FWD, "NO_FWD"),
    (OFPPC_NO_PACKET_IN, "NO_PACKET_IN"),
];
const PORT_STATE: &[(u32, &str)] = &[
    (OFPPS_LINK_DOWN, "LINK_DOWN"),
    (OFPPS_BLOCKED, "BLOCKED"),
    (OFPPS_LIVE, "LIVE"),
];
const PORT_FEATURES: &[(u32, &str)] = &[
    (OFPPF_10MB_HD, "10MB-HD"),
    (OFPPF_10MB_FD, "10MB-FD"),
    (OFPPF_100MB_HD, "100MB-HD"),
    (OFPPF_100MB_FD, "100MB-FD"),
    (OFPPF_1GB_HD, "1GB-HD"),
    (OFPPF_1GB_FD, "1GB-FD"),
    (OFPPF_10GB_FD, "10GB-FD"),
    (OFPPF_40GB_FD, "40GB-FD"),
    (OFPPF_100GB_FD, "100GB-FD"),
    (OFPPF_1TB_FD, "1TB-FD"),
    (OFPPF_OTHER, "OTHER"),
    (OFPPF_COPPER, "COPPER"),
    (OFPPF_FIBER, "FIBER"),
    (OFPPF_AUTONEG, "AUTO_NEG"),
    (OFPPF_PAUSE, "AUTO_PAUSE"),
    (OFPPF_PAUSE_ASYM, "AUTO_PAUSE_ASYM"),
];

/// `OFPT_FEATURES_REPLY (OF1.3) (xid=0x2): dpid:…` with its two lines.
pub fn features_reply(xid: u32, f: &FeaturesReply) -> String {
    let mut s = format!(
        "{} dpid:{:016x}\nn_tables:{}, n_buffers:{}",
        header("OFPT_FEATURES_REPLY", xid, false),
        f.datapath_id,
        f.n_tables,
        f.n_buffers
    );
    if f.auxiliary_id != 0 {
        let _ = write!(s, ", auxiliary_id:{}", f.auxiliary_id);
    }
    let _ = write!(
        s,
        "\ncapabilities: {}",
        bit_names(f.capabilities, CAPABILITIES)
    );
    s
}

/// One port of `show` / `dump-ports-desc` (lines start with a space).
pub fn port_desc(p: &PortDesc) -> String {
    // OVS replaces what it can't print in a port name.
    let name: String = p
        .name
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    let mut s = format!(
        " {}({name}): addr:{}\n     config:     {}\n     state:      {}\n",
        format_port(p.port_no),
        p.hw_addr,
        bit_names(p.config, PORT_CONFIG),
        bit_names(p.state, PORT_STATE),
    );
    for (label, v) in [
        ("current:    ", p.curr),
        ("advertised: ", p.advertised),
        ("supported:  ", p.supported),
        ("peer:       ", p.peer),
    ] {
        if v != 0 {
            let _ = writeln!(s, "     {label}{}", bit_names(v, PORT_FEATURES));
        }
    }
    let _ = write!(
        s,
        "     speed: {} Mbps now, {} Mbps max",
        p.curr_speed / 1000,
        p.max_speed / 1000
    );
    s
}

/// A PORT_DESC reply part: the header, then the ports sorted by number.
pub fn port_desc_reply(xid: u32, more: bool, ports: &[PortDesc]) -> String {
    let mut sorted: Vec<&PortDesc> = ports.iter().collect();
    sorted.sort_by_key(|p| p.port_no);
    let mut s = header("OFPST_PORT_DESC reply", xid, more);
    for p in sorted {
        s.push('\n');
        s += &port_desc(p);
    }
    s
}

fn counter(s: &mut String, label: &str, v: u64, last: bool) {
    s.push_str(label);
    if v == u64::MAX {
        s.push('?');
    } else {
        let _ = write!(s, "{v}");
    }
    s.push_str(if last { "\n" } else { ", " });
}

/// A PORT_STATS reply part: ` N ports`, then three lines per port.
pub fn port_stats_reply(xid: u32, more: bool, ports: &[PortStats]) -> String {
    let mut s = format!(
        "{} {} ports\n",
        header("OFPST_PORT reply", xid, more),
        ports.len()
    );
    for p in ports {
        s.push_str("  port ");
        if p.port_no < 10 {
            s.push(' ');
        }
        s += &format_port(p.port_no);
        s.push_str(": rx ");
        counter(&mut s, "pkts=", p.rx_packets, false);
        counter(&mut s, "bytes=", p.rx_bytes, false);
        counter(&mut s, "drop=", p.rx_dropped, false);
        counter(&mut s, "errs=", p.rx_errors, false);
        counter(&mut s, "frame=", p.rx_frame_err, false);
        counter(&mut s, "over=", p.rx_over_err, false);
        counter(&mut s, "crc=", p.rx_crc_err, true);
        s.push_str("           tx ");
        counter(&mut s, "pkts=", p.tx_packets, false);
        counter(&mut s, "bytes=", p.tx_bytes, false);
        counter(&mut s, "drop=", p.tx_dropped, false);
        counter(&mut s, "errs=", p.tx_errors, false);
        counter(&mut s, "coll=", p.collisions, true);
        if p.duration_sec != u32::MAX {
            let _ = writeln!(
                s,
                "           duration={}",
                format_duration(p.duration_sec, p.duration_nsec)
            );
        }
    }
    s.truncate(s.trim_end().len());
    s
}

/// A TABLE reply part: one block per table, runs of tables whose counters
/// equal the previous table's folded into `tables A...B: ditto`.
pub fn table_stats_reply(xid: u32, more: bool, tables: &[TableStats]) -> String {
    fn ditto(s: &mut String, run: Option<(u8, u8)>) {
        match run {
            Some((a, b)) if a == b => {
                let _ = write!(s, "\n  table {a}: ditto\n");
            }
            Some((a, b)) => {
                let _ = write!(s, "\n  tables {a}...{b}: ditto\n");
            }
            None => {}
        }
    }
    let same = |a: &TableStats, b: &TableStats| {
        (a.active_count, a.lookup_count, a.matched_count)
            == (b.active_count, b.lookup_count, b.matched_count)
    };
    let mut s = header("OFPST_TABLE reply", xid, more);
    let mut run: Option<(u8, u8)> = None;
    let mut prev: Option<&TableStats> = None;
    for t in tables {
        if prev.is_some_and(|p| same(p, t)) {
            run = Some((run.map_or(t.table_id, |r| r.0), t.table_id));
        } else {
            ditto(&mut s, run.take());
            let _ = write!(
                s,
                "\n  table {}:\n    active={}, lookup={}, matched={}\n",
                t.table_id, t.active_count, t.lookup_count, t.matched_count
            );
        }
        prev = Some(t);
    }
    ditto(&mut s, run);
    s.truncate(s.trim_end().len());
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use ofproto::MacAddr;

    fn ts(t: u8, a: u32, l: u64, m: u64) -> TableStats {
        TableStats {
            table_id: t,
            active_count: a,
            lookup_count: l,
            matched_count: m,
        }
    }

    // The expected strings below are ovs-ofctl 3.1's `ofp-print` of the same replies.

    #[test]
    fn table_stats_fold_equal_runs_into_ditto() {
        assert_eq!(
            table_stats_reply(2, false, &[ts(0, 1, 2, 3)]),
            "OFPST_TABLE reply (OF1.3) (xid=0x2):\n  table 0:\n    active=1, lookup=2, matched=3"
        );
        assert_eq!(
            table_stats_reply(
                2,
                false,
                &[ts(0, 1, 2, 3), ts(1, 0, 0, 0), ts(2, 0, 0, 0), ts(3, 0, 0, 0), ts(4, 5, 0, 0)]
            ),
            "OFPST_TABLE reply (OF1.3) (xid=0x2):\n  table 0:\n    active=1, lookup=2, matched=3\n\n  table 1:\n    active=0, lookup=0, matched=0\n\n  tables 2...3: ditto\n\n  table 4:\n    active=5, lookup=0, matched=0"
        );
        assert_eq!(
            table_stats_reply(2, false, &[ts(0, 1, 2, 3), ts(1, 1, 2, 3)]),
            "OFPST_TABLE reply (OF1.3) (xid=0x2):\n  table 0:\n    active=1, lookup=2, matched=3\n\n  table 1: ditto"
        );
        let many: Vec<TableStats> = (0..254u8)
            .map(|t| ts(t, if t == 0 { 3 } else { 0 }, 10, 5))
            .collect();
        assert_eq!(
            table_stats_reply(2, false, &many),
            "OFPST_TABLE reply (OF1.3) (xid=0x2):\n  table 0:\n    active=3, lookup=10, matched=5\n\n  table 1:\n    active=0, lookup=10, matched=5\n\n  tables 2...253: ditto"
        );
    }

    #[allow(clippy::too_many_arguments)] // a PortDesc literal, field by field
    fn port(
        no: u32,
        name: &str,
        mac: u8,
        config: u32,
        state: u32,
        curr: u32,
        adv: u32,
        speed: u32,
        max: u32,
    ) -> PortDesc {
        PortDesc {
            port_no: no,
            hw_addr: MacAddr([2, 0, 0, 0, 0, mac]),
            name: name.into(),
            config,
            state,
            curr,
            advertised: adv,
            supported: adv,
            peer: 0,
            curr_speed: speed,
            max_speed: max,
        }
    }

    #[test]
    fn port_desc_sorted_by_number_with_ovs_labels() {
        let ports = [
            port(
                OFPP_LOCAL,
                "br0",
                0xfe,
                OFPPC_PORT_DOWN,
                OFPPS_LINK_DOWN,
                0,
                0,
                0,
                0,
            ),
            port(
                2,
                "tap2",
                2,
                0,
                OFPPS_LIVE,
                OFPPF_10GB_FD | OFPPF_COPPER,
                OFPPF_1GB_FD | OFPPF_AUTONEG,
                10_000_000,
                1_000_000,
            ),
            port(
                1,
                "tap1",
                1,
                OFPPC_NO_FWD | OFPPC_NO_PACKET_IN,
                OFPPS_BLOCKED,
                OFPPF_10MB_HD,
                OFPPF_OTHER,
                10_000,
                0,
            ),
            port(0xffffff00, "weird", 3, 0, 0, 0, 0, 0, 0),
        ];
        assert_eq!(
            port_desc_reply(3, false, &ports),
            "OFPST_PORT_DESC reply (OF1.3) (xid=0x3):
 1(tap1): addr:02:00:00:00:00:01
     config:     NO_FWD NO_PACKET_IN
     state:      BLOCKED
     current:    10MB-HD
     advertised: OTHER
     supported:  OTHER
     speed: 10 Mbps now, 0 Mbps max
 2(tap2): addr:02:00:00:00:00:02
     config:     0
     state:      LIVE
     current:    10GB-FD COPPER
     advertised: 1GB-FD AUTO_NEG
     supported:  1GB-FD AUTO_NEG
     speed: 10000 Mbps now, 1000 Mbps max
 65280(weird): addr:02:00:00:00:00:03
     config:     0
     state:      0
     speed: 0 Mbps now, 0 Mbps max
 LOCAL(br0): addr:02:00:00:00:00:fe
     config:     PORT_DOWN
     state:      LINK_DOWN
     speed: 0 Mbps now, 0 Mbps max"
        );
        assert_eq!(
            port_desc_reply(2, true, &[]),
            "OFPST_PORT_DESC reply (OF1.3) (xid=0x2): flags=[more]"
        );
    }

    fn ps(no: u32, rx: u64, sec: u32, nsec: u32) -> PortStats {
        PortStats {
            port_no: no,
            rx_packets: rx,
            tx_packets: 5,
            rx_bytes: 6,
            tx_bytes: 7,
            rx_dropped: 1,
            tx_dropped: 2,
            rx_errors: 3,
            tx_errors: 4,
            rx_frame_err: 5,
            rx_over_err: 6,
            rx_crc_err: 7,
            collisions: 8,
            duration_sec: sec,
            duration_nsec: nsec,
        }
    }

    #[test]
    fn port_stats_unknown_counters_and_durations() {
        assert_eq!(
            port_stats_reply(
                2,
                false,
                &[
                    ps(12, u64::MAX, 5, 1),
                    ps(123, 1, u32::MAX, u32::MAX),
                    ps(OFPP_LOCAL, 0, 42, 250_000_000),
                    ps(3, 0, 7, 0)
                ]
            ),
            "OFPST_PORT reply (OF1.3) (xid=0x2): 4 ports
  port 12: rx pkts=?, bytes=6, drop=1, errs=3, frame=5, over=6, crc=7
           tx pkts=5, bytes=7, drop=2, errs=4, coll=8
           duration=5.000000001s
  port 123: rx pkts=1, bytes=6, drop=1, errs=3, frame=5, over=6, crc=7
           tx pkts=5, bytes=7, drop=2, errs=4, coll=8
  port LOCAL: rx pkts=0, bytes=6, drop=1, errs=3, frame=5, over=6, crc=7
           tx pkts=5, bytes=7, drop=2, errs=4, coll=8
           duration=42.250s
  port  3: rx pkts=0, bytes=6, drop=1, errs=3, frame=5, over=6, crc=7
           tx pkts=5, bytes=7, drop=2, errs=4, coll=8
           duration=7s"
        );
        assert_eq!(
            port_stats_reply(2, false, &[]),
            "OFPST_PORT reply (OF1.3) (xid=0x2): 0 ports"
        );
    }

    #[test]
    fn features_reply_lines() {
        let mut f = FeaturesReply {
            datapath_id: 0x1234,
            n_buffers: 256,
            n_tables: 254,
            auxiliary_id: 0,
            capabilities: 0x4f | 0x100,
            reserved: 0,
        };
        assert_eq!(
            features_reply(2, &f),
            "OFPT_FEATURES_REPLY (OF1.3) (xid=0x2): dpid:0000000000001234\nn_tables:254, n_buffers:256\ncapabilities: FLOW_STATS TABLE_STATS PORT_STATS GROUP_STATS QUEUE_STATS PORT_BLOCKED"
        );
        f.capabilities = 0;
        f.auxiliary_id = 1;
        assert_eq!(
            features_reply(2, &f),
            "OFPT_FEATURES_REPLY (OF1.3) (xid=0x2): dpid:0000000000001234\nn_tables:254, n_buffers:256, auxiliary_id:1\ncapabilities: 0"
        );
    }
}
