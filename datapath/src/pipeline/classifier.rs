//! A priority classifier over [`FlowKey`]s: tuple space search.
//!
//! Rules are `(value, mask, priority)`; a key matches a rule when
//! `key & mask == value`. Rules are grouped by mask into *subtables*, each a
//! hash table keyed by the masked value, so finding the rules of one mask
//! that match a key is one hash probe no matter how many rules share the
//! mask. A lookup probes the subtables in order of the highest priority they
//! hold and stops as soon as no remaining subtable can beat the best match
//! found: its cost grows with the number of distinct masks, never with the
//! number of rules.
//!
//! ## Ties
//! OF1.3.5 leaves the choice between two overlapping entries of equal
//! priority undefined. Here it is deterministic: the rule installed earliest
//! wins. Every rule gets an install sequence number when its
//! `(value, mask, priority)` slot is first filled; replacing the data of an
//! existing slot ([`Classifier::insert`] on the same triple) keeps the
//! number, removing the rule frees it (a later re-insert is a new install).
//!
//! ## Sharing with readers
//! The classifier is written by one owner (the control plane) and read
//! through immutable [`ClassifierSnapshot`]s (the data plane). Everything a
//! lookup touches is reference-counted persistent structure: a snapshot is a
//! list of `Arc<Subtable>`, a subtable is a list of `Arc<Shard>`, a shard is
//! one hash table. Taking a snapshot copies only the list of subtable
//! pointers. A later write copies, once per snapshot generation, the
//! subtable header (its shard pointer list) and the one shard it changes —
//! `Arc::make_mut` — so a FLOW_MOD after a publish costs
//! O(shards + shard size) ≈ O(√n) for a subtable of n rules, and every
//! further write to the same shard before the next snapshot is in place.
//! Subtables split into more shards as they grow (256 buckets per shard on
//! average; they do not merge again when rules go away).
//!
//! ## Hashing
//! A subtable hashes and compares only the key words its mask covers, with a
//! folded-multiply hash keyed by a per-classifier random seed (learned-MAC
//! flows let packet senders choose installed keys, so the hash must not be
//! predictable from outside).

use crate::packet::{FlowKey, FLOW_KEY_WORDS};
use hashbrown::HashTable;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

/// Operations on [`FlowKey`]s used as masks and masked values.
pub mod keyops {
    use super::{FlowKey, FLOW_KEY_WORDS};

    /// `a & b`, word by word.
    #[inline]
    pub fn and(a: &FlowKey, b: &FlowKey) -> FlowKey {
        let mut out = FlowKey::default();
        for i in 0..FLOW_KEY_WORDS {
            out.words[i] = a.words[i] & b.words[i];
        }
        out
    }

    /// Whether every bit set in `inner` is set in `outer` (`inner ⊆ outer`).
    #[inline]
    pub fn is_subset(inner: &FlowKey, outer: &FlowKey) -> bool {
        (0..FLOW_KEY_WORDS).all(|i| inner.words[i] & !outer.words[i] == 0)
    }

    /// `(a ^ b) & mask == 0`: `a` and `b` agree on every bit of `mask`.
    #[inline]
    pub fn agree_under(a: &FlowKey, b: &FlowKey, mask: &FlowKey) -> bool {
        (0..FLOW_KEY_WORDS).all(|i| (a.words[i] ^ b.words[i]) & mask.words[i] == 0)
    }

    /// Whether the rule `(value, mask)` matches `key`.
    #[inline]
    pub fn matches(key: &FlowKey, value: &FlowKey, mask: &FlowKey) -> bool {
        agree_under(key, value, mask)
    }

    /// Whether some key matches both `(v1, m1)` and `(v2, m2)` (values
    /// already masked): the two regions intersect iff the values agree on
    /// the bits both masks fix.
    #[inline]
    pub fn intersect(v1: &FlowKey, m1: &FlowKey, v2: &FlowKey, m2: &FlowKey) -> bool {
        (0..FLOW_KEY_WORDS).all(|i| (v1.words[i] ^ v2.words[i]) & m1.words[i] & m2.words[i] == 0)
    }

