use super::*;
use crate::pipeline::testutil::key;

/// A tiny deterministic PRNG (xorshift64*), so tests need no extra crate.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn full(i: usize) -> (usize, u64) {
    (i, u64::MAX)
}

/// Reference semantics: scan everything, best = (priority desc, seq asc).
fn brute<'a, T>(c: &'a Classifier<T>, k: &FlowKey) -> Option<&'a Entry<T>>
where
    T: Clone,
{
    c.iter()
        .filter(|r| keyops::matches(k, &r.value, r.mask))
        .map(|r| r.entry)
        .min_by_key(|e| (std::cmp::Reverse(e.priority), e.seq))
}

#[test]
fn empty_classifier_matches_nothing() {
    let c: Classifier<u32> = Classifier::new();
    assert!(c.lookup(&key(&[(0, 1)])).is_none());
    assert!(c.snapshot().lookup(&FlowKey::default()).is_none());
    assert_eq!(c.len(), 0);
    assert!(c.is_empty());
}

#[test]
fn lookup_returns_highest_priority_across_masks() {
    let mut c = Classifier::new();
    // in_port=1 (word 0) at 10, in_port=1 + word 2 == 7 at 20, catch-all at 0.
    c.insert(key(&[(0, 1)]), key(&[full(0)]), 10, "port");
    c.insert(
        key(&[(0, 1), (2, 7)]),
        key(&[full(0), full(2)]),
        20,
        "port+dst",
    );
    c.insert(FlowKey::default(), FlowKey::default(), 0, "miss");
    assert_eq!(c.lookup(&key(&[(0, 1), (2, 7)])).unwrap().data, "port+dst");
    assert_eq!(c.lookup(&key(&[(0, 1), (2, 8)])).unwrap().data, "port");
    assert_eq!(c.lookup(&key(&[(0, 2), (2, 7)])).unwrap().data, "miss");
    // Priorities are what count, not specificity.
    c.insert(key(&[(0, 1)]), key(&[full(0)]), 30, "port-high");
    assert_eq!(c.lookup(&key(&[(0, 1), (2, 7)])).unwrap().data, "port-high");
    assert_eq!(c.subtable_count(), 3);
    assert_eq!(c.len(), 4);
}

#[test]
fn partial_masks_match_only_their_bits() {
    let mut c = Classifier::new();
    // 10.0.0.0/8 and 10.1.0.0/16 in the low 32 bits of word 6.
    c.insert(key(&[(6, 0x0a00_0000)]), key(&[(6, 0xff00_0000)]), 8, "/8");
    c.insert(
        key(&[(6, 0x0a01_0000)]),
        key(&[(6, 0xffff_0000)]),
        16,
        "/16",
    );
    assert_eq!(c.lookup(&key(&[(6, 0x0a01_0203)])).unwrap().data, "/16");
    assert_eq!(c.lookup(&key(&[(6, 0x0a02_0203)])).unwrap().data, "/8");
    assert!(c.lookup(&key(&[(6, 0x0b01_0203)])).is_none());
    // Bits outside the mask of the stored value are ignored: the value is
    // masked on insert.
    c.insert(key(&[(6, 0x0c00_00ff)]), key(&[(6, 0xff00_0000)]), 8, "/8b");
    assert_eq!(c.lookup(&key(&[(6, 0x0c12_3456)])).unwrap().data, "/8b");
    assert!(c
        .get(&key(&[(6, 0x0c00_0000)]), &key(&[(6, 0xff00_0000)]), 8)
        .is_some());
}

#[test]
fn same_value_different_priorities_coexist_in_order() {
    let mut c = Classifier::new();
    let (v, m) = (key(&[(0, 5)]), key(&[full(0)]));
    c.insert(v, m, 10, "10");
    c.insert(v, m, 30, "30");
    c.insert(v, m, 20, "20");
    c.insert(v, m, 5, "5");
    assert_eq!(c.len(), 4);
    assert_eq!(c.subtable_count(), 1);
    let k = key(&[(0, 5)]);
    let mut order = Vec::new();
    while let Some(e) = c.lookup(&k) {
        order.push(e.data);
        let p = e.priority;
        c.remove(&v, &m, p).unwrap();
    }
    assert_eq!(order, ["30", "20", "10", "5"]);
    assert_eq!(c.subtable_count(), 0);
}

