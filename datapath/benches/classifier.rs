//! Classifier lookup throughput at 1, 1 000, 10 000, 100 000 and
//! 1 000 000 flows spread over 16 mask shapes (in_port, MACs, IPv4
//! prefixes, L4 ports, metadata, in combinations), through a published
//! snapshot as the data plane does.
//! Priorities are random, so the early stop rarely helps: every lookup
//! probes all 16 subtables (the worst case for this shape count).
//!
//! Target (fast-path issue): >= 2 M lookups/s per core at 100 000 flows.
//!
//! `cargo bench -p datapath --bench classifier`

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use datapath::packet::{FlowKey, FLOW_KEY_WORDS};
use datapath::pipeline::Classifier;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn key(pairs: &[(usize, u64)]) -> FlowKey {
    let mut k = FlowKey::default();
    for &(i, w) in pairs {
        k.words[i] = w;
    }
    k
}

fn masks() -> Vec<FlowKey> {
    vec![
        key(&[(0, 0xffff_ffff_0000_0000)]),
        key(&[(3, 0xffff_ffff_ffff_ffff)]),
        key(&[(3, 0xffff_ffff_ffff_0000)]),
        key(&[(4, 0xffff_ffff_ffff_0000)]),
        key(&[(3, 0xffff), (6, 0xffff_ffff)]),
        key(&[(3, 0xffff), (6, 0xffff_ff00)]),
        key(&[(3, 0xffff), (6, 0xffff_0000)]),
        key(&[(3, 0xffff), (6, 0xffff_ffff_0000_0000)]),
        key(&[
            (3, 0xffff),
            (5, 0xff),
            (6, 0xffff_ffff),
            (7, 0xffff_0000_0000),
        ]),
        key(&[(3, 0xffff), (5, 0xff), (7, 0xffff_0000_0000)]),
        key(&[(0, 0xffff_ffff_0000_0000), (3, 0xffff_ffff_ffff_ffff)]),
        key(&[(0, 0xffff_ffff_0000_0000), (4, 0xffff_ffff_ffff_0000)]),
        key(&[(1, u64::MAX)]),
        key(&[(1, 0xff), (3, 0xffff), (6, 0xffff_ffff)]),
        key(&[(2, u64::MAX), (3, 0xffff)]),
        key(&[(4, 0x0fff_0000), (3, 0xffff), (6, 0xffff_ffff)]),
    ]
}

/// `n` rules round-robin over the mask shapes, and 4096 packet keys: 15/16
/// built from a random installed rule (other bits random), 1/16 random
/// (mostly misses).
fn setup(n: usize) -> (Classifier<usize>, Vec<FlowKey>) {
    let masks = masks();
    let mut rng = Rng(0x1234_5678);
    let mut c = Classifier::new();
    let mut rules = Vec::with_capacity(n);
    while c.len() < n {
        let m = masks[rules.len() % masks.len()];
        let mut v = FlowKey::default();
        for w in 0..FLOW_KEY_WORDS {
            v.words[w] = rng.next() & m.words[w];
        }
        let p = (rng.next() % 1000) as u16;
        if c.insert(v, m, p, rules.len()).is_none() {
            rules.push((v, m));
        }
    }
    let keys = (0..4096)
        .map(|i| {
            let mut k = FlowKey::default();
            if i % 16 != 15 {
                let (v, m) = rules[(rng.next() % rules.len() as u64) as usize];
                for w in 0..FLOW_KEY_WORDS {
                    k.words[w] = v.words[w] | (rng.next() & !m.words[w]);
                }
            } else {
                for w in 0..8 {
                    k.words[w] = rng.next();
                }
            }
            k
        })
        .collect();
    (c, keys)
}

fn lookup(c: &mut Criterion) {
    let mut g = c.benchmark_group("classifier_lookup");
    for n in [1usize, 1_000, 10_000, 100_000, 1_000_000] {
        let (cls, keys) = setup(n);
        let snap = cls.snapshot();
        g.throughput(Throughput::Elements(keys.len() as u64));
        g.bench_with_input(BenchmarkId::new("16_masks", n), &keys, |b, keys| {
            b.iter(|| {
                let mut hits = 0usize;
                for k in keys {
                    if let Some(e) = snap.lookup(black_box(k)) {
                        hits = hits.wrapping_add(e.data);
                    }
                }
                black_box(hits)
            })
        });
    }
    g.finish();
}

/// The publication cost the persistent structure buys: one rule change
/// followed by a snapshot (a publish per FLOW_MOD, no batching) at 100 000
/// rules — copies one subtable header and one shard, not the table.
fn change_and_snapshot(c: &mut Criterion) {
    let mut g = c.benchmark_group("classifier_change_then_snapshot");
    let (mut cls, _) = setup(100_000);
    let m = masks()[4];
    let mut snap = cls.snapshot();
    let mut i = 0u64;
    g.throughput(Throughput::Elements(1));
    g.bench_function("100000", |b| {
        b.iter(|| {
            i += 1;
            let v = key(&[(3, i & 0xffff), (6, 0xdead_0000_0000 | (i >> 16))]);
            cls.insert(v, m, 7, 0);
            snap = cls.snapshot();
            cls.remove(&v, &m, 7);
            snap = cls.snapshot();
        })
    });
    black_box(&snap);
    g.finish();
}

criterion_group!(benches, lookup, change_and_snapshot);
criterion_main!(benches);
