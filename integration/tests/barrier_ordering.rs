//! BARRIER means "everything before me is applied and visible to the data
//! plane": the first packet after the barrier reply — a PACKET_OUT to TABLE,
//! or a frame a VM sends — takes the new flows, every time. 1 000 times in a
//! row per case; the frame's arrival on one port or the other says which
//! flow it took.

use integration::of::{flow_cmd, Of};
use integration::packet::{udp_frame, PacketSocket};
use integration::vm::mac;
use integration::{require_root, DaemonBuilder, Names, Vm};
use ofproto::action::Action;
use ofproto::consts::{OFPP_CONTROLLER, OFPP_TABLE};
use ofproto::text::FlowCommand;
use ofproto::Message;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

const ROUNDS: u32 = 1000;
/// A MAC nobody has: the VMs' kernels ignore the frames, the packet
/// sockets still see them.
const DST_MAC: [u8; 6] = [0x02, 0x7f, 0xee, 0xee, 0xee, 0xee];

/// Port 1: the sender VM; ports 2 and 3: observers.
struct Bed {
    d: integration::Daemon,
    vms: Vec<Vm>,
    socks: Vec<PacketSocket>,
    _names: Names,
}

impl Bed {
    fn start() -> Bed {
        let names = Names::new();
        let taps: Vec<String> = (1..=3).map(|i| names.name(&format!("t{i}"))).collect();
        let mut b = DaemonBuilder::new(&names.name("br")).secure();
        for (i, t) in taps.iter().enumerate() {
            b = b.port(t, i as u32 + 1);
        }
        let d = b.spawn(&names);
        let mut vms = Vec::new();
        let mut socks = Vec::new();
        for (i, t) in taps.iter().enumerate() {
            let vm = Vm::attach(
                &names.name(&format!("v{}", i + 1)),
                t,
                Ipv4Addr::new(10, 10, 10, 11 + i as u8),
                mac(i as u8 + 1),
            );
            let t2 = t.clone();
            socks.push(
                vm.ns
                    .enter(move || PacketSocket::open(&t2))
                    .expect("packet socket"),
            );
            vms.push(vm);
        }
        Bed {
            d,
            vms,
            socks,
            _names: names,
        }
    }

    /// The observer socket of OpenFlow port `port` (2 or 3).
    fn sock(&self, port: u32) -> &PacketSocket {
        &self.socks[port as usize - 1]
    }

    fn frame(&self, dport: u16, seq: u32) -> Vec<u8> {
        let payload = format!("barrier seq {seq:08}");
        udp_frame(
            self.vms[0].mac,
            DST_MAC,
            [10, 10, 10, 11],
            [10, 10, 10, 99],
            4000,
            dport,
            payload.as_bytes(),
        )
    }

    /// Waits for frame `seq` on `port`; on failure says where it went.
    fn expect_on(&self, port: u32, other: u32, seq: u32, what: &str) {
        let tag = format!("barrier seq {seq:08}");
        let deadline = Instant::now() + Duration::from_secs(2);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.sock(port).recv_incoming(left) {
                Some(f) if f.ends_with(tag.as_bytes()) => {
                    // Nothing with this tag on the other port.
                    while let Some(g) = self.sock(other).recv_incoming(Duration::ZERO) {
                        assert!(
                            !g.ends_with(tag.as_bytes()),
                            "{what}: round {seq} came out of both ports {port} and {other}"
                        );
                    }
                    return;
                }
                Some(_) => {}
                None => break,
            }
        }
        let mut elsewhere = false;
        while let Some(g) = self.sock(other).recv_incoming(Duration::from_millis(200)) {
            elsewhere |= g.ends_with(tag.as_bytes());
        }
        panic!(
            "{what}: round {seq}: the packet sent right after the barrier reply did not \
             leave through port {port}{}\n--- tapflowd log ---\n{}",
            if elsewhere {
                format!(" but through port {other}: it took the old flow")
            } else {
                " (nor through the other port)".to_string()
            },
            self.d.log_text()
        );
    }
}

/// Alternates the output port of one flow with MODIFY_STRICT + BARRIER,
/// and after each barrier reply sends one packet via `send`.
fn alternate_output(bed: &Bed, of: &mut Of, match_: &str, what: &str, send: impl Fn(&mut Of, u32)) {
    of.flow_mod(
        &format!("priority=100,{match_} actions=output:2"),
        FlowCommand::Add,
    );
    let start = Instant::now();
    for seq in 0..ROUNDS {
        let (port, other) = if seq % 2 == 0 { (3, 2) } else { (2, 3) };
        let fm = flow_cmd(
            &format!("priority=100,{match_} actions=output:{port}"),
            FlowCommand::ModifyStrict,
        );
        of.send(Message::FlowMod(fm));
        of.barrier();
        send(of, seq);
        bed.expect_on(port, other, seq, what);
    }
    eprintln!("{what}: {ROUNDS} rounds in {:?}", start.elapsed());
}

#[test]
fn packet_out_to_table_right_after_barrier_takes_the_modified_flow() {
    require_root!();
    let bed = Bed::start();
    let mut of = Of::connect(&bed.d.mgmt_target());
    let frames: Vec<Vec<u8>> = (0..ROUNDS).map(|s| bed.frame(7777, s)).collect();
    alternate_output(
        &bed,
        &mut of,
        "udp,tp_dst=7777",
        "PACKET_OUT output:TABLE",
        |of, seq| {
            of.send(Message::PacketOut(ofproto::message::PacketOut {
                buffer_id: ofproto::consts::OFP_NO_BUFFER,
                in_port: OFPP_CONTROLLER,
                actions: vec![Action::Output {
                    port: OFPP_TABLE,
                    max_len: 0,
                }],
                data: bytes::Bytes::copy_from_slice(&frames[seq as usize]),
            }));
            // Written out (with its barrier) before we look for it.
            of.barrier();
        },
    );
}

#[test]
fn frame_from_a_vm_right_after_barrier_takes_the_modified_flow() {
    require_root!();
    let bed = Bed::start();
    let mut of = Of::connect(&bed.d.mgmt_target());
    alternate_output(
        &bed,
        &mut of,
        "in_port=1,udp,tp_dst=7778",
        "frame from vm1",
        |_, seq| {
            bed.socks[0].send(&bed.frame(7778, seq)).expect("inject");
        },
    );
}

/// The same with ADD of a higher-priority flow and DELETE_STRICT of it: the
/// frame after each barrier follows whichever flow is there now.
#[test]
fn frame_from_a_vm_right_after_barrier_sees_flows_added_and_deleted() {
    require_root!();
    let bed = Bed::start();
    let mut of = Of::connect(&bed.d.mgmt_target());
    of.add_flow("priority=100,in_port=1,udp,tp_dst=7779 actions=output:2");
    let high = "priority=200,in_port=1,udp,tp_dst=7779";
    let start = Instant::now();
    for seq in 0..ROUNDS {
        let (port, other, fm) = if seq % 2 == 0 {
            (
                3,
                2,
                flow_cmd(&format!("{high} actions=output:3"), FlowCommand::Add),
            )
        } else {
            (2, 3, flow_cmd(high, FlowCommand::DeleteStrict))
        };
        of.send(Message::FlowMod(fm));
        of.barrier();
        bed.socks[0].send(&bed.frame(7779, seq)).expect("inject");
        bed.expect_on(port, other, seq, "add/delete");
    }
    eprintln!("add/delete: {ROUNDS} rounds in {:?}", start.elapsed());
}