#[test]
fn equal_priority_tie_goes_to_earliest_installed() {
    // The wide rule first: it wins although the narrow one is more specific.
    let mut c = Classifier::new();
    c.insert(key(&[(0, 1)]), key(&[full(0)]), 10, "first");
    c.insert(
        key(&[(0, 1), (2, 2)]),
        key(&[full(0), full(2)]),
        10,
        "second",
    );
    let k = key(&[(0, 1), (2, 2)]);
    assert_eq!(c.lookup(&k).unwrap().data, "first");
    assert_eq!(c.snapshot().lookup(&k).unwrap().data, "first");

    // The other way round: still the earliest, whatever the subtable order.
    let mut c = Classifier::new();
    c.insert(
        key(&[(0, 1), (2, 2)]),
        key(&[full(0), full(2)]),
        10,
        "first",
    );
    c.insert(key(&[(0, 1)]), key(&[full(0)]), 10, "second");
    assert_eq!(c.lookup(&k).unwrap().data, "first");

    // A subtable created earlier but filled later does not win: install
    // order is per rule.
    let mut c = Classifier::new();
    c.insert(key(&[(0, 9)]), key(&[full(0)]), 10, "other");
    c.insert(key(&[(2, 2)]), key(&[full(2)]), 10, "first");
    c.insert(key(&[(0, 1)]), key(&[full(0)]), 10, "second");
    assert_eq!(c.lookup(&k).unwrap().data, "first");
}

#[test]
fn replacing_a_rule_keeps_its_install_order() {
    let mut c = Classifier::new();
    c.insert(key(&[(0, 1)]), key(&[full(0)]), 10, "a");
    c.insert(key(&[(2, 2)]), key(&[full(2)]), 10, "b");
    assert_eq!(
        c.insert(key(&[(0, 1)]), key(&[full(0)]), 10, "a2"),
        Some("a")
    );
    assert_eq!(c.len(), 2);
    assert_eq!(c.lookup(&key(&[(0, 1), (2, 2)])).unwrap().data, "a2");
    // Removal frees the slot: re-inserting is a new, later install.
    c.remove(&key(&[(0, 1)]), &key(&[full(0)]), 10).unwrap();
    c.insert(key(&[(0, 1)]), key(&[full(0)]), 10, "a3");
    assert_eq!(c.lookup(&key(&[(0, 1), (2, 2)])).unwrap().data, "b");
}

#[test]
fn remove_takes_only_the_exact_rule() {
    let mut c = Classifier::new();
    let m = key(&[full(0)]);
    c.insert(key(&[(0, 1)]), m, 10, 1);
    c.insert(key(&[(0, 1)]), m, 20, 2);
    c.insert(key(&[(0, 2)]), m, 10, 3);
    assert!(c.remove(&key(&[(0, 1)]), &m, 15).is_none());
    assert!(c.remove(&key(&[(0, 3)]), &m, 10).is_none());
    assert!(c.remove(&key(&[(0, 1)]), &key(&[(0, 1)]), 10).is_none());
    let e = c.remove(&key(&[(0, 1)]), &m, 20).unwrap();
    assert_eq!((e.priority, e.data), (20, 2));
    assert_eq!(c.lookup(&key(&[(0, 1)])).unwrap().data, 1);
    assert_eq!(c.lookup(&key(&[(0, 2)])).unwrap().data, 3);
    assert_eq!(c.len(), 2);
    c.remove(&key(&[(0, 1)]), &m, 10).unwrap();
    c.remove(&key(&[(0, 2)]), &m, 10).unwrap();
    assert!(c.is_empty());
    assert_eq!(c.subtable_count(), 0);
    assert_eq!(c.iter().count(), 0);
}

#[test]
fn lower_max_priority_after_remove_reorders_subtables() {
    let mut c = Classifier::new();
    // Subtable A (word 0) holds priority 100 and 10; subtable B (word 2) 50.
    c.insert(key(&[(0, 1)]), key(&[full(0)]), 100, "A100");
    c.insert(key(&[(0, 7)]), key(&[full(0)]), 10, "A10");
    c.insert(key(&[(2, 2)]), key(&[full(2)]), 50, "B50");
    let k = key(&[(0, 7), (2, 2)]);
    assert_eq!(c.lookup(&k).unwrap().data, "B50");
    c.remove(&key(&[(0, 1)]), &key(&[full(0)]), 100).unwrap();
    // A's max is now 10: B must be probed first and the early stop must
    // not skip it.
    assert_eq!(c.lookup(&k).unwrap().data, "B50");
    assert_eq!(c.snapshot().lookup(&k).unwrap().data, "B50");
    c.insert(key(&[(0, 7)]), key(&[full(0)]), 60, "A60");
    assert_eq!(c.lookup(&k).unwrap().data, "A60");
}

