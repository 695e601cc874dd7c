//! Queues end to end: port 2 has queue 1 with max 10 Mbit/s (`--queue`);
//! UDP offered at ~30 Mbit/s from a namespace VM through
//! `set_queue:1,output:2` arrives at about 10 Mbit/s, the rest counted as
//! the queue's tx_errors; the same traffic without set_queue is not shaped;
//! QUEUE_GET_CONFIG and queue stats on the wire (and their errors), through
//! our CLI and the real `ovs-ofctl`.

use integration::of::Of;
use integration::ovs::{have_ovs, ovs_tool};
use integration::require_root;
use integration::traffic::{collect_sports, udp_between, ManyVms};
use ofproto::consts::*;
use ofproto::error::*;
use ofproto::multipart::{
    MultipartReplyBody, MultipartRequest, MultipartRequestBody, QueueStats, QueueStatsRequest,
};
use ofproto::queue::{QueueGetConfigRequest, QueueProp};
use ofproto::Message;
use std::process::Command;
use std::time::{Duration, Instant};

/// Queue 1's max rate, bit/s.
const MAX_RATE: f64 = 10e6;
/// What the sender offers, bit/s.
const OFFERED_RATE: f64 = 30e6;
/// UDP payload bytes: 1042-byte frames.
const PAYLOAD: usize = 1000;

/// Two VMs on TAP ports 1 and 2; port 2 has queue 1 (max 10 Mbit/s)
/// and queue 2 (min 1 Mbit/s, not shaped).
fn start_bed() -> ManyVms {
    ManyVms::start_with_taps(2, |b, taps| {
        b.secure()
            .arg("--queue")
            .arg(&format!("{}:1:max=10M", taps[1]))
            .arg("--queue")
            .arg(&format!("{}:2:min=1M", taps[1]))
    })
}

struct Run {
    sent: usize,
    received: usize,
    /// Seconds the sender took.
    secs: f64,
}

