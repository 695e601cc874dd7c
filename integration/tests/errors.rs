//! Every malformed or refused request gets the OFPT_ERROR the spec asks for,
//! with the request's xid and its first 64 bytes as data, and the connection
//! and forwarding carry on. Requests are written byte by byte where a
//! well-behaved encoder could not produce them.

use integration::of::{encode, header, hello_13, Of, RawOf};
use integration::{require_root, TwoVms, IP2};
use ofproto::action::Action;
use ofproto::consts::*;
use ofproto::error::*;
use ofproto::instruction::Instruction;
use ofproto::message::{FlowMod, PortMod};
use ofproto::Message;
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);

/// Sends `req` (xid inside it) and checks that exactly this error comes
/// back for it; a mismatch is recorded in `failures` (so one run reports
/// every wrong case), a dead connection panics.
fn expect_error(
    c: &mut RawOf,
    what: &str,
    req: &[u8],
    want: ErrorCode,
    failures: &mut Vec<String>,
) {
    let xid = u32::from_be_bytes([req[4], req[5], req[6], req[7]]);
    c.send(req).expect("send");
    let m = c
        .recv_xid(xid, 3 * SEC)
        .unwrap_or_else(|e| panic!("{what}: connection failed: {e}"));
    match m {
        None => failures.push(format!(
            "{what}: no answer (want {want}): accepted silently?"
        )),
        Some(m) => match m.error() {
            None => failures.push(format!(
                "{what}: answered with message type {} instead of {want}",
                m.msg_type
            )),
            Some((ty, code, data)) => {
                let got = ErrorCode::new(ty, code);
                let n = req.len().min(64);
                if got != want {
                    failures.push(format!("{what}: got {got} instead of {want}"));
                } else if data != &req[..n] {
                    failures.push(format!(
                        "{what}: error data is not the request's first {n} bytes: {data:02x?}"
                    ));
                } else if m.version != 4 {
                    failures.push(format!("{what}: error has version {}", m.version));
                }
            }
        },
    }
    // The connection carries on.
    assert!(
        c.echo(xid ^ 0x8000_0000),
        "{what}: connection no longer answers echo"
    );
}

/// A FLOW_MOD (ADD, table 0, priority 10) with raw match OXMs and
/// instructions, lengths computed.
fn raw_flow_mod(xid: u32, oxms: &[u8], instructions: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&[0; 16]); // cookie, cookie_mask
    b.extend_from_slice(&[0, OFPFC_ADD]);
    b.extend_from_slice(&[0, 0, 0, 0]); // idle, hard
    b.extend_from_slice(&10u16.to_be_bytes());
    b.extend_from_slice(&OFP_NO_BUFFER.to_be_bytes());
    b.extend_from_slice(&OFPP_ANY.to_be_bytes());
    b.extend_from_slice(&OFPG_ANY.to_be_bytes());
    b.extend_from_slice(&[0, 0, 0, 0]); // flags, pad
    let mlen = 4 + oxms.len();
    b.extend_from_slice(&1u16.to_be_bytes()); // OFPMT_OXM
    b.extend_from_slice(&(mlen as u16).to_be_bytes());
    b.extend_from_slice(oxms);
    b.resize(b.len() + (8 - mlen % 8) % 8, 0);
    b.extend_from_slice(instructions);
    let mut m = header(OFPT_FLOW_MOD, (8 + b.len()) as u16, xid);
    m.extend_from_slice(&b);
    m
}

/// apply_actions(output:PORT).
fn apply_output(port: u32) -> Vec<u8> {
    let mut i = vec![0, 4, 0, 24, 0, 0, 0, 0];
    i.extend_from_slice(&[0, 0, 0, 16]);
    i.extend_from_slice(&port.to_be_bytes());
    i.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0, 0, 0]);
    i
}