#[test]
fn early_stop_skips_lower_subtables_but_finds_the_best() {
    let mut c = Classifier::new();
    for w in 0..8 {
        c.insert(key(&[(w, 1)]), key(&[full(w)]), 100 - w as u16, w);
    }
    let k = key(&(0..8).map(|w| (w, 1)).collect::<Vec<_>>());
    assert_eq!(c.lookup(&k).unwrap().data, 0);
    let k = key(&(3..8).map(|w| (w, 1)).collect::<Vec<_>>());
    assert_eq!(c.lookup(&k).unwrap().data, 3);
}

#[test]
fn snapshot_does_not_see_later_writes() {
    let mut c = Classifier::new();
    let m = key(&[full(0)]);
    c.insert(key(&[(0, 1)]), m, 10, "one");
    let s1 = c.snapshot();
    c.insert(key(&[(0, 2)]), m, 10, "two");
    c.insert(key(&[(0, 1)]), m, 10, "one-b");
    let s2 = c.snapshot();
    c.remove(&key(&[(0, 1)]), &m, 10);
    assert_eq!(s1.lookup(&key(&[(0, 1)])).unwrap().data, "one");
    assert!(s1.lookup(&key(&[(0, 2)])).is_none());
    assert_eq!(s1.len(), 1);
    assert_eq!(s2.lookup(&key(&[(0, 1)])).unwrap().data, "one-b");
    assert_eq!(s2.lookup(&key(&[(0, 2)])).unwrap().data, "two");
    assert!(c.lookup(&key(&[(0, 1)])).is_none());
    assert_eq!(s2.iter().count(), 2);
}

#[test]
fn snapshot_shares_unchanged_subtables_and_shards() {
    let mut c = Classifier::new();
    for i in 0..5000u64 {
        c.insert(key(&[(0, i)]), key(&[full(0)]), 10, i);
        c.insert(key(&[(2, i)]), key(&[full(2)]), 10, i);
    }
    let s = c.snapshot();
    let id0 = c.by_mask[&key(&[full(0)])];
    let id2 = c.by_mask[&key(&[full(2)])];
    assert!(
        c.meta(id0).sub.shards.len() > 1,
        "a big subtable is sharded"
    );
    c.insert(key(&[(0, 99_999)]), key(&[full(0)]), 10, 0);
    // The untouched subtable is shared as a whole...
    let shared = |a: &Arc<Subtable<u64>>| s.subtables.iter().any(|b| Arc::ptr_eq(a, b));
    assert!(shared(&c.meta(id2).sub));
    assert!(!shared(&c.meta(id0).sub));
    // ...and the touched one copied exactly one shard.
    let old = s
        .subtables
        .iter()
        .find(|st| st.mask == key(&[full(0)]))
        .unwrap();
    let new = &c.meta(id0).sub;
    let copied = old
        .shards
        .iter()
        .zip(new.shards.iter())
        .filter(|(a, b)| !Arc::ptr_eq(a, b))
        .count();
    assert_eq!(copied, 1);
    // A second write to the same shard before the next snapshot is in place.
    let before: Vec<*const Shard<u64>> = new.shards.iter().map(Arc::as_ptr).collect();
    c.remove(&key(&[(0, 99_999)]), &key(&[full(0)]), 10);
    let after: Vec<*const Shard<u64>> = c.meta(id0).sub.shards.iter().map(Arc::as_ptr).collect();
    assert_eq!(before, after);
}