    /// Whether the rule `(wide_v, wide_m)` covers `(v, m)`: every key
    /// matching `(v, m)` matches `(wide_v, wide_m)`, i.e. `wide_m ⊆ m` and
    /// the values agree on `wide_m`. This is OpenFlow's non-strict match.
    #[inline]
    pub fn covers(wide_v: &FlowKey, wide_m: &FlowKey, v: &FlowKey, m: &FlowKey) -> bool {
        is_subset(wide_m, m) && agree_under(wide_v, v, wide_m)
    }
}

/// One rule's payload and ordering data.
#[derive(Clone, Debug)]
pub struct Entry<T> {
    pub priority: u16,
    /// Install sequence number: among equal priorities, lower wins.
    pub seq: u64,
    pub data: T,
}

impl<T> Entry<T> {
    /// Whether `self` beats `other` (higher priority, then earlier install).
    #[inline]
    fn beats(&self, other: &Entry<T>) -> bool {
        self.priority > other.priority || (self.priority == other.priority && self.seq < other.seq)
    }
}

/// A rule as seen by iteration: its masked value, its mask and its entry.
/// (The value is rebuilt from the bucket's packed words, hence owned.)
#[derive(Debug)]
pub struct Rule<'a, T> {
    pub value: FlowKey,
    pub mask: &'a FlowKey,
    pub entry: &'a Entry<T>,
}

impl<T> Clone for Rule<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Rule<'_, T> {}

/// Words of a bucket's masked value kept inline; masks covering more words
/// (IPv6 addresses, many fields at once) keep theirs on the heap.
const PACKED_INLINE: usize = 4;

/// A bucket's masked value: only the words its subtable's mask covers, in
/// the order of [`Subtable::used_words`]. Every other word of the value is
/// zero by construction, so storing the whole 128-byte [`FlowKey`] per
/// bucket (as this did first) spent most of a rule's memory on zeros.
#[derive(Clone)]
enum Packed {
    /// The first `n_words` are used, the rest are zero.
    Inline([u64; PACKED_INLINE]),
    Heap(Box<[u64]>),
}

impl Packed {
    /// Packs `value` (already masked) by `words`.
    fn new(words: &[u8], value: &FlowKey) -> Packed {
        if words.len() <= PACKED_INLINE {
            let mut a = [0u64; PACKED_INLINE];
            for (slot, &i) in a.iter_mut().zip(words) {
                *slot = value.words[usize::from(i)];
            }
            Packed::Inline(a)
        } else {
            Packed::Heap(words.iter().map(|&i| value.words[usize::from(i)]).collect())
        }
    }

    #[inline(always)]
    fn words(&self) -> &[u64] {
        match self {
            Packed::Inline(a) => a,
            Packed::Heap(b) => b,
        }
    }

    /// Whether this equals `key & mask` on `words` (the subtable's).
    #[inline(always)]
    fn matches(&self, words: &[u8], key: &FlowKey, mask: &FlowKey) -> bool {
        words.iter().zip(self.words()).all(|(&i, &v)| {
            let i = usize::from(i);
            v == key.words[i] & mask.words[i]
        })
    }

    /// Whether this equals `value` (already masked) on `words`.
    #[inline(always)]
    fn equals(&self, words: &[u8], value: &FlowKey) -> bool {
        words
            .iter()
            .zip(self.words())
            .all(|(&i, &v)| v == value.words[usize::from(i)])
    }

    fn unpack(&self, words: &[u8]) -> FlowKey {
        let mut k = FlowKey::default();
        for (&i, &v) in words.iter().zip(self.words()) {
            k.words[usize::from(i)] = v;
        }
        k
    }
}

