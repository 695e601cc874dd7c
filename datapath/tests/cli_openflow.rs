//! End to end: the built `tapflow` binary against a fake OpenFlow 1.3 switch
//! (`fake_switch/`) over `unix:PATH`. The expected texts are what Open
//! vSwitch 3.1's `ovs-ofctl -O OpenFlow13` printed against the same fake
//! switch (xids aside: ovs-ofctl opens extra connections); when ovs-ofctl
//! is installed, `ovs_ofctl_prints_the_same` checks that live.

mod fake_switch;

use fake_switch::{FakeSwitch, REJECTED_PRIORITY};
use ofproto::consts::*;
use ofproto::message::FlowMod;
use ofproto::multipart::MultipartRequestBody;
use ofproto::text::{parse_flow, FlowCommand};
use ofproto::{Message, OFP_VERSION};
use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn finish(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn tapflow_cmd(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tapflow"));
    c.args(args).env_remove("TAPFLOW_RUNDIR");
    c
}

/// Runs `tapflow ARGS…` (stdout is a pipe, as in scripts).
fn tapflow(args: &[&str]) -> Run {
    finish(tapflow_cmd(args).stdin(Stdio::null()).output().unwrap())
}

fn tapflow_stdin(args: &[&str], input: &str) -> Run {
    let mut child = tapflow_cmd(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    finish(child.wait_with_output().unwrap())
}

fn ok(r: &Run) -> &str {
    assert_eq!(
        r.code, 0,
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        r.code, r.stdout, r.stderr
    );
    &r.stdout
}

fn flow_mod(text: &str, cmd: FlowCommand) -> FlowMod {
    parse_flow(text, cmd).unwrap()
}

const SHOW: &str = "\
OFPT_FEATURES_REPLY (OF1.3) (xid=0x2): dpid:00005e0053000001
n_tables:254, n_buffers:0
capabilities: FLOW_STATS TABLE_STATS PORT_STATS GROUP_STATS
OFPST_PORT_DESC reply (OF1.3) (xid=0x3):
 1(tap1): addr:02:00:00:00:00:01
     config:     0
     state:      0
     current:    10GB-FD COPPER
     speed: 10000 Mbps now, 0 Mbps max
 2(tap2): addr:02:00:00:00:00:02
     config:     0
     state:      LIVE
     current:    10GB-FD COPPER
     speed: 10000 Mbps now, 0 Mbps max
 LOCAL(br0): addr:02:00:00:00:00:fe
     config:     PORT_DOWN
     state:      LINK_DOWN
     speed: 0 Mbps now, 0 Mbps max
OFPT_GET_CONFIG_REPLY (OF1.3) (xid=0x4): frags=normal miss_send_len=0
";

const DUMP_FLOWS: &str = "\
OFPST_FLOW reply (OF1.3) (xid=0x2): flags=[more]
 cookie=0x0, duration=12.345s, table=0, n_packets=3, n_bytes=126, priority=100,arp,arp_tpa=10.10.10.12 actions=output:2
 cookie=0x0, duration=100s, table=0, n_packets=7, n_bytes=686, priority=0 actions=drop
OFPST_FLOW reply (OF1.3) (xid=0x2):
 cookie=0x5, duration=5.001s, table=1, n_packets=0, n_bytes=0, idle_timeout=30, priority=200,ip,nw_dst=10.10.10.12 actions=output:2
 cookie=0x0, duration=1.500s, table=0, n_packets=10, n_bytes=980, priority=300,icmp,nw_dst=10.10.10.11 actions=output:1
 cookie=0x0, duration=12.345s, table=0, n_packets=4, n_bytes=168, priority=100,arp,arp_tpa=10.10.10.11 actions=output:1
";

const DUMP_FLOWS_SORT: &str = "\
\x20cookie=0x0, duration=100s, table=0, n_packets=7, n_bytes=686, priority=0 actions=drop
 cookie=0x0, duration=12.345s, table=0, n_packets=3, n_bytes=126, priority=100,arp,arp_tpa=10.10.10.12 actions=output:2
 cookie=0x0, duration=12.345s, table=0, n_packets=4, n_bytes=168, priority=100,arp,arp_tpa=10.10.10.11 actions=output:1
 cookie=0x5, duration=5.001s, table=1, n_packets=0, n_bytes=0, idle_timeout=30, priority=200,ip,nw_dst=10.10.10.12 actions=output:2
 cookie=0x0, duration=1.500s, table=0, n_packets=10, n_bytes=980, priority=300,icmp,nw_dst=10.10.10.11 actions=output:1
";

const DUMP_FLOWS_RSORT: &str = "\
\x20cookie=0x0, duration=1.500s, table=0, n_packets=10, n_bytes=980, priority=300,icmp,nw_dst=10.10.10.11 actions=output:1
 cookie=0x5, duration=5.001s, table=1, n_packets=0, n_bytes=0, idle_timeout=30, priority=200,ip,nw_dst=10.10.10.12 actions=output:2
 cookie=0x0, duration=12.345s, table=0, n_packets=3, n_bytes=126, priority=100,arp,arp_tpa=10.10.10.12 actions=output:2
 cookie=0x0, duration=12.345s, table=0, n_packets=4, n_bytes=168, priority=100,arp,arp_tpa=10.10.10.11 actions=output:1
 cookie=0x0, duration=100s, table=0, n_packets=7, n_bytes=686, priority=0 actions=drop
";

const DUMP_FLOWS_NO_STATS: &str = "\
\x20priority=100,arp,arp_tpa=10.10.10.12 actions=output:2
 priority=0 actions=drop
 cookie=0x5, table=1, idle_timeout=30, priority=200,ip,nw_dst=10.10.10.12 actions=output:2
 priority=300,icmp,nw_dst=10.10.10.11 actions=output:1
 priority=100,arp,arp_tpa=10.10.10.11 actions=output:1
";

const DUMP_FLOWS_SORT_NW_DST: &str = "\
\x20cookie=0x0, duration=1.500s, table=0, n_packets=10, n_bytes=980, priority=300,icmp,nw_dst=10.10.10.11 actions=output:1
 cookie=0x5, duration=5.001s, table=1, n_packets=0, n_bytes=0, idle_timeout=30, priority=200,ip,nw_dst=10.10.10.12 actions=output:2
 cookie=0x0, duration=100s, table=0, n_packets=7, n_bytes=686, priority=0 actions=drop
 cookie=0x0, duration=12.345s, table=0, n_packets=4, n_bytes=168, priority=100,arp,arp_tpa=10.10.10.11 actions=output:1
 cookie=0x0, duration=12.345s, table=0, n_packets=3, n_bytes=126, priority=100,arp,arp_tpa=10.10.10.12 actions=output:2
";

const DUMP_PORTS: &str = "\
OFPST_PORT reply (OF1.3) (xid=0x2): 3 ports
  port LOCAL: rx pkts=0, bytes=0, drop=0, errs=0, frame=0, over=0, crc=0
           tx pkts=0, bytes=0, drop=0, errs=0, coll=0
           duration=42.250s
  port  1: rx pkts=10, bytes=1000, drop=1, errs=0, frame=0, over=0, crc=0
           tx pkts=20, bytes=2000, drop=0, errs=0, coll=0
           duration=42.250s
  port  2: rx pkts=20, bytes=2000, drop=2, errs=0, frame=0, over=0, crc=0
           tx pkts=40, bytes=4000, drop=0, errs=0, coll=0
           duration=42.250s
";

const DUMP_TABLES: &str = "\
OFPST_TABLE reply (OF1.3) (xid=0x2):
  table 0:
    active=2, lookup=100, matched=90

  table 1:
    active=3, lookup=0, matched=0

  table 2:
    active=0, lookup=0, matched=0

  table 3: ditto
";

#[test]
fn show_prints_features_ports_and_config_as_ovs_ofctl() {
    let sw = FakeSwitch::start();
    assert_eq!(ok(&tapflow(&["show", &sw.target()])), SHOW);
    assert_eq!(
        sw.kinds(),
        [
            "OFPT_FEATURES_REQUEST",
            "OFPST_PORT_DESC request",
            "OFPT_GET_CONFIG_REQUEST"
        ]
    );
    // `-O OpenFlow13` is accepted (habit), before or after the verb.
    assert_eq!(
        ok(&tapflow(&["-O", "OpenFlow13", "show", &sw.target()])),
        SHOW
    );
    assert_eq!(
        ok(&tapflow(&["show", &sw.target(), "-O", "OpenFlow13"])),
        SHOW
    );
}

#[test]
fn bridge_name_target_uses_the_mgmt_socket_in_the_rundir() {
    let sw = FakeSwitch::start(); // listens on DIR/br0.mgmt
    let dir = sw.dir().to_str().unwrap().to_string();
    assert_eq!(ok(&tapflow(&["--rundir", &dir, "show", "br0"])), SHOW);
    let r = finish(
        tapflow_cmd(&["show", "br0"])
            .env("TAPFLOW_RUNDIR", &dir)
            .output()
            .unwrap(),
    );
    assert_eq!(ok(&r), SHOW);
    // A bridge with no socket: exit 1, and the message says where we looked.
    let r = tapflow(&["--rundir", &dir, "dump-flows", "br9"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("{dir}/br9.mgmt does not exist")),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty());
}

#[test]
fn add_flow_sends_the_flow_mod_then_a_barrier_and_prints_nothing() {
    let sw = FakeSwitch::start();
    let flow = "priority=100,arp,arp_tpa=10.10.10.12 actions=output:2";
    let r = tapflow(&["add-flow", &sw.target(), flow]);
    assert_eq!(ok(&r), "");
    assert_eq!(r.stderr, "");
    assert_eq!(sw.flow_mods(), [flow_mod(flow, FlowCommand::Add)]);
    assert_eq!(sw.kinds(), ["OFPT_FLOW_MOD", "OFPT_BARRIER_REQUEST"]);
}

#[test]
fn add_flow_refused_by_the_switch_prints_the_error_as_ovs_ofctl_and_exits_1() {
    let sw = FakeSwitch::start();
    let flow = format!("priority={REJECTED_PRIORITY},ip actions=output:1");
    let r = tapflow(&["add-flow", &sw.target(), &flow]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        "OFPT_ERROR (OF1.3) (xid=0x2): OFPBMC_BAD_PREREQ\n\
         OFPT_FLOW_MOD (OF1.3) (xid=0x2): ADD priority=666,ip actions=output:1\n"
    );
    // The xid printed is the FLOW_MOD's on the wire.
    let fm_xid = sw
        .received_with_xids()
        .into_iter()
        .find(|(_, m)| matches!(m, Message::FlowMod(_)))
        .unwrap()
        .0;
    assert_eq!(fm_xid, 2);
}

#[test]
fn add_flows_sends_every_flow_then_one_barrier_and_reports_each_error() {
    let sw = FakeSwitch::start();
    let file = sw.dir().join("flows.txt");
    std::fs::write(
        &file,
        "# the seed's ARP flows\n\
         priority=100,arp,arp_tpa=10.10.10.12 actions=output:2\n\
         \n\
         priority=100,arp,arp_tpa=10.10.10.11 actions=output:1\n\
         delete_strict priority=5,ip\n",
    )
    .unwrap();
    let r = tapflow(&["add-flows", &sw.target(), file.to_str().unwrap()]);
    assert_eq!(ok(&r), "");
    assert_eq!(
        sw.kinds(),
        [
            "OFPT_FLOW_MOD",
            "OFPT_FLOW_MOD",
            "OFPT_FLOW_MOD",
            "OFPT_BARRIER_REQUEST"
        ]
    );
    let fms = sw.flow_mods();
    assert_eq!(
        fms[1],
        flow_mod(
            "priority=100,arp,arp_tpa=10.10.10.11 actions=output:1",
            FlowCommand::Add
        )
    );
    assert_eq!(fms[2].command, OFPFC_DELETE_STRICT);

    // From stdin, with two refused flows: both errors, exit 1, the rest sent.
    sw.clear();
    let r = tapflow_stdin(
        &["add-flows", &sw.target(), "-"],
        "priority=1,ip actions=drop\npriority=666,ip actions=drop\npriority=666,arp actions=drop\npriority=2,ip actions=drop\n",
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        "OFPT_ERROR (OF1.3) (xid=0x3): OFPBMC_BAD_PREREQ\n\
         OFPT_FLOW_MOD (OF1.3) (xid=0x3): ADD priority=666,ip actions=drop\n\
         OFPT_ERROR (OF1.3) (xid=0x4): OFPBMC_BAD_PREREQ\n\
         OFPT_FLOW_MOD (OF1.3) (xid=0x4): ADD priority=666,arp actions=drop\n"
    );
    assert_eq!(sw.flow_mods().len(), 4);

    // `add-flow TARGET -` reads flows from stdin too.
    sw.clear();
    let r = tapflow_stdin(
        &["add-flow", &sw.target(), "-"],
        "ip actions=drop\narp actions=drop\n",
    );
    assert_eq!(ok(&r), "");
    assert_eq!(sw.flow_mods().len(), 2);
}

#[test]
fn add_flows_syntax_error_names_the_line_and_sends_nothing() {
    let sw = FakeSwitch::start();
    let r = tapflow_stdin(
        &["add-flows", &sw.target(), "-"],
        "ip actions=drop\nip,nw_dst=10.0.0.300 actions=drop\n",
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("tapflow: stdin: line 2: "),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("position 3"), "{}", r.stderr);
    assert!(sw.received().is_empty());
}

#[test]
fn del_flows_strict_sends_delete_strict_and_plain_del_flows_deletes_everything() {
    let sw = FakeSwitch::start();
    ok(&tapflow(&[
        "--strict",
        "del-flows",
        &sw.target(),
        "priority=10,ip",
    ]));
    ok(&tapflow(&[
        "del-flows",
        "--strict",
        &sw.target(),
        "priority=11,ip",
    ]));
    ok(&tapflow(&["del-flows", &sw.target(), "ip"]));
    ok(&tapflow(&["del-flows", &sw.target()]));
    let fms = sw.flow_mods();
    assert_eq!(fms.len(), 4);
    assert_eq!(
        fms[0],
        flow_mod("priority=10,ip", FlowCommand::DeleteStrict)
    );
    assert_eq!(
        (fms[0].command, fms[0].priority, fms[0].table_id),
        (OFPFC_DELETE_STRICT, 10, OFPTT_ALL)
    );
    assert_eq!((fms[1].command, fms[1].priority), (OFPFC_DELETE_STRICT, 11));
    assert_eq!(fms[2], flow_mod("ip", FlowCommand::Delete));
    assert_eq!(fms[3].command, OFPFC_DELETE);
    assert_eq!(fms[3].table_id, OFPTT_ALL);
    assert!(fms[3].match_.fields.is_empty());
    // A non-strict delete cannot select by priority (as ovs-ofctl): usage error.
    let r = tapflow(&["del-flows", &sw.target(), "priority=10,ip"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--strict"), "{}", r.stderr);
}

#[test]
fn mod_flows_sends_modify_or_modify_strict() {
    let sw = FakeSwitch::start();
    ok(&tapflow(&["mod-flows", &sw.target(), "ip actions=drop"]));
    ok(&tapflow(&[
        "mod-flows",
        "--strict",
        &sw.target(),
        "priority=5,ip actions=output:3",
    ]));
    let fms = sw.flow_mods();
    assert_eq!(fms[0], flow_mod("ip actions=drop", FlowCommand::Modify));
    assert_eq!(
        fms[1],
        flow_mod("priority=5,ip actions=output:3", FlowCommand::ModifyStrict)
    );
    assert_eq!(fms[1].command, OFPFC_MODIFY_STRICT);
}

#[test]
fn dump_flows_prints_each_reply_part_with_its_header() {
    let sw = FakeSwitch::start();
    assert_eq!(ok(&tapflow(&["dump-flows", &sw.target()])), DUMP_FLOWS);
    assert_eq!(
        ok(&tapflow(&["--no-names", "dump-flows", &sw.target()])),
        DUMP_FLOWS
    );
    // The filter goes to the switch.
    sw.clear();
    let out = ok(&tapflow(&[
        "dump-flows",
        &sw.target(),
        "table=1,ip,nw_dst=10.10.10.12",
    ]))
    .to_string();
    assert!(
        out.starts_with("OFPST_FLOW reply (OF1.3) (xid=0x2): flags=[more]\n cookie=0x5,"),
        "{out}"
    );
    let req = sw
        .received()
        .into_iter()
        .find_map(|m| match m {
            Message::MultipartRequest(r) => Some(r),
            _ => None,
        })
        .unwrap();
    let MultipartRequestBody::Flow(f) = req.body else {
        panic!("{req:?}")
    };
    assert_eq!(f.table_id, 1);
    assert_eq!(
        f.match_,
        flow_mod("ip,nw_dst=10.10.10.12", FlowCommand::Delete).match_
    );
}

#[test]
fn dump_flows_no_stats_sort_rsort_and_names() {
    let sw = FakeSwitch::start();
    let t = sw.target();
    assert_eq!(
        ok(&tapflow(&["dump-flows", "--no-stats", &t])),
        DUMP_FLOWS_NO_STATS
    );
    assert_eq!(ok(&tapflow(&["--sort", "dump-flows", &t])), DUMP_FLOWS_SORT);
    assert_eq!(
        ok(&tapflow(&["dump-flows", &t, "--sort=priority"])),
        DUMP_FLOWS_SORT
    );
    assert_eq!(
        ok(&tapflow(&["--rsort", "dump-flows", &t])),
        DUMP_FLOWS_RSORT
    );
    assert_eq!(
        ok(&tapflow(&["--sort=nw_dst", "dump-flows", &t])),
        DUMP_FLOWS_SORT_NW_DST
    );
    let sorted_no_stats: String =
        ok(&tapflow(&["--sort", "--no-stats", "dump-flows", &t])).to_string();
    assert_eq!(
        sorted_no_stats.lines().next(),
        Some(" priority=0 actions=drop")
    );
    // --names takes ovs-ofctl's header-less path; we still print numbers.
    let named = ok(&tapflow(&["--names", "dump-flows", &t])).to_string();
    let expected: String = DUMP_FLOWS
        .lines()
        .filter(|l| !l.starts_with("OFPST_FLOW"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(named, expected);
    // The output of --no-stats reads back as flows.
    for line in DUMP_FLOWS_NO_STATS.lines() {
        parse_flow(line, FlowCommand::Add).unwrap();
    }
    let r = tapflow(&["--sort=no_such_field", "dump-flows", &t]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("unknown field no_such_field"),
        "{}",
        r.stderr
    );
}

#[test]
fn dump_ports_ports_desc_and_tables() {
    let sw = FakeSwitch::start();
    let t = sw.target();
    assert_eq!(ok(&tapflow(&["dump-ports", &t])), DUMP_PORTS);
    let one = ok(&tapflow(&["dump-ports", &t, "1"])).to_string();
    assert_eq!(
        one,
        "OFPST_PORT reply (OF1.3) (xid=0x2): 1 ports\n\
         \x20 port  1: rx pkts=10, bytes=1000, drop=1, errs=0, frame=0, over=0, crc=0\n\
         \x20          tx pkts=20, bytes=2000, drop=0, errs=0, coll=0\n\
         \x20          duration=42.250s\n"
    );
    // A port name is looked up in the port descriptions first.
    let by_name = ok(&tapflow(&["dump-ports", &t, "tap1"])).to_string();
    assert_eq!(by_name, one.replace("xid=0x2", "xid=0x3"));
    assert!(ok(&tapflow(&["dump-ports", &t, "LOCAL"])).contains("  port LOCAL: rx pkts=0,"));
    let r = tapflow(&["dump-ports", &t, "nosuch"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no port named"), "{}", r.stderr);

    let desc = ok(&tapflow(&["dump-ports-desc", &t])).to_string();
    let show_ports: String = SHOW
        .lines()
        .skip(3)
        .take(15)
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(desc, show_ports.replace("xid=0x3", "xid=0x2"));
    let tap2 = ok(&tapflow(&["dump-ports-desc", &t, "2"])).to_string();
    assert_eq!(tap2.lines().count(), 6, "{tap2}");
    assert!(tap2.contains(" 2(tap2): addr:02:00:00:00:00:02"));

    assert_eq!(ok(&tapflow(&["dump-tables", &t])), DUMP_TABLES);
}

#[test]
fn packet_out_old_and_new_forms() {
    let sw = FakeSwitch::start();
    let t = sw.target();
    let pkt = "0000000000020000000000010800450000140001000040017cd20a0a0a0b0a0a0a0c";
    ok(&tapflow(&["packet-out", &t, "1", "output:2", pkt, pkt]));
    ok(&tapflow(&[
        "packet-out",
        &t,
        &format!("in_port=LOCAL packet={pkt} actions=output:2,output:3"),
    ]));
    let pos: Vec<_> = sw
        .received()
        .into_iter()
        .filter_map(|m| match m {
            Message::PacketOut(p) => Some(p),
            _ => None,
        })
        .collect();
    assert_eq!(pos.len(), 3);
    assert_eq!(pos[0].in_port, 1);
    assert_eq!(pos[0].buffer_id, OFP_NO_BUFFER);
    assert_eq!(pos[0].data.len(), 34);
    assert_eq!(pos[2].in_port, OFPP_LOCAL);
    assert_eq!(pos[2].actions.len(), 2);
    let r = tapflow(&["packet-out", &t, "in_port=1 actions=output:2"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("packet=HEX"), "{}", r.stderr);
}

#[test]
fn usage_errors_exit_2_and_send_nothing() {
    let sw = FakeSwitch::start();
    let t = sw.target();
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "add-flow",
                &t,
                "priority=5,ip,nw_dst=10.0.0.1,foo=3 actions=drop",
            ],
            "unknown keyword foo at position 30",
        ),
        (&["add-flow", &t, "ip actions=output:ANY"], "bad flow"),
        (&["add-flow", &t], "<FLOW>"),
        (&["-O", "OpenFlow10", "show", &t], "OpenFlow 1.3 only"),
        (&["--protocols=OpenFlow14", "show", &t], "OpenFlow 1.3 only"),
        (&["frobnicate", &t], "frobnicate"),
        (&["dump-flows", &t, "ip,nw_dst=1.2.3"], "bad flow"),
        (&["show", "ptcp:6653"], "listening target"),
        (
            &["add-port", &t, "tap3"],
            "add-port needs a tapflowd bridge name",
        ),
        (
            &["add-port", "tcp:127.0.0.1:6653", "tap3"],
            "tcp:127.0.0.1:6653 is an OpenFlow target",
        ),
        (
            &["trace", &t, "in_port=1,icmp"],
            "trace needs a tapflowd bridge name",
        ),
        (&["--timeout", "-1", "show", &t], ""),
    ];
    for (args, want) in cases {
        let r = tapflow(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(want), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
    }
    assert!(sw.received().is_empty(), "{:?}", sw.kinds());
}

#[test]
fn timeout_gives_up_on_a_switch_that_never_answers() {
    // A "switch" that says HELLO and then nothing.
    let dir = std::env::temp_dir().join(format!("tapflow-cli-silent-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let sock = dir.join("silent.sock");
    let l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { return };
            std::thread::spawn(move || {
                let hello = Message::Hello(Default::default()).encode_to_vec(1);
                let _ = c.write_all(&hello);
                let mut buf = [0u8; 4096];
                while matches!(c.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
    });
    let t0 = Instant::now();
    let r = tapflow(&[
        "--timeout",
        "1",
        "dump-flows",
        &format!("unix:{}", sock.display()),
    ]);
    let took = t0.elapsed();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("timed out"), "{}", r.stderr);
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

// ------------------------------------------------------- the real ovs-ofctl

fn ovs_ofctl(args: &[&str]) -> Option<Run> {
    let out = Command::new("ovs-ofctl")
        .arg("-O")
        .arg("OpenFlow13")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    Some(finish(out))
}

/// `(xid=0x…)` → `(xid=X)`: ovs-ofctl opens extra connections (for table
/// and port names), so its xids run ahead of ours.
fn without_xids(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("(xid=0x") {
        out += &rest[..i];
        let after = &rest[i + 7..];
        let end = after.find(')').unwrap_or(after.len());
        out += "(xid=X";
        rest = &after[end..];
    }
    out + rest
}

/// The same fake switch, asked by ovs-ofctl and by tapflow: the same text.
/// Skipped, with a notice, when ovs-ofctl is not installed
/// (`apt-get install openvswitch-common`).
#[test]
fn ovs_ofctl_prints_the_same() {
    if ovs_ofctl(&["--version"]).is_none() {
        eprintln!("NOTICE: ovs-ofctl not installed; skipping ovs_ofctl_prints_the_same");
        return;
    }
    let sw = FakeSwitch::start();
    let t = sw.target();
    let cases: &[&[&str]] = &[
        &["show", &t],
        &["dump-flows", &t],
        &["--no-names", "dump-flows", &t],
        &["--no-stats", "dump-flows", &t],
        &["--sort", "dump-flows", &t],
        &["--rsort", "dump-flows", &t],
        &["--sort=nw_dst", "dump-flows", &t],
        &["--rsort=arp_tpa", "dump-flows", &t],
        &["--sort", "--no-stats", "dump-flows", &t],
        &["dump-flows", &t, "table=1"],
        &["dump-ports", &t],
        &["dump-ports", &t, "2"],
        &["dump-ports-desc", &t],
        &["dump-tables", &t],
        &[
            "add-flow",
            &t,
            "priority=666,tcp,nw_src=1.2.3.4,tp_dst=80 actions=output:1,mod_vlan_vid:5,output:3",
        ],
    ];
    for args in cases {
        let theirs = ovs_ofctl(args).unwrap();
        let ours = tapflow(args);
        assert_eq!(
            ours.code, theirs.code,
            "{args:?}\nours: {}\ntheirs: {}",
            ours.stderr, theirs.stderr
        );
        assert_eq!(
            without_xids(&ours.stdout),
            without_xids(&theirs.stdout),
            "{args:?}"
        );
        assert_eq!(
            without_xids(&ours.stderr),
            without_xids(&theirs.stderr),
            "{args:?}"
        );
    }
    // ovs-ofctl's add-flows stops at the first error; we report them all.
    let file = sw.dir().join("ff");
    std::fs::write(
        &file,
        "priority=1,ip actions=drop\npriority=666,ip actions=drop\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let theirs = ovs_ofctl(&["add-flows", &t, f]).unwrap();
    let ours = tapflow(&["add-flows", &t, f]);
    assert_eq!(
        (ours.code, without_xids(&ours.stderr)),
        (theirs.code, without_xids(&theirs.stderr))
    );
}

/// Not a test: serves the fake switch at `$FAKE_SWITCH_SOCK` for
/// `$FAKE_SWITCH_SECS` seconds (default 600), printing what it receives, to
/// compare `tapflow` and `ovs-ofctl` by hand:
/// `FAKE_SWITCH_SOCK=/tmp/fs.sock cargo test -p datapath --test cli_openflow -- --ignored serve_fake_switch --nocapture`.
#[test]
#[ignore]
fn serve_fake_switch() {
    let sock =
        std::path::PathBuf::from(std::env::var("FAKE_SWITCH_SOCK").expect("FAKE_SWITCH_SOCK"));
    let secs: u64 = std::env::var("FAKE_SWITCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let dir = std::env::temp_dir().join(format!("tapflow-fake-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sw = FakeSwitch::start_at(dir, sock);
    eprintln!("fake switch at {}", sw.target());
    for _ in 0..secs * 10 {
        std::thread::sleep(Duration::from_millis(100));
        for (xid, m) in sw.received_with_xids() {
            eprintln!(
                "got: {}",
                ofproto::print::format_message(OFP_VERSION, xid, &m)
            );
        }
        sw.clear();
    }
}
