//! Per-frame costs of the packet layer, apart from classification: parsing
//! a frame into its `FlowKey` (one pass, every OF1.3 field it has) and
//! applying actions in place (set_field with incremental checksum updates,
//! VLAN push/pop, dec_ttl), for the frame kinds a VM host sees most.
//!
//! `cargo bench -p datapath --bench packet`

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use datapath::packet::{parse_frame, FlowKey, Frame, Packet};
use ofproto::action::Action;
use ofproto::oxm::OxmField;
use ofproto::MacAddr;

const MAC1: [u8; 6] = [0x52, 0x54, 0, 0, 0, 1];
const MAC2: [u8; 6] = [0x52, 0x54, 0, 0, 0, 2];

fn eth(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len());
    f.extend_from_slice(&MAC2);
    f.extend_from_slice(&MAC1);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn ipv4(proto: u8, l4: &[u8]) -> Vec<u8> {
    let len = (20 + l4.len()) as u16;
    let mut h = vec![
        0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, proto, 0, 0, 10, 10, 10, 11, 10, 10, 10, 12,
    ];
    h[2..4].copy_from_slice(&len.to_be_bytes());
    let mut sum = 0u32;
    for c in h.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    h[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    h.extend_from_slice(l4);
    h
}

fn tcp(payload: usize) -> Vec<u8> {
    let mut t = vec![0u8; 20 + payload];
    t[0..2].copy_from_slice(&40000u16.to_be_bytes());
    t[2..4].copy_from_slice(&5201u16.to_be_bytes());
    t[12] = 5 << 4;
    t[13] = 0x10;
    t
}

fn frames() -> Vec<(&'static str, Vec<u8>)> {
    let tcp4 = eth(0x0800, &ipv4(6, &tcp(1400)));
    let udp = {
        let mut u = vec![0u8; 8 + 18];
        u[0..2].copy_from_slice(&5000u16.to_be_bytes());
        u[2..4].copy_from_slice(&53u16.to_be_bytes());
        u[4..6].copy_from_slice(&26u16.to_be_bytes());
        ipv4(17, &u)
    };
    let mut tagged = Vec::new();
    tagged.extend_from_slice(&[0x00, 0x0a, 0x08, 0x00]);
    tagged.extend_from_slice(&udp);
    let vlan_udp = eth(0x8100, &tagged);
    let arp = eth(
        0x0806,
        &[
            0, 1, 8, 0, 6, 4, 0, 1, 0x52, 0x54, 0, 0, 0, 1, 10, 10, 10, 11, 0, 0, 0, 0, 0, 0, 10,
            10, 10, 12,
        ],
    );
    let tcp6 = {
        let t = tcp(64);
        let mut h = vec![0x60, 0, 0, 0];
        h.extend_from_slice(&(t.len() as u16).to_be_bytes());
        h.extend_from_slice(&[6, 64]);
        h.extend_from_slice(&[0xfd, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11]);
        h.extend_from_slice(&[0xfd, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12]);
        h.extend_from_slice(&t);
        eth(0x86dd, &h)
    };
    vec![
        ("tcp4_1454B", tcp4),
        ("arp", arp),
        ("vlan_udp4_64B", vlan_udp),
        ("tcp6", tcp6),
    ]
}

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse_frame");
    g.throughput(Throughput::Elements(1));
    for (name, f) in frames() {
        let mut key = FlowKey::default();
        g.bench_function(name, |b| {
            b.iter(|| {
                let info = parse_frame(black_box(&f), 1, &mut key);
                black_box((&key, info));
            })
        });
    }
    g.finish();
}

fn actions(c: &mut Criterion) {
    let tcp4 = frames().remove(0).1;
    let vlan = frames().remove(2).1;
    let cases: Vec<(&str, &Vec<u8>, Vec<Action>)> = vec![
        (
            "set_ipv4_dst_csum",
            &tcp4,
            vec![Action::SetField(OxmField::Ipv4Dst(
                [10, 10, 20, 12].into(),
                None,
            ))],
        ),
        (
            "router_rewrite",
            &tcp4,
            vec![
                Action::SetField(OxmField::EthSrc(MacAddr(MAC1), None)),
                Action::SetField(OxmField::EthDst(MacAddr(MAC2), None)),
                Action::DecNwTtl,
            ],
        ),
        (
            "push_vlan_set_vid",
            &tcp4,
            vec![
                Action::PushVlan(0x8100),
                Action::SetField(OxmField::VlanVid(0x1000 | 10, None)),
            ],
        ),
        ("pop_vlan", &vlan, vec![Action::PopVlan]),
    ];
    let mut g = c.benchmark_group("actions");
    g.throughput(Throughput::Elements(1));
    for (name, frame, acts) in cases {
        g.bench_function(name, |b| {
            b.iter_batched_ref(
                || Packet::parse(Frame::new(frame), 1),
                |p| {
                    for a in &acts {
                        black_box(p.apply(a));
                    }
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, parse, actions);
criterion_main!(benches);