/// All rules of one subtable with one masked value, best first. The common
/// case (one priority per value) needs no allocation beyond the bucket.
#[derive(Clone)]
struct Bucket<T> {
    value: Packed,
    hash: u64,
    first: Entry<T>,
    /// The others, ordered by (priority desc, seq asc), all after `first`.
    rest: Vec<Entry<T>>,
}

impl<T> Bucket<T> {
    fn entries(&self) -> impl Iterator<Item = &Entry<T>> {
        std::iter::once(&self.first).chain(self.rest.iter())
    }

    fn find(&self, priority: u16) -> Option<&Entry<T>> {
        self.entries().find(|e| e.priority == priority)
    }
}

#[derive(Clone)]
struct Shard<T> {
    table: HashTable<Bucket<T>>,
}

impl<T> Default for Shard<T> {
    fn default() -> Self {
        Shard {
            table: HashTable::new(),
        }
    }
}

/// Average buckets per shard above which a subtable doubles its shards.
const SHARD_TARGET: usize = 8;
/// At most 2^MAX_SHARD_BITS shards per subtable.
const MAX_SHARD_BITS: u32 = 12;
/// The shard index is taken from these hash bits: clear of the low bits
/// hashbrown uses for the slot and the top 7 it uses as the tag.
const SHARD_SHIFT: u32 = 32;

/// All rules with one mask. Everything here is what a lookup reads; the
/// owner's bookkeeping lives in [`SubtableMeta`].
#[derive(Clone)]
struct Subtable<T> {
    mask: FlowKey,
    /// Indices of the mask's nonzero words, `n_words` of them used.
    words: [u8; FLOW_KEY_WORDS],
    n_words: u8,
    seed: u64,
    max_priority: u16,
    /// Shard index mask (`shards.len() - 1`).
    shard_mask: usize,
    shards: Box<[Arc<Shard<T>>]>,
}

const MUL: u64 = 0x9e37_79b9_7f4a_7c15;

#[inline(always)]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = (a as u128).wrapping_mul(b as u128);
    (p as u64) ^ ((p >> 64) as u64)
}

impl<T> Subtable<T> {
    fn new(mask: FlowKey, seed: u64) -> Self {
        let mut words = [0u8; FLOW_KEY_WORDS];
        let mut n = 0;
        for (i, w) in mask.words.iter().enumerate() {
            if *w != 0 {
                words[n] = i as u8;
                n += 1;
            }
        }
        Subtable {
            mask,
            words,
            n_words: n as u8,
            seed,
            max_priority: 0,
            shard_mask: 0,
            shards: vec![Arc::new(Shard::default())].into_boxed_slice(),
        }
    }

    #[inline(always)]
    fn used_words(&self) -> &[u8] {
        &self.words[..usize::from(self.n_words)]
    }

    /// Hash of `key & mask` over the mask's words.
    #[inline(always)]
    fn hash_key(&self, key: &FlowKey) -> u64 {
        let mut h = self.seed;
        for &i in self.used_words() {
            let i = usize::from(i);
            h = fold_mul(h ^ (key.words[i] & self.mask.words[i]), MUL);
        }
        h
    }

    #[inline(always)]
    fn shard_of(&self, hash: u64) -> usize {
        ((hash >> SHARD_SHIFT) as usize) & self.shard_mask
    }

    /// The bucket whose value equals `key & mask`.
    #[inline(always)]
    fn find(&self, key: &FlowKey) -> Option<&Bucket<T>> {
        let h = self.hash_key(key);
        let words = self.used_words();
        self.shards[self.shard_of(h)]
            .table
            .find(h, |b| b.value.matches(words, key, &self.mask))
    }

    /// A bucket's value as a whole key.
    fn value_of(&self, b: &Bucket<T>) -> FlowKey {
        b.value.unpack(self.used_words())
    }

    fn buckets(&self) -> impl Iterator<Item = &Bucket<T>> {
        self.shards.iter().flat_map(|s| s.table.iter())
    }
}

