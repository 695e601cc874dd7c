//! Ports as ovs-ofctl 3.1 prints them: a port description
//! (`ofp_print_phy_port`) in PORT_STATUS and in PORT_DESC replies (sorted by
//! port number), PORT_MOD, and the PORT_STATS reply.

use super::{bit_names, known_bits, port_name};
use crate::consts::*;
use crate::message::{PortMod, PortStatus};
use crate::multipart::PortStats;
use crate::port::PortDesc;
use crate::text::format_duration;
use std::fmt::{self, Write};

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

/// The PORT_STATUS reasons ovs-ofctl decodes (others: `NXBRC_BAD_REASON`).
pub(super) fn known_reason(reason: u8) -> bool {
    matches!(reason, OFPPR_ADD | OFPPR_DELETE | OFPPR_MODIFY)
}

/// ` ADD: 1(tap1): addr:…` and the port's lines.
pub(super) fn write_port_status(s: &mut String, p: &PortStatus) -> fmt::Result {
    let reason = match p.reason {
        OFPPR_ADD => "ADD",
        OFPPR_DELETE => "DEL",
        OFPPR_MODIFY => "MOD",
        _ => "UNKNOWN",
    };
    write!(s, " {reason}:")?;
    write_port_desc(s, &p.desc)
}

/// The name as ovs-ofctl shows it: up to the first byte that is not
/// printable ASCII (it prints in the C locale), so `tap\u{1}x` is `tap` and
/// `café` is `caf`.
fn printable_name(name: &str) -> &str {
    let end = name
        .find(|c: char| !(' '..='~').contains(&c))
        .unwrap_or(name.len());
    &name[..end]
}

/// One port (lines start with a space; no final newline):
///
/// ```text
///  1(tap1): addr:02:00:00:00:00:01
///      config:     0
///      state:      LIVE
///      current:    10GB-FD COPPER
///      speed: 10000 Mbps now, 0 Mbps max
/// ```
///
/// `current:`, `advertised:`, `supported:`, `peer:` only when they have a
/// bit ovs-ofctl knows.
pub(super) fn write_port_desc(s: &mut String, p: &PortDesc) -> fmt::Result {
    write!(
        s,
        " {}({}): addr:{}\n     config:     {}\n     state:      {}\n",
        port_name(p.port_no),
        printable_name(&p.name),
        p.hw_addr,
        bit_names(p.config, PORT_CONFIG),
        bit_names(p.state, PORT_STATE),
    )?;
    for (label, v) in [
        ("current:    ", p.curr),
        ("advertised: ", p.advertised),
        ("supported:  ", p.supported),
        ("peer:       ", p.peer),
    ] {
        if known_bits(v, PORT_FEATURES) != 0 {
            writeln!(s, "     {label}{}", bit_names(v, PORT_FEATURES))?;
        }
    }
    write!(
        s,
        "     speed: {} Mbps now, {} Mbps max",
        p.curr_speed / 1000,
        p.max_speed / 1000
    )
}

/// The body of a PORT_DESC reply: the ports sorted by number, one block each.
pub(super) fn write_port_desc_reply(s: &mut String, ports: &[PortDesc]) -> fmt::Result {
    let mut sorted: Vec<&PortDesc> = ports.iter().collect();
    sorted.sort_by_key(|p| p.port_no);
    for p in sorted {
        s.push('\n');
        write_port_desc(s, p)?;
    }
    Ok(())
}

/// ` port: 1: addr:…` then config, mask and advertise (`UNCHANGED` for 0).
pub(super) fn write_port_mod(s: &mut String, p: &PortMod) -> fmt::Result {
    write!(
        s,
        " port: {}: addr:{}\n     config: {}\n     mask:   {}\n     advertise: ",
        port_name(p.port_no),
        p.hw_addr,
        bit_names(p.config, PORT_CONFIG),
        bit_names(p.mask, PORT_CONFIG),
    )?;
    if known_bits(p.advertise, PORT_FEATURES) == 0 {
        s.push_str("UNCHANGED");
    } else {
        s.push_str(&bit_names(p.advertise, PORT_FEATURES));
    }
    Ok(())
}

/// `label=value` and its separator; `UINT64_MAX` (not counted) is `?`.
fn counter(s: &mut String, label: &str, v: u64, last: bool) -> fmt::Result {
    s.push_str(label);
    if v == u64::MAX {
        s.push('?');
    } else {
        write!(s, "{v}")?;
    }
    if !last {
        s.push_str(", ");
    }
    Ok(())
}