#[test]
fn malformed_requests_get_the_right_error_and_everything_carries_on() {
    require_root!();
    let bed = TwoVms::start(|b| b.secure());
    let target = bed.d.mgmt_target();
    let mut failures = Vec::new();
    let f = &mut failures;
    let mut of = Of::connect(&target);
    for f in [
        "priority=100,arp,arp_tpa=10.10.10.11 actions=output:1",
        "priority=100,arp,arp_tpa=10.10.10.12 actions=output:2",
        "priority=100,ip,nw_dst=10.10.10.11 actions=output:1",
        "priority=100,ip,nw_dst=10.10.10.12 actions=output:2",
    ] {
        of.add_flow(f);
    }
    assert!(bed.vm1.ping(IP2, 3, SEC), "forwarding before the errors");

    let mut c = RawOf::connect(&target).expect("raw connection");

    // tcp_dst without its prerequisites (eth_type=IPv4/IPv6, ip_proto=6).
    let tcp_dst_80 = [0x80, 0x00, 0x1c, 0x02, 0x00, 0x50];
    expect_error(
        &mut c,
        "tcp_dst=80 without tcp",
        &raw_flow_mod(0x101, &tcp_dst_80, &apply_output(1)),
        OFPBMC_BAD_PREREQ,
        f,
    );

    // A FLOW_MOD cut short: its header says 24 bytes, the smallest is 56.
    let mut short = header(OFPT_FLOW_MOD, 24, 0x102);
    short.extend_from_slice(&[0; 16]);
    expect_error(&mut c, "truncated FLOW_MOD", &short, OFPBRC_BAD_LEN, f);

    // A message type OpenFlow 1.3 does not have.
    expect_error(
        &mut c,
        "unknown type 0x7f",
        &header(0x7f, 8, 0x103),
        OFPBRC_BAD_TYPE,
        f,
    );

    // output:ANY is only a wildcard in filters.
    let any = FlowMod {
        priority: 10,
        buffer_id: OFP_NO_BUFFER,
        out_port: OFPP_ANY,
        out_group: OFPG_ANY,
        instructions: vec![Instruction::ApplyActions(vec![Action::Output {
            port: OFPP_ANY,
            max_len: 0,
        }])],
        ..FlowMod::default()
    };
    expect_error(
        &mut c,
        "output:ANY",
        &encode(&Message::FlowMod(any), 0x104),
        OFPBAC_BAD_OUT_PORT,
        f,
    );

    // Another version after 1.3 was negotiated.
    let mut v5 = header(OFPT_ECHO_REQUEST, 8, 0x105);
    v5[0] = 5;
    expect_error(
        &mut c,
        "version 0x05 after negotiating 1.3",
        &v5,
        OFPBRC_BAD_VERSION,
        f,
    );

    // goto_table must go forward.
    let back = FlowMod {
        table_id: 5,
        priority: 10,
        buffer_id: OFP_NO_BUFFER,
        out_port: OFPP_ANY,
        out_group: OFPG_ANY,
        instructions: vec![Instruction::GotoTable(3)],
        ..FlowMod::default()
    };
    expect_error(
        &mut c,
        "goto_table backwards",
        &encode(&Message::FlowMod(back), 0x106),
        OFPBIC_BAD_TABLE_ID,
        f,
    );

    // An unknown multipart type.
    let mut mp = header(OFPT_MULTIPART_REQUEST, 16, 0x107);
    mp.extend_from_slice(&[0x00, 0x42, 0, 0, 0, 0, 0, 0]);
    expect_error(&mut c, "multipart type 0x42", &mp, OFPBRC_BAD_MULTIPART, f);

    // PORT_MOD: a config bit OF1.3 does not define, and a port that does not exist.
    let p1 = of
        .port_desc()
        .into_iter()
        .find(|p| p.port_no == 1)
        .expect("port 1");
    let bad_cfg = PortMod {
        port_no: 1,
        hw_addr: p1.hw_addr,
        config: 1 << 3,
        mask: 1 << 3,
        advertise: 0,
    };
    expect_error(
        &mut c,
        "PORT_MOD with config bit 3",
        &encode(&Message::PortMod(bad_cfg), 0x108),
        OFPPMFC_BAD_CONFIG,
        f,
    );
    let no_port = PortMod {
        port_no: 77,
        hw_addr: p1.hw_addr,
        config: OFPPC_PORT_DOWN,
        mask: OFPPC_PORT_DOWN,
        advertise: 0,
    };
    expect_error(
        &mut c,
        "PORT_MOD of port 77",
        &encode(&Message::PortMod(no_port), 0x109),
        OFPPMFC_BAD_PORT,
        f,
    );

    // A bad request among good ones: only it is refused.
    let mut good = FlowMod {
        priority: 5,
        buffer_id: OFP_NO_BUFFER,
        out_port: OFPP_ANY,
        out_group: OFPG_ANY,
        ..FlowMod::default()
    };
    good.cookie = 0x77;
    c.send(&encode(&Message::FlowMod(good), 0x110)).unwrap();
    expect_error(
        &mut c,
        "tcp_dst=80 without tcp, between good requests",
        &raw_flow_mod(0x111, &tcp_dst_80, &apply_output(1)),
        OFPBMC_BAD_PREREQ,
        f,
    );

    // Everything carries on: the other connection, the flows, forwarding.
    assert!(of.echo(), "the other connection is fine");
    let flows = of.dump_flows();
    if flows.len() != 5 || !flows.iter().any(|f| f.cookie == 0x77) {
        failures.push(format!(
            "want the four walkthrough flows and the good one (cookie 0x77), have:\n{}",
            flows
                .iter()
                .map(ofproto::text::format_flow_stats)
                .collect::<Vec<_>>()
                .join("\n")
        ));
    }
    assert_eq!(
        bed.vm1.ping_replies(IP2, 3, SEC),
        3,
        "forwarding after the errors"
    );
    assert!(
        failures.is_empty(),
        "wrong answers:\n  {}\n--- tapflowd log ---\n{}",
        failures.join("\n  "),
        bed.d.log_text()
    );
}