#[test]
fn shards_split_as_a_subtable_grows_and_lookups_stay_right() {
    let mut c = Classifier::new();
    let m = key(&[(1, 0xffff_ffff)]);
    let mut snaps = Vec::new();
    for i in 0..20_000u64 {
        c.insert(key(&[(1, i)]), m, (i % 7) as u16, i);
        if i % 4096 == 0 {
            snaps.push((i, c.snapshot()));
        }
    }
    let id = c.by_mask[&m];
    assert!(c.meta(id).sub.shards.len() >= 64);
    for i in (0..20_000u64).step_by(7) {
        assert_eq!(c.lookup(&key(&[(1, i)])).unwrap().data, i);
    }
    for (n, s) in &snaps {
        assert_eq!(s.len() as u64, n + 1);
        assert_eq!(s.lookup(&key(&[(1, *n)])).unwrap().data, *n);
        assert!(s.lookup(&key(&[(1, n + 1)])).is_none());
    }
}

#[test]
fn overlaps_needs_same_priority_and_intersecting_regions() {
    let mut c = Classifier::new();
    // in_port=1 (word 0), priority 10.
    c.insert(key(&[(0, 1)]), key(&[full(0)]), 10, ());
    // Identical: overlaps.
    assert!(c.overlaps(&key(&[(0, 1)]), &key(&[full(0)]), 10));
    // Other priority: never.
    assert!(!c.overlaps(&key(&[(0, 1)]), &key(&[full(0)]), 11));
    // Narrower (in_port=1, word2=5): intersects.
    assert!(c.overlaps(&key(&[(0, 1), (2, 5)]), &key(&[full(0), full(2)]), 10));
    // Disjoint on the shared field.
    assert!(!c.overlaps(&key(&[(0, 2), (2, 5)]), &key(&[full(0), full(2)]), 10));
    // Wider (everything): intersects.
    assert!(c.overlaps(&FlowKey::default(), &FlowKey::default(), 10));
    // Different fields only (word2=5): some packet has both in_port=1 and 5.
    assert!(c.overlaps(&key(&[(2, 5)]), &key(&[full(2)]), 10));

    // Prefixes: 10.0.0.0/24 vs 10.0.1.0/24 disjoint; vs 10.0.0.0/16 nested.
    let mut c = Classifier::new();
    c.insert(key(&[(6, 0x0a00_0000)]), key(&[(6, 0xffff_ff00)]), 5, ());
    assert!(!c.overlaps(&key(&[(6, 0x0a00_0100)]), &key(&[(6, 0xffff_ff00)]), 5));
    assert!(c.overlaps(&key(&[(6, 0x0a00_0000)]), &key(&[(6, 0xffff_0000)]), 5));
    assert!(c.overlaps(&key(&[(6, 0x0a00_0080)]), &key(&[(6, 0xffff_ff80)]), 5));
    assert!(!c.overlaps(&key(&[(6, 0x0a01_0000)]), &key(&[(6, 0xffff_0000)]), 5));
    // Masks that each fix bits the other does not (the scan path).
    let mut c = Classifier::new();
    c.insert(key(&[(6, 0x0000_00f0)]), key(&[(6, 0x0000_fff0)]), 5, ());
    assert!(c.overlaps(&key(&[(6, 0x0000_00ff)]), &key(&[(6, 0x0000_00ff)]), 5));
    assert!(!c.overlaps(&key(&[(6, 0x0000_000f)]), &key(&[(6, 0x0000_00ff)]), 5));
}

#[test]
fn covered_by_is_openflow_non_strict_match() {
    let mut c = Classifier::new();
    c.insert(key(&[(0, 1)]), key(&[full(0)]), 10, "p1");
    c.insert(key(&[(0, 1), (2, 5)]), key(&[full(0), full(2)]), 20, "p1d5");
    c.insert(key(&[(0, 2), (2, 5)]), key(&[full(0), full(2)]), 20, "p2d5");
    c.insert(key(&[(2, 5)]), key(&[full(2)]), 30, "d5");
    c.insert(FlowKey::default(), FlowKey::default(), 0, "all");
    let names = |v: FlowKey, m: FlowKey| {
        let mut n: Vec<&str> = c.covered_by(&v, &m).map(|r| r.entry.data).collect();
        n.sort();
        n
    };
    assert_eq!(
        names(FlowKey::default(), FlowKey::default()),
        ["all", "d5", "p1", "p1d5", "p2d5"]
    );
    assert_eq!(names(key(&[(0, 1)]), key(&[full(0)])), ["p1", "p1d5"]);
    assert_eq!(
        names(key(&[(2, 5)]), key(&[full(2)])),
        ["d5", "p1d5", "p2d5"]
    );
    assert_eq!(
        names(key(&[(0, 1), (2, 5)]), key(&[full(0), full(2)])),
        ["p1d5"]
    );
    // A partial mask covers entries fixing those bits and more.
    assert_eq!(names(key(&[(0, 0)]), key(&[(0, 0xfffe)])), ["p1", "p1d5"]);
    assert_eq!(names(key(&[(0, 2)]), key(&[(0, 0xfffe)])), ["p2d5"]);
}