impl<T: Clone> Subtable<T> {
    /// The bucket for `value` (already masked), copied out of any snapshot
    /// that shares it.
    fn find_mut(&mut self, value: &FlowKey) -> Option<&mut Bucket<T>> {
        let h = self.hash_key(value);
        let s = self.shard_of(h);
        let shard = &self.shards[s];
        let words = &self.words[..usize::from(self.n_words)];
        // Do not copy a shared shard just to find nothing.
        shard.table.find(h, |b| b.value.equals(words, value))?;
        Arc::make_mut(&mut self.shards[s])
            .table
            .find_mut(h, |b| b.value.equals(words, value))
    }

    /// Doubles the shard count while the average shard holds more than
    /// `SHARD_TARGET` buckets.
    fn maybe_split(&mut self, n_buckets: usize) {
        let bits = self.shards.len().trailing_zeros();
        if bits >= MAX_SHARD_BITS || n_buckets <= SHARD_TARGET << bits {
            return;
        }
        let new_len = self.shards.len() * 2;
        let mut new: Vec<Shard<T>> = (0..new_len).map(|_| Shard::default()).collect();
        let new_mask = new_len - 1;
        let old = std::mem::take(&mut self.shards);
        let mut place = |b: Bucket<T>| {
            let s = ((b.hash >> SHARD_SHIFT) as usize) & new_mask;
            new[s].table.insert_unique(b.hash, b, |x| x.hash);
        };
        for arc in old.into_vec() {
            match Arc::try_unwrap(arc) {
                Ok(shard) => shard.table.into_iter().for_each(&mut place),
                Err(shared) => shared.table.iter().cloned().for_each(&mut place),
            }
        }
        self.shards = new.into_iter().map(Arc::new).collect();
        self.shard_mask = new_mask;
    }
}

/// What the owner keeps about a subtable besides the shared part.
struct SubtableMeta<T> {
    sub: Arc<Subtable<T>>,
    /// Rules per priority (to keep `max_priority` and skip subtables that
    /// cannot hold a given priority).
    priorities: BTreeMap<u16, usize>,
    buckets: usize,
    rules: usize,
    /// Creation order: breaks ties between subtables of equal max priority.
    created: u64,
}

/// The highest-priority rule among `subtables` (in lookup order) matching `key`.
#[inline]
fn lookup_in<'a, T: 'a>(
    subtables: impl Iterator<Item = &'a Subtable<T>>,
    key: &FlowKey,
) -> Option<&'a Entry<T>> {
    let mut best: Option<&Entry<T>> = None;
    for st in subtables {
        if let Some(b) = best {
            // Sorted by max priority: nothing further can beat `b`. Equal
            // max priority is still probed — it may hold an earlier install.
            if st.max_priority < b.priority {
                break;
            }
        }
        if let Some(bucket) = st.find(key) {
            let e = &bucket.first;
            let better = match best {
                None => true,
                Some(b) => e.beats(b),
            };
            if better {
                best = Some(e);
            }
        }
    }
    best
}

fn rules_in<'a, T: 'a>(
    subtables: impl Iterator<Item = &'a Subtable<T>> + 'a,
) -> impl Iterator<Item = Rule<'a, T>> + 'a {
    subtables.flat_map(|st| {
        st.buckets().flat_map(move |b| {
            let value = st.value_of(b);
            b.entries().map(move |e| Rule {
                value,
                mask: &st.mask,
                entry: e,
            })
        })
    })
}

/// The mutable classifier, owned by one writer.
pub struct Classifier<T> {
    /// Subtables by stable id; `None` = free id.
    slots: Vec<Option<SubtableMeta<T>>>,
    free: Vec<usize>,
    by_mask: HashMap<FlowKey, usize>,
    /// Ids in lookup order: max priority desc, then creation asc.
    order: Vec<usize>,
    len: usize,
    next_seq: u64,
    next_created: u64,
    seed: u64,
}