#[test]
fn hello_without_openflow_13_is_refused_with_hello_failed() {
    require_root!();
    let bed = TwoVms::start(|b| b.secure());
    let mut c = RawOf::connect_no_hello(&bed.d.mgmt_target()).expect("connect");
    // HELLO version 4, bitmap with only OpenFlow 1.0 (bit 1).
    let mut h = header(OFPT_HELLO, 16, 7);
    h.extend_from_slice(&[0, 1, 0, 8, 0, 0, 0, 0x02]);
    c.send(&h).unwrap();
    let mut got = None;
    while let Ok(Some(m)) = c.recv(3 * SEC) {
        if m.msg_type == OFPT_ERROR {
            got = Some(m);
            break;
        }
    }
    let m = got.unwrap_or_else(|| panic!("no OFPT_ERROR\n{}", bed.d.log_text()));
    let (ty, code, _) = m.error().unwrap();
    assert_eq!(ErrorCode::new(ty, code), OFPHFC_INCOMPATIBLE);

    // The switch still takes new, well-behaved connections.
    let mut ok = RawOf::connect_no_hello(&bed.d.mgmt_target()).unwrap();
    ok.send(&hello_13(1)).unwrap();
    assert_eq!(ok.recv(3 * SEC).unwrap().unwrap().msg_type, OFPT_HELLO);
    assert!(ok.echo(2));
}

#[test]
fn tapflow_cli_prints_switch_errors_like_ovs_ofctl() {
    require_root!();
    let bed = TwoVms::start(|b| b.secure());
    let br = bed.bridge().to_string();
    bed.d.tapflow_ok([
        "add-flow",
        &br,
        "priority=100,arp,arp_tpa=10.10.10.12 actions=output:2",
    ]);
    let out = bed.d.tapflow([
        "add-flow",
        &br,
        "priority=100,arp,check_overlap actions=output:1",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "a refused flow exits 1: {err}");
    assert!(
        err.starts_with("OFPT_ERROR (OF1.3) (xid=0x") && err.contains("OFPFMFC_OVERLAP"),
        "printed as ovs-ofctl does: {err}"
    );
    // Bad syntax is a usage error (exit 2), caught before the switch.
    let out = bed.d.tapflow([
        "add-flow",
        &br,
        "priority=1,arp,arp_tpa=10.10.10.300 actions=output:2",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let dump = bed.d.tapflow_ok(["dump-flows", &br]);
    assert_eq!(
        dump.lines().filter(|l| l.contains("actions=")).count(),
        1,
        "{dump}"
    );
}

/// OF1.3 (§6.4) says a flow whose action names a missing group is refused
/// with OFPBAC_BAD_OUT_GROUP, not installed to drop silently (the group
/// table itself: tests/groups.rs).
#[test]
fn output_to_a_missing_group_is_refused() {
    require_root!();
    let bed = TwoVms::start(|b| b.secure());
    let mut of = Of::connect(&bed.d.mgmt_target());
    match of.try_flow_mod(integration::of::flow("priority=1 actions=group:1")) {
        Err(datapath::ofconn::ClientError::Rejected(errs)) => {
            assert_eq!(errs.len(), 1);
            assert_eq!(errs[0].code, OFPBAC_BAD_OUT_GROUP, "{errs:?}");
        }
        other => panic!("group:1 with no group 1: expected OFPBAC_BAD_OUT_GROUP, got {other:?}"),
    }
    assert!(of.dump_flows().is_empty());
}

/// `--max-flows-per-table`: a table at its limit refuses a new entry with
/// OFPFMFC_TABLE_FULL; replacing an existing one and other tables still work.
#[test]
fn a_full_table_refuses_new_flows_with_table_full() {
    require_root!();
    let bed = TwoVms::start(|b| b.secure().arg("--max-flows-per-table").arg("2"));
    let br = bed.bridge().to_string();
    for ip in ["10.0.0.1", "10.0.0.2"] {
        bed.d.tapflow_ok([
            "add-flow",
            &br,
            &format!("priority=5,ip,nw_dst={ip} actions=drop"),
        ]);
    }
    let out = bed.d.tapflow([
        "add-flow",
        &br,
        "priority=5,ip,nw_dst=10.0.0.3 actions=drop",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("OFPFMFC_TABLE_FULL"), "{err}");
    // Same match and priority: a replacement, not a new entry.
    bed.d.tapflow_ok([
        "add-flow",
        &br,
        "priority=5,ip,nw_dst=10.0.0.2 actions=output:2",
    ]);
    bed.d.tapflow_ok([
        "add-flow",
        &br,
        "table=1,priority=5,ip,nw_dst=10.0.0.3 actions=drop",
    ]);
    let dump = bed.d.tapflow_ok(["dump-flows", &br]);
    assert_eq!(
        dump.lines().filter(|l| l.contains("actions=")).count(),
        3,
        "{dump}"
    );
}