#[test]
fn randomized_against_brute_force() {
    let mut rng = Rng::new(0x5eed);
    let masks: Vec<FlowKey> = (0..12)
        .map(|_| {
            let mut m = FlowKey::default();
            for _ in 0..1 + rng.below(3) {
                m.words[rng.below(4) as usize] |= 0xf << (4 * rng.below(3));
            }
            m
        })
        .collect();
    let mut c: Classifier<u32> = Classifier::new();
    let mut live: Vec<(FlowKey, FlowKey, u16)> = Vec::new();
    type Frozen = Vec<(FlowKey, FlowKey, u16, u32)>;
    let contents = |it: &mut dyn Iterator<Item = Rule<'_, u32>>| -> Frozen {
        let mut v: Frozen = it
            .map(|r| (r.value, *r.mask, r.entry.priority, r.entry.data))
            .collect();
        v.sort_by_key(|x| (x.0.words, x.1.words, x.2));
        v
    };
    let mut snaps: Vec<(ClassifierSnapshot<u32>, Frozen)> = Vec::new();
    let random_key = |rng: &mut Rng| {
        let mut k = FlowKey::default();
        for w in 0..4 {
            k.words[w] = rng.below(1 << 12);
        }
        k
    };
    for step in 0..4000u32 {
        if rng.below(3) > 0 || live.is_empty() {
            let m = masks[rng.below(masks.len() as u64) as usize];
            let v = keyops::and(&random_key(&mut rng), &m);
            let p = rng.below(8) as u16;
            if c.insert(v, m, p, step).is_none() {
                live.push((v, m, p));
            }
        } else {
            let i = rng.below(live.len() as u64) as usize;
            let (v, m, p) = live.swap_remove(i);
            assert!(c.remove(&v, &m, p).is_some());
        }
        assert_eq!(c.len(), live.len());
        for _ in 0..4 {
            let k = random_key(&mut rng);
            let want = brute(&c, &k).map(|e| (e.priority, e.seq, e.data));
            let got = c.lookup(&k).map(|e| (e.priority, e.seq, e.data));
            assert_eq!(got, want, "step {step}");
        }
        if step % 500 == 0 {
            snaps.push((c.snapshot(), contents(&mut c.iter())));
        }
    }
    // Old snapshots still hold what the classifier held when they were
    // taken, and answer lookups by the same rules.
    for (s, frozen) in &snaps {
        assert_eq!(&contents(&mut s.iter()), frozen);
        assert_eq!(s.len(), frozen.len());
        for _ in 0..200 {
            let k = random_key(&mut rng);
            let want = s
                .iter()
                .filter(|r| keyops::matches(&k, &r.value, r.mask))
                .map(|r| r.entry)
                .min_by_key(|e| (std::cmp::Reverse(e.priority), e.seq))
                .map(|e| e.data);
            assert_eq!(s.lookup(&k).map(|e| e.data), want);
        }
    }
}