impl<T: Clone> Default for Classifier<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone> Classifier<T> {
    pub fn new() -> Self {
        let seed = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        Classifier {
            slots: Vec::new(),
            free: Vec::new(),
            by_mask: HashMap::new(),
            order: Vec::new(),
            len: 0,
            next_seq: 0,
            next_created: 0,
            seed,
        }
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of distinct masks (the cost of a lookup that finds nothing).
    pub fn subtable_count(&self) -> usize {
        self.order.len()
    }

    fn ordered(&self) -> impl Iterator<Item = &Subtable<T>> {
        self.order.iter().map(move |&id| &*self.meta(id).sub)
    }

    fn meta(&self, id: usize) -> &SubtableMeta<T> {
        self.slots[id].as_ref().expect("live subtable id")
    }

    fn meta_mut(&mut self, id: usize) -> &mut SubtableMeta<T> {
        self.slots[id].as_mut().expect("live subtable id")
    }

    /// The highest-priority rule matching `key` (earliest installed among
    /// equals). Does not allocate.
    pub fn lookup(&self, key: &FlowKey) -> Option<&Entry<T>> {
        lookup_in(self.ordered(), key)
    }

    /// Every rule, subtable by subtable (no particular order otherwise).
    pub fn iter(&self) -> impl Iterator<Item = Rule<'_, T>> {
        rules_in(self.ordered())
    }

    /// The rule with exactly this value (masked here), mask and priority.
    pub fn get(&self, value: &FlowKey, mask: &FlowKey, priority: u16) -> Option<&Entry<T>> {
        let id = *self.by_mask.get(mask)?;
        let value = keyops::and(value, mask);
        self.meta(id).sub.find(&value)?.find(priority)
    }

    /// Mutable access to a rule's data (copies it out of any snapshot that
    /// shares its shard first).
    pub fn get_mut(&mut self, value: &FlowKey, mask: &FlowKey, priority: u16) -> Option<&mut T> {
        let id = *self.by_mask.get(mask)?;
        let value = keyops::and(value, mask);
        let meta = self.meta(id);
        meta.sub.find(&value)?.find(priority)?;
        let sub = Arc::make_mut(&mut self.meta_mut(id).sub);
        let b = sub.find_mut(&value)?;
        if b.first.priority == priority {
            return Some(&mut b.first.data);
        }
        b.rest
            .iter_mut()
            .find(|e| e.priority == priority)
            .map(|e| &mut e.data)
    }

    /// Inserts a rule; `value` is masked here. If a rule with the same
    /// (value, mask, priority) exists its data is replaced (keeping its
    /// install order) and the old data returned.
    pub fn insert(&mut self, value: FlowKey, mask: FlowKey, priority: u16, data: T) -> Option<T> {
        let value = keyops::and(&value, &mask);
        let id = match self.by_mask.get(&mask) {
            Some(&id) => id,
            None => self.new_subtable(mask),
        };
        let entry = Entry {
            priority,
            seq: self.next_seq,
            data,
        };
        let meta = self.meta_mut(id);
        let sub = Arc::make_mut(&mut meta.sub);
        if let Some(b) = sub.find_mut(&value) {
            if b.first.priority == priority {
                return Some(std::mem::replace(&mut b.first.data, entry.data));
            }
            if let Some(e) = b.rest.iter_mut().find(|e| e.priority == priority) {
                return Some(std::mem::replace(&mut e.data, entry.data));
            }
            // One bucket holds one rule per priority, ordered by priority.
            if priority > b.first.priority {
                let old_first = std::mem::replace(&mut b.first, entry);
                b.rest.insert(0, old_first);
            } else {
                let pos = b.rest.partition_point(|e| e.priority > priority);
                b.rest.insert(pos, entry);
            }
        } else {
            let hash = sub.hash_key(&value);
            let s = sub.shard_of(hash);
            let bucket = Bucket {
                value: Packed::new(sub.used_words(), &value),
                hash,
                first: entry,
                rest: Vec::new(),
            };
            Arc::make_mut(&mut sub.shards[s])
                .table
                .insert_unique(hash, bucket, |b| b.hash);
            meta.buckets += 1;
            sub.maybe_split(meta.buckets);
        }
        meta.rules += 1;
        *meta.priorities.entry(priority).or_insert(0) += 1;
        let reorder = priority > sub.max_priority || meta.rules == 1;
        if reorder {
            sub.max_priority = priority;
        }
        self.next_seq += 1;
        self.len += 1;
        if reorder {
            self.resort();
        }
        None
    }