/// Offers UDP to `dport` from VM 1 at [`OFFERED_RATE`] for `secs` while VM
/// 2 counts what arrives (a receiving thread: seconds of traffic do not fit
/// a socket buffer).
fn offer(bed: &ManyVms, dport: u16, secs: f64) -> Run {
    let tx = bed.socket(1);
    let rx = bed.socket(2);
    let counter = std::thread::spawn(move || {
        collect_sports(
            &rx,
            dport,
            Duration::from_millis(1500),
            Duration::from_secs(60),
        )
        .len()
    });
    let f = udp_between(1, 2, 5000, dport, PAYLOAD);
    let per_sec = OFFERED_RATE / (f.len() * 8) as f64;
    let count = (per_sec * secs) as usize;
    let start = Instant::now();
    let mut sent = 0;
    for i in 0..count {
        let due = start + Duration::from_secs_f64(i as f64 / per_sec);
        if let Some(d) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
        if tx.send(&f).is_ok() {
            sent += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    Run {
        sent,
        received: counter.join().expect("receiver"),
        secs,
    }
}

fn frame_bits() -> f64 {
    (udp_between(1, 2, 1, 1, PAYLOAD).len() * 8) as f64
}

fn queue_stats(of: &mut Of, port_no: u32, queue_id: u32) -> Result<Vec<QueueStats>, ErrorCode> {
    let r = of.multipart(MultipartRequest {
        flags: 0,
        body: MultipartRequestBody::Queue(QueueStatsRequest { port_no, queue_id }),
    });
    match r {
        Ok(parts) => Ok(parts
            .into_iter()
            .flat_map(|r| match r.body {
                MultipartReplyBody::Queue(v) => v,
                other => panic!("{other:?}"),
            })
            .collect()),
        Err(datapath::ofconn::ClientError::OpenFlow { code, .. }) => Err(code),
        Err(e) => panic!("queue stats: {e}"),
    }
}

fn flow_packets(of: &mut Of, cookie: u64) -> u64 {
    of.dump_flows()
        .iter()
        .find(|f| f.cookie == cookie)
        .map(|f| f.packet_count)
        .expect("flow")
}

#[test]
fn set_queue_shapes_to_the_max_rate_and_counts() {
    require_root!();
    let bed = start_bed();
    let mut of = Of::connect(&bed.d.mgmt_target());
    of.add_flow("cookie=0x1,priority=10,in_port=1,udp,tp_dst=1111 actions=set_queue:1,output:2");
    of.add_flow("cookie=0x2,priority=10,in_port=1,udp,tp_dst=2222 actions=output:2");
    of.add_flow("cookie=0x4,priority=10,in_port=1,udp,tp_dst=4444 actions=set_queue:7,output:2");
    // Through the action set too: set_queue runs before output there.
    of.add_flow(
        "cookie=0x3,priority=10,in_port=1,udp,tp_dst=3333 actions=write_actions(output:2,set_queue:1)",
    );
    let bits = frame_bits();
    // A token bucket admits at most rate × time plus its burst (1/50 s);
    // half a second of slack for scheduling.
    let bound = |secs: f64| (MAX_RATE * (secs + 0.5) + MAX_RATE / 50.0) / bits;

    let shaped = offer(&bed, 1111, 3.0);
    let offered_mbps = shaped.sent as f64 * bits / shaped.secs / 1e6;
    let got_mbps = shaped.received as f64 * bits / shaped.secs / 1e6;
    eprintln!(
        "shaped: offered {} frames in {:.2} s ({offered_mbps:.1} Mbit/s), delivered {} ({got_mbps:.1} Mbit/s)",
        shaped.sent, shaped.secs, shaped.received
    );
    assert!(
        (shaped.received as f64) <= bound(shaped.secs),
        "queue 1 delivered {got_mbps:.1} Mbit/s, max is 10"
    );
    assert!(
        got_mbps >= 5.0,
        "queue 1 delivered only {got_mbps:.1} Mbit/s of {offered_mbps:.1} offered"
    );

    let st = queue_stats(&mut of, 2, 1).expect("queue 1 stats");
    assert_eq!(st.len(), 1);
    let q1 = st[0];
    assert_eq!((q1.port_no, q1.queue_id), (2, 1));
    // Every frame the flow matched went through the queue: sent or dropped.
    let matched = flow_packets(&mut of, 1);
    assert_eq!(q1.tx_packets + q1.tx_errors, matched, "{q1:?}");
    assert!(q1.tx_errors > 0, "{q1:?}");
    assert!(q1.tx_packets >= shaped.received as u64, "{q1:?}");
    assert_eq!(q1.tx_bytes, q1.tx_packets * (bits as u64 / 8));

    // The same offer without set_queue is not shaped.
    let free = offer(&bed, 2222, 1.0);
    let free_mbps = free.received as f64 * bits / free.secs / 1e6;
    eprintln!(
        "unshaped: offered {} frames in {:.2} s, delivered {} ({free_mbps:.1} Mbit/s)",
        free.sent, free.secs, free.received
    );
    assert!(
        (free.received as f64) > bound(free.secs),
        "without set_queue {free_mbps:.1} Mbit/s: shaped anyway?"
    );
    let after = queue_stats(&mut of, 2, 1).unwrap()[0];
    assert_eq!(
        after.tx_packets + after.tx_errors,
        matched,
        "queue 1 untouched"
    );
    let q0 = queue_stats(&mut of, 2, 0).unwrap()[0];
    assert!(q0.tx_packets >= free.received as u64, "{q0:?}");

    // A queue the port does not have: the default queue, unshaped (as OVS
    // sends it when the queue id has no mapping on the port).
    let before = queue_stats(&mut of, 2, 0).unwrap()[0].tx_packets;
    let other = offer(&bed, 4444, 1.0);
    assert!(
        (other.received as f64) > bound(other.secs),
        "set_queue:7 (no such queue) delivered {} in {:.2} s: shaped?",
        other.received,
        other.secs
    );
    let q0 = queue_stats(&mut of, 2, 0).unwrap()[0];
    assert!(q0.tx_packets - before >= other.received as u64, "{q0:?}");

    // write_actions(set_queue:1, output:2) shapes too.
    let set = offer(&bed, 3333, 2.0);
    assert!(
        (set.received as f64) <= bound(set.secs),
        "action-set set_queue delivered {} in {:.2} s",
        set.received,
        set.secs
    );
    let q1 = queue_stats(&mut of, 2, 1).unwrap()[0];
    assert_eq!(
        q1.tx_packets + q1.tx_errors,
        matched + flow_packets(&mut of, 3)
    );
}

#[test]
fn queue_config_and_stats_on_the_wire_with_errors() {
    require_root!();
    let bed = start_bed();
    let mut of = Of::connect(&bed.d.mgmt_target());
    let cfg = |of: &mut Of, port| {
        of.request(Message::QueueGetConfigRequest(QueueGetConfigRequest {
            port,
        }))
    };
    let Message::QueueGetConfigReply(r) = cfg(&mut of, 2).expect("config of port 2") else {
        panic!("not a QUEUE_GET_CONFIG_REPLY")
    };
    assert_eq!(r.port, 2);
    let ids: Vec<u32> = r.queues.iter().map(|q| q.queue_id).collect();
    assert_eq!(ids, [0, 1, 2]);
    assert!(r.queues.iter().all(|q| q.port == 2));
    assert!(r.queues[0].properties.is_empty());
    // 10 Mbit/s and 1 Mbit/s of a 10 Gbit/s port, in 1/10 %: 1 (rounded
    // up to the smallest non-zero rate).
    assert_eq!(r.queues[1].properties, [QueueProp::MaxRate(1)]);
    assert_eq!(r.queues[2].properties, [QueueProp::MinRate(1)]);
    // OFPP_ANY: every port's queues (LOCAL, 1 and 2).
    let Message::QueueGetConfigReply(all) = cfg(&mut of, OFPP_ANY).unwrap() else {
        panic!()
    };
    assert_eq!(all.port, OFPP_ANY);
    for p in [1, 2, OFPP_LOCAL] {
        assert!(
            all.queues.iter().any(|q| q.port == p && q.queue_id == 0),
            "default queue of port {p}: {all:?}"
        );
    }
    assert_eq!(all.queues.len(), 5);
    for bad in [77, OFPP_LOCAL, OFPP_CONTROLLER] {
        match cfg(&mut of, bad) {
            Err(datapath::ofconn::ClientError::OpenFlow { code, .. }) => {
                assert_eq!(code, OFPQOFC_BAD_PORT, "port {bad:#x}")
            }
            other => panic!("port {bad:#x}: {other:?}"),
        }
    }
    // Queue stats take LOCAL (it is a port of the bridge).
    assert_eq!(queue_stats(&mut of, OFPP_LOCAL, OFPQ_ALL).unwrap().len(), 1);

    let every = queue_stats(&mut of, OFPP_ANY, OFPQ_ALL).unwrap();
    assert_eq!(every.len(), 5, "{every:?}");
    assert_eq!(queue_stats(&mut of, 2, OFPQ_ALL).unwrap().len(), 3);
    assert_eq!(queue_stats(&mut of, OFPP_ANY, 1).unwrap().len(), 1);
    assert_eq!(queue_stats(&mut of, OFPP_ANY, 0).unwrap().len(), 3);
    assert_eq!(queue_stats(&mut of, 1, 1), Err(OFPQOFC_BAD_QUEUE));
    assert_eq!(queue_stats(&mut of, OFPP_ANY, 9), Err(OFPQOFC_BAD_QUEUE));
    assert_eq!(queue_stats(&mut of, 77, OFPQ_ALL), Err(OFPQOFC_BAD_PORT));
    // Still connected and answering after the errors.
    assert!(of.echo());
}

fn run(program: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let o = Command::new(program).args(args).output().expect("run");
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn tapflow_cli_and_ovs_ofctl_print_queues() {
    require_root!();
    let bed = start_bed();
    let target = bed.d.mgmt_target();
    let cfg = bed.d.tapflow_ok(["queue-get-config", &target, "2"]);
    assert!(cfg.contains("OFPT_QUEUE_GET_CONFIG_REPLY"), "{cfg}");
    assert!(cfg.contains("queue 1: max_rate:0.1%"), "{cfg}");
    assert!(cfg.contains("queue 2: min_rate:0.1%"), "{cfg}");
    let tap2 = bed.vms[1].ifname.clone();
    let by_name = bed.d.tapflow_ok(["queue-stats", &target, &tap2, "1"]);
    assert!(by_name.contains("OFPST_QUEUE reply"), "{by_name}");
    assert!(
        by_name.contains("port 2 queue 1: bytes=0, pkts=0, errors=0"),
        "{by_name}"
    );
    let o = bed.d.tapflow(["queue-stats", &target, "1", "5"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("OFPQOFC_BAD_QUEUE"), "{err}");
    let o = bed.d.tapflow(["queue-stats", &target, "1", "x"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "a bad queue argument is a usage error"
    );

    if !have_ovs() {
        eprintln!("NOTICE: ovs-ofctl not installed; real ovs-ofctl half skipped");
        return;
    }
    let ofctl = ovs_tool("ovs-ofctl");
    let (ok, out, err) = run(
        &ofctl,
        &["-O", "OpenFlow13", "queue-get-config", &target, "2"],
    );
    assert!(ok, "{err}");
    let ours = bed.d.tapflow_ok(["queue-get-config", &target, "2"]);
    assert!(
        out.contains("queue 1:") && out.contains("max_rate:0.1%"),
        "{out}"
    );
    assert_eq!(strip_xid(&out), strip_xid(&ours), "ovs-ofctl vs tapflow");
    let (ok, out, err) = run(&ofctl, &["-O", "OpenFlow13", "queue-stats", &target]);
    assert!(ok, "{err}");
    assert!(out.contains("OFPST_QUEUE reply"), "{out}");
    assert!(out.contains("port 2 queue 1:"), "{out}");
    // ovs-ofctl prints the switch's error and exits 0.
    let (_, out, _) = run(
        &ofctl,
        &["-O", "OpenFlow13", "queue-stats", &target, "1", "5"],
    );
    assert!(
        out.contains("OFPT_ERROR") && out.contains("OFPQOFC_BAD_QUEUE"),
        "{out}"
    );
    let (ok, out, err) = run(&ofctl, &["-O", "OpenFlow13", "queue-get-config", &target]);
    assert!(ok, "{err}");
    assert!(out.contains("port=ANY"), "{out}");
    assert_eq!(out.matches("queue 0:").count(), 3, "{out}");
    let ours = bed.d.tapflow_ok(["queue-get-config", &target]);
    assert_eq!(strip_xid(&out), strip_xid(&ours), "ovs-ofctl vs tapflow");
}

/// `(xid=0x…)` differs between two requests.
fn strip_xid(s: &str) -> String {
    s.lines()
        .map(|l| match (l.find("(xid="), l.find("):")) {
            (Some(a), Some(b)) if b > a => format!("{}{}", &l[..a], &l[b + 1..]),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