/// 100 000 rules over 16 mask shapes: every installed rule is found, keys
/// between the rules fall through to the right lower-priority rule.
#[test]
fn scale_100k_rules_over_16_masks() {
    let masks = scale_masks();
    let mut rng = Rng::new(42);
    let mut c = Classifier::new();
    let mut rules = Vec::new();
    while rules.len() < 100_000 {
        let s = rules.len() % masks.len();
        let m = masks[s];
        let mut v = FlowKey::default();
        for w in 0..FLOW_KEY_WORDS {
            v.words[w] = rng.next() & m.words[w];
        }
        // Priority bands by shape (shape 0 highest), so a key built from a
        // rule of shape s is matched by that rule unless a higher band also
        // matches it, which random values make vanishingly unlikely.
        let p = 1000 - 10 * s as u16 + (rng.below(10) as u16);
        if c.get(&v, &m, p).is_none() && c.insert(v, m, p, rules.len()).is_none() {
            rules.push((v, m, p));
        }
    }
    assert_eq!(c.len(), 100_000);
    assert_eq!(c.subtable_count(), 16);
    let s = c.snapshot();
    for (i, (v, m, p)) in rules.iter().enumerate() {
        // Unmasked bits random.
        let mut k = *v;
        for w in 0..FLOW_KEY_WORDS {
            k.words[w] |= rng.next() & !m.words[w];
        }
        let got = s.lookup(&k).unwrap();
        assert_eq!(c.lookup(&k).unwrap().data, got.data);
        if got.data != i {
            // Only a rule that also matches and beats rule i may win.
            let (gv, gm, gp) = &rules[got.data];
            assert!(keyops::matches(&k, gv, gm), "rule {i}: non-matching winner");
            assert!(
                *gp > *p || (*gp == *p && got.data < i),
                "rule {i}: weaker winner"
            );
        }
    }
    // Keys that match nothing: every shape has a random value no rule has.
    assert!(s.lookup(&key(&[(15, 1)])).is_none());
}

/// 16 mask shapes as a real flow table has them: in_port, eth addresses,
/// IPv4 prefixes, L4 ports, metadata, in combinations.
pub(crate) fn scale_masks() -> Vec<FlowKey> {
    let w = |pairs: &[(usize, u64)]| key(pairs);
    vec![
        w(&[(0, 0xffff_ffff_0000_0000)]),
        w(&[(3, 0xffff_ffff_ffff_ffff)]),
        w(&[(3, 0xffff_ffff_ffff_0000)]),
        w(&[(4, 0xffff_ffff_ffff_0000)]),
        w(&[(3, 0xffff), (6, 0xffff_ffff)]),
        w(&[(3, 0xffff), (6, 0xffff_ff00)]),
        w(&[(3, 0xffff), (6, 0xffff_0000)]),
        w(&[(3, 0xffff), (6, 0xffff_ffff_0000_0000)]),
        w(&[
            (3, 0xffff),
            (5, 0xff),
            (6, 0xffff_ffff),
            (7, 0xffff_0000_0000),
        ]),
        w(&[(3, 0xffff), (5, 0xff), (7, 0xffff_0000_0000)]),
        w(&[(0, 0xffff_ffff_0000_0000), (3, 0xffff_ffff_ffff_ffff)]),
        w(&[(0, 0xffff_ffff_0000_0000), (4, 0xffff_ffff_ffff_0000)]),
        w(&[(1, u64::MAX)]),
        w(&[(1, 0xff), (3, 0xffff), (6, 0xffff_ffff)]),
        w(&[(2, u64::MAX), (3, 0xffff)]),
        w(&[(4, 0x0fff_0000), (3, 0xffff), (6, 0xffff_ffff)]),
    ]
}

mod no_alloc {
    //! A counting allocator (per thread) proves lookups do not allocate.
    use super::*;
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    struct Counting;

    thread_local! {
        static ALLOCS: Cell<u64> = const { Cell::new(0) };
    }

    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
            System.alloc(layout)
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            System.dealloc(ptr, layout)
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
            System.alloc_zeroed(layout)
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
            let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
            System.realloc(ptr, layout, new)
        }
    }

    #[global_allocator]
    static GLOBAL: Counting = Counting;

    fn allocs() -> u64 {
        ALLOCS.with(|n| n.get())
    }

    #[test]
    fn lookup_does_not_allocate() {
        let masks = scale_masks();
        let mut c = Classifier::new();
        let mut rng = Rng::new(7);
        let mut keys = Vec::new();
        for i in 0..2000 {
            let m = masks[i % masks.len()];
            let mut v = FlowKey::default();
            for w in 0..FLOW_KEY_WORDS {
                v.words[w] = rng.next() & m.words[w];
            }
            c.insert(v, m, (i % 50) as u16, i);
            keys.push(v);
        }
        keys.push(FlowKey::default());
        let s = c.snapshot();
        let before = allocs();
        let mut hits = 0;
        for k in &keys {
            hits += usize::from(c.lookup(k).is_some());
            hits += usize::from(s.lookup(k).is_some());
        }
        assert_eq!(allocs(), before, "lookup allocated");
        assert!(hits >= 4000);
    }
}
