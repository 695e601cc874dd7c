//! Hot paths of the OpenFlow codec (targets from the ofproto issue):
//! - decode + encode a typical FLOW_MOD (5-field match, apply_actions with 2 actions): ≥ 3 M/s
//! - PACKET_IN encode with a 64-byte frame: ≥ 5 M/s
//! - text parse of a 100-flow `add-flows` file: ≥ 1 M flows/s
//!
//! Run: `cargo bench -p ofproto --bench codec`

use bytes::{Bytes, BytesMut};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ofproto::action::Action;
use ofproto::instruction::Instruction;
use ofproto::message::{FlowMod, PacketIn};
use ofproto::oxm::{Match, OxmField};
use ofproto::Message;
use std::net::Ipv4Addr;

fn typical_flow_mod() -> Message {
    Message::FlowMod(FlowMod {
        priority: 100,
        buffer_id: ofproto::consts::OFP_NO_BUFFER,
        out_port: ofproto::consts::OFPP_ANY,
        out_group: ofproto::consts::OFPG_ANY,
        match_: Match {
            fields: vec![
                OxmField::InPort(1),
                OxmField::EthType(0x0800),
                OxmField::IpProto(6),
                OxmField::Ipv4Dst(Ipv4Addr::new(10, 10, 10, 12), None),
                OxmField::TcpDst(80),
            ],
        },
        instructions: vec![Instruction::ApplyActions(vec![
            Action::SetField(OxmField::EthDst("52:54:00:00:00:02".parse().unwrap(), None)),
            Action::Output {
                port: 2,
                max_len: 0,
            },
        ])],
        ..Default::default()
    })
}

fn bench_flow_mod(c: &mut Criterion) {
    let wire = typical_flow_mod().encode_to_vec(1);
    let mut g = c.benchmark_group("flow_mod");
    g.throughput(Throughput::Elements(1));
    g.bench_function("decode+encode", |b| {
        let mut buf = BytesMut::with_capacity(256);
        b.iter(|| {
            let (xid, m) = Message::decode(black_box(&wire)).unwrap();
            buf.clear();
            m.encode(xid, &mut buf);
            black_box(buf.len())
        })
    });
    g.bench_function("decode", |b| {
        b.iter(|| black_box(Message::decode(black_box(&wire)).unwrap()))
    });
    g.finish();
}

fn bench_packet_in(c: &mut Criterion) {
    let msg = Message::PacketIn(PacketIn {
        buffer_id: ofproto::consts::OFP_NO_BUFFER,
        total_len: 64,
        reason: ofproto::consts::OFPR_NO_MATCH,
        table_id: 0,
        cookie: 0,
        match_: Match {
            fields: vec![OxmField::InPort(1)],
        },
        data: Bytes::from(vec![0x5au8; 64]),
    });
    let mut g = c.benchmark_group("packet_in");
    g.throughput(Throughput::Elements(1));
    g.bench_function("encode_64B", |b| {
        let mut buf = BytesMut::with_capacity(256);
        b.iter(|| {
            buf.clear();
            black_box(&msg).encode(7, &mut buf);
            black_box(buf.len())
        })
    });
    g.finish();
}

fn hundred_flows() -> String {
    let mut s = String::from("# 100 flows as an operator writes them\n");
    for i in 0..100u32 {
        let (a, b) = (i / 250, i % 250 + 1);
        match i % 3 {
            0 => s += &format!("priority=100,arp,arp_tpa=10.{a}.0.{b} actions=output:{}\n", i % 8 + 1),
            1 => s += &format!(
                "table=0,priority=200,icmp,nw_dst=10.{a}.1.{b} actions=output:{}\n",
                i % 8 + 1
            ),
            _ => s += &format!(
                "priority=300,tcp,nw_src=192.168.{a}.0/24,nw_dst=10.{a}.2.{b},tp_dst={} actions=mod_dl_dst:52:54:00:00:00:{:02x},output:{}\n",
                1000 + i,
                i,
                i % 8 + 1
            ),
        }
    }
    s
}

fn bench_text(c: &mut Criterion) {
    let file = hundred_flows();
    let mut g = c.benchmark_group("text");
    g.throughput(Throughput::Elements(100));
    g.bench_function("parse_100_flow_file", |b| {
        b.iter(|| black_box(ofproto::text::parse_flows_file(black_box(&file)).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench_flow_mod, bench_packet_in, bench_text);
criterion_main!(benches);
