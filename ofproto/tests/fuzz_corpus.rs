//! The fuzz targets' properties (`ofproto::fuzzing`) run over a corpus on the
//! stable toolchain: every golden vector, plus a bounded, deterministic set of
//! mutations of each (bit flips, truncations, length-field rewrites, spliced
//! messages). `cargo +nightly fuzz run decode|text` explores further.

use ofproto::fuzzing::{check_decode, check_text};
use std::path::PathBuf;

fn vectors() -> Vec<(String, Vec<u8>)> {
    let dir = std::env::var_os("OF13_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/of13-vectors"
            ))
        });
    let mut out = Vec::new();
    for sub in ["of13/packet", "of10/packet"] {
        let d = dir.join(sub);
        let rd = std::fs::read_dir(&d)
            .unwrap_or_else(|e| panic!("golden vectors not found at {}: {e}", d.display()));
        for e in rd {
            let p = e.unwrap().path();
            out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    out.sort();
    assert!(
        out.len() > 100,
        "expected the golden vectors, found {}",
        out.len()
    );
    out
}

/// xorshift64*: deterministic, so every run checks the same cases.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn decode_corpus_and_mutations_hold_the_fuzz_properties() {
    let corpus = vectors();
    let mut rng = Rng(0x7a9f_10e5_c0de_f00d);
    let mut cases = 0usize;
    for (_, bytes) in &corpus {
        check_decode(bytes);
        cases += 1;
        for _ in 0..300 {
            let mut m = bytes.clone();
            match rng.below(5) {
                0 if !m.is_empty() => {
                    let i = rng.below(m.len());
                    m[i] ^= 1 << rng.below(8);
                }
                1 => m.truncate(rng.below(m.len() + 1)),
                // Keep the header's length consistent with a truncation, so the
                // body parsers (not just framing) see short structures.
                2 if m.len() > 8 => {
                    m.truncate(8 + rng.below(m.len() - 8));
                    let len = m.len() as u16;
                    m[2..4].copy_from_slice(&len.to_be_bytes());
                }
                // Rewrite a random 16-bit word: hits nested length fields.
                3 if m.len() > 10 => {
                    let i = 8 + rng.below(m.len() - 9);
                    let v = rng.next() as u16;
                    m[i..i + 2].copy_from_slice(&v.to_be_bytes());
                }
                _ => {
                    let (_, other) = &corpus[rng.below(corpus.len())];
                    m.extend_from_slice(other);
                }
            }
            check_decode(&m);
            cases += 1;
        }
    }
    eprintln!("fuzz corpus: {cases} decode cases");
}

#[test]
fn text_corpus_and_mutations_hold_the_fuzz_properties() {
    let seeds = [
        "priority=100,arp,arp_tpa=10.10.10.12 actions=output:2",
        "priority=100,icmp,nw_dst=10.10.10.11 actions=output:1",
        "table=1,priority=200,tcp,nw_src=192.168.0.0/16,tp_dst=80 actions=mod_dl_dst:52:54:00:00:00:01,dec_ttl,output:3",
        "in_port=1,dl_vlan=10,dl_src=00:11:22:33:44:55/ff:ff:ff:00:00:00 actions=strip_vlan,NORMAL",
        "ipv6,ipv6_dst=2001:db8::/32,ipv6_label=0x12345 actions=set_field:fe80::1->ipv6_src,CONTROLLER:128",
        "mpls,mpls_label=100,mpls_bos=1 actions=pop_mpls:0x0800,goto_table:5",
        "cookie=0x10/0xff,out_port=2 actions=drop",
        "metadata=0x1/0xf,tun_id=0x5 actions=write_metadata:0x2/0xff,write_actions(output:1),meter:1",
        "icmp6,icmpv6_type=135,nd_target=fe80::2,nd_sll=00:00:00:00:00:02 actions=group:7,set_queue:3",
    ];
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let alphabet: &[u8] = b"=,:/()-> .0123456789abcdefxipvtcpudparmlsn_ACTIONS";
    let mut cases = 0usize;
    for s in seeds {
        check_text(s);
        for _ in 0..2000 {
            let mut b = s.as_bytes().to_vec();
            for _ in 0..1 + rng.below(3) {
                match rng.below(3) {
                    0 if !b.is_empty() => {
                        let i = rng.below(b.len());
                        b.remove(i);
                    }
                    1 => {
                        let i = rng.below(b.len() + 1);
                        b.insert(i, alphabet[rng.below(alphabet.len())]);
                    }
                    _ if !b.is_empty() => {
                        let i = rng.below(b.len());
                        b[i] = alphabet[rng.below(alphabet.len())];
                    }
                    _ => {}
                }
            }
            if let Ok(t) = std::str::from_utf8(&b) {
                check_text(t);
                cases += 1;
            }
        }
    }
    eprintln!("fuzz corpus: {cases} text cases");
}