    /// Removes the rule with exactly this value (masked here), mask and
    /// priority.
    pub fn remove(&mut self, value: &FlowKey, mask: &FlowKey, priority: u16) -> Option<Entry<T>> {
        let id = *self.by_mask.get(mask)?;
        let value = keyops::and(value, mask);
        self.meta(id).sub.find(&value)?.find(priority)?;
        let meta = self.meta_mut(id);
        let sub = Arc::make_mut(&mut meta.sub);
        let hash = sub.hash_key(&value);
        let s = sub.shard_of(hash);
        let words = &sub.words[..usize::from(sub.n_words)];
        let shard = Arc::make_mut(&mut sub.shards[s]);
        let Ok(mut occ) = shard
            .table
            .find_entry(hash, |b| b.value.equals(words, &value))
        else {
            unreachable!("bucket found above");
        };
        let b = occ.get_mut();
        let removed = if b.first.priority == priority {
            if b.rest.is_empty() {
                let (bucket, _) = occ.remove();
                meta.buckets -= 1;
                bucket.first
            } else {
                let next = b.rest.remove(0);
                std::mem::replace(&mut b.first, next)
            }
        } else {
            let pos = b.rest.iter().position(|e| e.priority == priority)?;
            b.rest.remove(pos)
        };
        meta.rules -= 1;
        match meta.priorities.get_mut(&priority) {
            Some(n) if *n > 1 => *n -= 1,
            _ => {
                meta.priorities.remove(&priority);
            }
        }
        let (empty, reorder) = match meta.priorities.keys().next_back() {
            None => (true, false),
            Some(&max) if max != sub.max_priority => {
                sub.max_priority = max;
                (false, true)
            }
            Some(_) => (false, false),
        };
        self.len -= 1;
        if empty {
            self.drop_subtable(id);
        } else if reorder {
            self.resort();
        }
        Some(removed)
    }

    /// Removes every rule.
    pub fn clear(&mut self) {
        let seed = self.seed;
        let next_seq = self.next_seq;
        *self = Classifier::new();
        self.seed = seed;
        self.next_seq = next_seq;
    }

    /// Whether some rule of priority `priority` matches a key that
    /// `(value, mask)` also matches (OFPFF_CHECK_OVERLAP). An identical
    /// rule overlaps too.
    pub fn overlaps(&self, value: &FlowKey, mask: &FlowKey, priority: u16) -> bool {
        let value = keyops::and(value, mask);
        self.order.iter().any(|&id| {
            let meta = self.meta(id);
            if !meta.priorities.contains_key(&priority) {
                return false;
            }
            let sub = &*meta.sub;
            if keyops::is_subset(&sub.mask, mask) {
                // The subtable fixes only bits the new rule fixes too: the
                // one bucket that can intersect is `value & sub.mask`.
                sub.find(&value).is_some_and(|b| b.find(priority).is_some())
            } else {
                sub.buckets().any(|b| {
                    b.find(priority).is_some()
                        && keyops::intersect(&value, mask, &sub.value_of(b), &sub.mask)
                })
            }
        })
    }