/// The body of a PORT_STATS reply: ` N ports`, then two lines per port and
/// a `duration=` line when the switch keeps one (not `UINT32_MAX`).
pub(super) fn write_port_stats_reply(s: &mut String, ports: &[PortStats]) -> fmt::Result {
    write!(s, " {} ports", ports.len())?;
    for p in ports {
        s.push_str("\n  port ");
        if p.port_no < 10 {
            s.push(' ');
        }
        s.push_str(&port_name(p.port_no));
        s.push_str(": rx ");
        counter(s, "pkts=", p.rx_packets, false)?;
        counter(s, "bytes=", p.rx_bytes, false)?;
        counter(s, "drop=", p.rx_dropped, false)?;
        counter(s, "errs=", p.rx_errors, false)?;
        counter(s, "frame=", p.rx_frame_err, false)?;
        counter(s, "over=", p.rx_over_err, false)?;
        counter(s, "crc=", p.rx_crc_err, true)?;
        s.push_str("\n           tx ");
        counter(s, "pkts=", p.tx_packets, false)?;
        counter(s, "bytes=", p.tx_bytes, false)?;
        counter(s, "drop=", p.tx_dropped, false)?;
        counter(s, "errs=", p.tx_errors, false)?;
        counter(s, "coll=", p.collisions, true)?;
        if p.duration_sec != u32::MAX {
            write!(
                s,
                "\n           duration={}",
                format_duration(p.duration_sec, p.duration_nsec)
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MacAddr;

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

    fn desc_reply(ports: &[PortDesc]) -> String {
        let mut s = String::new();
        write_port_desc_reply(&mut s, ports).unwrap();
        s
    }

    // The expected strings below are ovs-ofctl 3.1's `ofp-print` of the
    // same bodies (header line left out).

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
            port(OFPP_MAX, "weird", 3, 0, 0, 0, 0, 0, 0),
        ];
        assert_eq!(
            desc_reply(&ports),
            "
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
        assert_eq!(desc_reply(&[]), "");
    }

    #[test]
    fn port_names_stop_at_the_first_unprintable_byte_and_unknown_bits_are_dropped() {
        let mut p = port(
            1,
            "ab\u{1}cd",
            1,
            OFPPC_NO_RECV | OFPPC_NO_FWD | 0x8000_0000,
            OFPPS_BLOCKED | 0x100,
            OFPPF_10MB_HD | 0x8000_0000,
            0x1_0000,
            10_000,
            0,
        );
        p.supported = 0;
        p.peer = OFPPF_PAUSE_ASYM;
        assert_eq!(
            desc_reply(&[p, port(3, "café", 4, 0, 0, 0, 0, 0, 0)]),
            "
 1(ab): addr:02:00:00:00:00:01
     config:     NO_RECV NO_FWD
     state:      BLOCKED
     current:    10MB-HD
     peer:       AUTO_PAUSE_ASYM
     speed: 10 Mbps now, 0 Mbps max
 3(caf): addr:02:00:00:00:00:04
     config:     0
     state:      0
     speed: 0 Mbps now, 0 Mbps max"
        );
        assert_eq!(printable_name("sp ace~"), "sp ace~");
        assert_eq!(printable_name("\u{fffd}x"), "");
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
        let mut s = String::new();
        write_port_stats_reply(
            &mut s,
            &[
                ps(12, u64::MAX, 5, 1),
                ps(123, 1, u32::MAX, u32::MAX),
                ps(OFPP_LOCAL, 0, 42, 250_000_000),
                ps(3, 0, 7, 0),
            ],
        )
        .unwrap();
        assert_eq!(
            s,
            " 4 ports
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
        let mut s = String::new();
        write_port_stats_reply(&mut s, &[]).unwrap();
        assert_eq!(s, " 0 ports");
    }

    #[test]
    fn port_mod_names_bits_and_unchanged_advertise() {
        let pm = |port_no, config, mask, advertise| {
            let mut s = String::new();
            write_port_mod(
                &mut s,
                &PortMod {
                    port_no,
                    hw_addr: MacAddr([2, 0, 0, 0, 0, 1]),
                    config,
                    mask,
                    advertise,
                },
            )
            .unwrap();
            s
        };
        assert_eq!(
            pm(1, 0, 0, 0),
            " port: 1: addr:02:00:00:00:00:01\n     config: 0\n     mask:   0\n     advertise: UNCHANGED"
        );
        assert_eq!(
            pm(OFPP_MAX, 0x8000_0001, 0x8000_0065, 0x1_0000),
            " port: 65280: addr:02:00:00:00:00:01\n     config: PORT_DOWN\n     mask:   PORT_DOWN NO_RECV NO_FWD NO_PACKET_IN\n     advertise: UNCHANGED"
        );
        assert_eq!(
            pm(OFPP_LOCAL, OFPPC_NO_RECV, OFPPC_NO_RECV, 0x2808),
            " port: LOCAL: addr:02:00:00:00:00:01\n     config: NO_RECV\n     mask:   NO_RECV\n     advertise: 100MB-FD COPPER AUTO_NEG"
        );
    }
}