    /// Every rule that `(value, mask)` covers (OpenFlow non-strict match:
    /// the rule's mask fixes at least the bits `mask` fixes and agrees with
    /// `value` on them), any priority.
    pub fn covered_by<'a>(
        &'a self,
        value: &FlowKey,
        mask: &FlowKey,
    ) -> impl Iterator<Item = Rule<'a, T>> + 'a {
        let mask = *mask;
        let value = keyops::and(value, &mask);
        self.ordered()
            .filter(move |st| keyops::is_subset(&mask, &st.mask))
            .flat_map(move |st| -> Box<dyn Iterator<Item = Rule<'a, T>> + 'a> {
                let rules_of = move |b: &'a Bucket<T>| {
                    let value = st.value_of(b);
                    b.entries().map(move |e| Rule {
                        value,
                        mask: &st.mask,
                        entry: e,
                    })
                };
                if st.mask == mask {
                    // Only the bucket with exactly this value.
                    Box::new(st.find(&value).into_iter().flat_map(rules_of))
                } else {
                    Box::new(
                        st.buckets()
                            .filter(move |b| keyops::agree_under(&st.value_of(b), &value, &mask))
                            .flat_map(rules_of),
                    )
                }
            })
    }

    /// An immutable view sharing this classifier's current state; later
    /// writes do not show in it.
    pub fn snapshot(&self) -> ClassifierSnapshot<T> {
        ClassifierSnapshot {
            subtables: self
                .order
                .iter()
                .map(|&id| Arc::clone(&self.meta(id).sub))
                .collect(),
            len: self.len,
        }
    }

    fn new_subtable(&mut self, mask: FlowKey) -> usize {
        let meta = SubtableMeta {
            sub: Arc::new(Subtable::new(mask, self.seed)),
            priorities: BTreeMap::new(),
            buckets: 0,
            rules: 0,
            created: self.next_created,
        };
        self.next_created += 1;
        let id = match self.free.pop() {
            Some(id) => {
                self.slots[id] = Some(meta);
                id
            }
            None => {
                self.slots.push(Some(meta));
                self.slots.len() - 1
            }
        };
        self.by_mask.insert(mask, id);
        self.order.push(id);
        // Sorted by the caller once the first rule sets max_priority.
        id
    }

    fn drop_subtable(&mut self, id: usize) {
        let meta = self.slots[id].take().expect("live subtable id");
        self.by_mask.remove(&meta.sub.mask);
        self.order.retain(|&x| x != id);
        self.free.push(id);
    }

    fn resort(&mut self) {
        let slots = &self.slots;
        let key = |id: &usize| {
            let m = slots[*id].as_ref().expect("live subtable id");
            (std::cmp::Reverse(m.sub.max_priority), m.created)
        };
        // Nearly sorted after one change: insertion-sort-like cost.
        self.order.sort_by_key(key);
    }
}

/// An immutable classifier state, cheap to take and safe to share between
/// threads (`T: Send + Sync`).
pub struct ClassifierSnapshot<T> {
    subtables: Box<[Arc<Subtable<T>>]>,
    len: usize,
}

impl<T> Clone for ClassifierSnapshot<T> {
    fn clone(&self) -> Self {
        ClassifierSnapshot {
            subtables: self.subtables.clone(),
            len: self.len,
        }
    }
}

impl<T> Default for ClassifierSnapshot<T> {
    fn default() -> Self {
        ClassifierSnapshot {
            subtables: Box::new([]),
            len: 0,
        }
    }
}

impl<T> ClassifierSnapshot<T> {
    /// Same as [`Classifier::lookup`]. Does not allocate.
    #[inline]
    pub fn lookup(&self, key: &FlowKey) -> Option<&Entry<T>> {
        lookup_in(self.subtables.iter().map(|s| &**s), key)
    }

    pub fn iter(&self) -> impl Iterator<Item = Rule<'_, T>> {
        rules_in(self.subtables.iter().map(|s| &**s))
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn subtable_count(&self) -> usize {
        self.subtables.len()
    }
}

#[cfg(test)]
mod tests;
