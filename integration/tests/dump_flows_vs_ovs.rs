//! `tapflow dump-flows` must print what `ovs-ofctl -O OpenFlow13 --no-names
//! --sort dump-flows` prints for the same flows on an Open vSwitch bridge.
//!
//! A private OVS (userspace bridge, secure, OpenFlow 1.3; see
//! `integration::ovs`) and a tapflowd (secure, no ports) get the same flows,
//! each added with the real `ovs-ofctl -O OpenFlow13 add-flow`. Then, with
//! and without statistics, and with a few dump filters:
//!
//! - reference: `ovs-ofctl --no-names --sort dump-flows` on OVS;
//! - `ovs-ofctl` on tapflowd's socket (what tapflowd stores and returns);
//! - `tapflow --sort dump-flows` on tapflowd (what an operator sees);
//! - `tapflow --sort dump-flows` on OVS (the CLI's printing alone).
//!
//! Lines are compared in order after masking `duration=…s` and the
//! `(xid=0x…)` of a header line; nothing else is normalized. A flow accepted
//! by one switch and refused by the other is a failure too. Every
//! difference is collected and printed (as a diff) before the test fails.
//! The test also prints how OVS rewrote each flow it was given (its
//! `--no-stats` line next to the `add-flow` text), for the record.

use integration::ovs::{have_ovs, Ovs};
use integration::{have_ovs_ofctl, ovs_ofctl, require_root, Daemon, DaemonBuilder, Names};
use std::collections::BTreeMap;
use std::process::Output;

/// Masks on TCP/UDP/SCTP ports: OVS accepts them as an extension, but OF1.3
/// makes those fields unmaskable, so tapflowd refuses them with
/// `OFPBMC_BAD_MASK` (spec over OVS where the spec is clear). They are
/// checked apart: refused by tapflowd, and printed by `tapflow` exactly as
/// ovs-ofctl prints them when read from OVS.
const OVS_EXTENSION_FLOWS: &[&str] = &[
    "priority=59,tcp,tcp_src=0x400/0xfc00 actions=output:2",
    "priority=54,tcp,tp_dst=0x1000/0xf000 actions=set_queue:3,output:1",
];

/// The flows, in the order they are added (`add-flow` syntax, `-O
/// OpenFlow13`). Timeouts are long enough that nothing expires.
const FLOWS: &[&str] = &[
    // The seed article's flows (ARP by arp_tpa, ICMP and IP by nw_dst).
    "priority=100,arp,arp_tpa=10.10.10.11 actions=output:1",
    "priority=100,arp,arp_tpa=10.10.10.12 actions=output:2",
    "priority=100,icmp,nw_dst=10.10.10.11 actions=output:1",
    "priority=100,icmp,nw_dst=10.10.10.12 actions=output:2",
    "priority=100,ip,nw_dst=10.10.10.11 actions=output:1",
    "priority=100,ip,nw_dst=10.10.10.12 actions=output:2",
    // Masks: CIDR, dotted, non-contiguous (value bits outside the mask),
    // Ethernet address masks.
    "priority=95,ip,nw_src=10.1.0.0/16,nw_dst=10.2.0.0/255.255.255.0 actions=output:3",
    "priority=94,ip,nw_src=10.3.7.0/255.0.255.0 actions=drop",
    "priority=93,dl_src=00:11:22:00:00:00/ff:ff:ff:00:00:00,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=drop",
    "priority=92,arp,arp_op=1,arp_spa=192.168.0.0/16,arp_sha=52:54:00:00:00:01 actions=NORMAL",
    "priority=91,dl_type=0x0806,in_port=3 actions=FLOOD",
    // VLAN.
    "priority=90,in_port=1,dl_vlan=100 actions=pop_vlan,output:2",
    "priority=89,in_port=2,vlan_tci=0x0000/0x1fff actions=push_vlan:0x8100,set_field:4196->vlan_vid,output:1",
    "priority=88,dl_vlan=200,dl_vlan_pcp=3 actions=mod_vlan_vid:300,mod_vlan_pcp:5,output:3",
    "priority=87,vlan_tci=0x1000/0x1000 actions=strip_vlan,NORMAL",
    // IPv6.
    "priority=80,ipv6,ipv6_src=2001:db8::/32,ipv6_dst=2001:db8:1::1 actions=output:2",
    "priority=79,icmp6,icmp_type=135,nd_target=fe80::1 actions=CONTROLLER:128",
    "priority=78,tcp6,ipv6_dst=2001:db8::/64,tp_dst=443 actions=output:1",
    "priority=77,ipv6,ipv6_label=0x12345 actions=drop",
    "priority=76,dl_type=0x86dd,nw_proto=58,icmp_type=128 actions=IN_PORT",
    // MPLS.
    "priority=70,mpls,mpls_label=100,mpls_tc=2 actions=pop_mpls:0x0800,output:2",
    "priority=69,ip,nw_dst=10.9.0.1 actions=push_mpls:0x8847,set_field:200->mpls_label,output:3",
    "priority=68,mpls,mpls_bos=1 actions=dec_mpls_ttl,output:1",
    // TCP/UDP/SCTP ports, set_field and mod_* rewrites.
    "priority=60,tcp,tp_dst=80 actions=output:1",
    "priority=58,udp,nw_src=10.0.0.1,udp_dst=53 actions=set_field:10.0.0.53->ip_dst,output:2",
    "priority=57,sctp,sctp_dst=3868 actions=drop",
    "priority=56,tcp,nw_dst=10.20.0.1,tp_dst=80 actions=mod_nw_dst:10.20.0.2,mod_tp_dst:8080,output:2",
    "priority=55,dl_type=0x0800,nw_proto=17,tp_dst=123 actions=output:4",
    // The default priority (32768).
    "udp,tp_dst=9999 actions=output:4",
    // Cookies, timeouts, flags.
    "cookie=0x1234,priority=50,ip,nw_tos=16 actions=output:1",
    "cookie=0xdeadbeefcafe,priority=49,idle_timeout=60000,ip,nw_ecn=1 actions=drop",
    "cookie=0x5,priority=48,hard_timeout=50000,udp,tp_src=67,tp_dst=68 actions=NORMAL",
    "cookie=0x6,priority=47,idle_timeout=40000,hard_timeout=60000,send_flow_rem,icmp,icmp_type=8,icmp_code=0 actions=output:2",
    "cookie=0x7,priority=46,reset_counts,udp,tp_dst=5000 actions=drop",
    "cookie=0x1234,priority=45,ip,ip_dscp=10 actions=output:LOCAL",
    "cookie=0x8,priority=44,check_overlap,udp,tp_dst=5001 actions=drop",
    "priority=43,no_packet_counts,no_byte_counts,udp,tp_dst=5002 actions=drop",
    // Controller and reserved ports.
    "priority=40,dl_type=0x88cc actions=CONTROLLER:65535",
    "priority=39,in_port=LOCAL actions=output:1,output:2",
    "priority=38,dl_dst=ff:ff:ff:ff:ff:ff actions=ALL",
    // A pipeline over tables 0-3: goto_table, write_metadata (masked and
    // not), write_actions, clear_actions (ovs-ofctl wants it after the
    // apply actions), dec_ttl, mod_dl_*.
    "priority=1 actions=goto_table:1",
    "table=1,priority=10,in_port=1 actions=write_metadata:0x1/0xff,goto_table:2",
    "table=1,priority=9,in_port=2 actions=write_metadata:0xabcd0000,goto_table:2",
    "table=1,priority=0 actions=drop",
    "table=2,priority=10,metadata=0x1/0xff actions=write_actions(output:2),goto_table:3",
    "table=2,priority=9,ip,metadata=0xabcd0000 actions=mod_dl_dst:52:54:00:00:00:02,write_actions(set_field:10.0.0.2->ip_dst,output:1),goto_table:3",
    "table=2,priority=8,arp actions=clear_actions,goto_table:3",
    "table=3,priority=20,icmp actions=CONTROLLER:64,clear_actions",
    "table=3,priority=10,ip actions=dec_ttl,mod_dl_src:00:00:5e:00:53:01,output:4",
    "table=3,priority=0 actions=NORMAL",
];

/// Filters given after the target (`dump-flows TARGET FILTER`).
const FILTERS: &[&str] = &[
    "table=2",
    "cookie=0x1234/-1",
    "out_port=2",
    "ip,nw_dst=10.10.10.12",
];

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).trim().to_string()
}

/// `duration=12.345s` → `duration=*s`; `(xid=0x1f)` → `(xid=0x*)`.
fn mask(dump: &str) -> Vec<String> {
    dump.lines()
        .map(|l| {
            let l = mask_between(l, "duration=", 's');
            mask_between(&l, "(xid=0x", ')')
        })
        .collect()
}

/// Replaces what follows each `key` up to (not including) `end` with `*`.
fn mask_between(line: &str, key: &str, end: char) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find(key) {
        out.push_str(&rest[..i + key.len()]);
        rest = &rest[i + key.len()..];
        match rest.find(end) {
            Some(j) => {
                out.push('*');
                rest = &rest[j..];
            }
            None => break,
        }
    }
    out.push_str(rest);
    out
}

/// A flow's text with formatting-only differences removed: the
/// `cookie=`/`table=`/timeout/flag/`priority=` words as a set, the match
/// fields and the actions in order. `table=0` is the default.
fn canonical(flow: &str) -> (Vec<String>, Vec<String>, String) {
    let (m, a) = flow.split_once("actions=").unwrap_or((flow, ""));
    let mut head: Vec<String> = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    for w in m
        .split([',', ' '])
        .filter(|w| !w.is_empty() && *w != "table=0")
    {
        let k = w.split('=').next().unwrap_or(w);
        let is_head = matches!(
            k,
            "cookie"
                | "table"
                | "idle_timeout"
                | "hard_timeout"
                | "priority"
                | "send_flow_rem"
                | "reset_counts"
                | "check_overlap"
                | "no_packet_counts"
                | "no_byte_counts"
        );
        if is_head {
            head.push(w.to_string());
        } else {
            fields.push(w.to_string());
        }
    }
    head.sort();
    (head, fields, a.trim().to_string())
}

/// A line diff (longest common subsequence): ` ` both, `-` only in `a`
/// (the reference), `+` only in `b`.
fn diff(a: &[String], b: &[String]) -> String {
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut s = String::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            s.push_str(&format!("  {}\n", a[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            s.push_str(&format!("+ {}\n", b[j]));
            j += 1;
        } else {
            s.push_str(&format!("- {}\n", a[i]));
            i += 1;
        }
    }
    s
}

fn counts(lines: &[String]) -> BTreeMap<&str, i64> {
    let mut c = BTreeMap::new();
    for l in lines {
        *c.entry(l.as_str()).or_insert(0) += 1;
    }
    c
}

/// A dump line's priority (ovs-ofctl leaves out the default, 32768).
fn priority(line: &str) -> u32 {
    line.split("priority=")
        .nth(1)
        .and_then(|v| v.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(32768)
}

/// Compares `got` with the reference; returns a problem report, if any.
fn compare(what: &str, reference: &[String], got: &[String]) -> Option<String> {
    if reference == got {
        return None;
    }
    let (cr, cg) = (counts(reference), counts(got));
    let mut only_ref: Vec<&str> = Vec::new();
    let mut only_got: Vec<&str> = Vec::new();
    for (l, n) in &cr {
        for _ in 0..(n - cg.get(l).copied().unwrap_or(0)).max(0) {
            only_ref.push(l);
        }
    }
    for (l, n) in &cg {
        for _ in 0..(n - cr.get(l).copied().unwrap_or(0)).max(0) {
            only_got.push(l);
        }
    }
    let mut s = format!("MISMATCH {what}\n");
    if only_ref.is_empty() && only_got.is_empty() {
        let prios = |v: &[String]| v.iter().map(|l| priority(l)).collect::<Vec<_>>();
        if prios(reference) == prios(got) {
            // Same lines, and only flows of equal priority in another order:
            // `--sort` keeps each switch's own order for ties, and OVS's comes
            // from its classifier's hashing (ARP and IP flows share a subtable
            // because arp_tpa and nw_dst share storage). Equal as sets is the
            // requirement; copying OVS's hash order is not.
            return None;
        }
        s.push_str("  (same lines, different order)\n");
    } else {
        s.push_str("  lines only in the reference (OVS/ovs-ofctl):\n");
        for l in &only_ref {
            s.push_str(&format!("    {l}\n"));
        }
        s.push_str("  lines only here:\n");
        for l in &only_got {
            s.push_str(&format!("    {l}\n"));
        }
    }
    s.push_str("  diff (- reference, + this):\n");
    for l in diff(reference, got).lines() {
        s.push_str(&format!("    {l}\n"));
    }
    Some(s)
}

/// Whichever way a dump was made: (label, output).
fn dumps(
    d: &Daemon,
    ovs_target: &str,
    tf_target: &str,
    opts: &[&str],
    filter: Option<&str>,
) -> Vec<(String, Output)> {
    let mut v = Vec::new();
    let args = |target: &str| {
        let mut a: Vec<String> = vec!["--no-names".into()];
        a.extend(opts.iter().map(|s| s.to_string()));
        a.push("--sort".into());
        a.push("dump-flows".into());
        a.push(target.into());
        if let Some(f) = filter {
            a.push(f.into());
        }
        a
    };
    let shown = |tool: &str, on: &str| {
        format!(
            "`{tool} {}--sort dump-flows{}` on {on}",
            opts.iter().map(|o| format!("{o} ")).collect::<String>(),
            filter.map(|f| format!(" {f}")).unwrap_or_default()
        )
    };
    v.push((shown("ovs-ofctl", "OVS"), ovs_ofctl(args(ovs_target))));
    v.push((shown("ovs-ofctl", "tapflowd"), ovs_ofctl(args(tf_target))));
    v.push((shown("tapflow", "tapflowd"), d.tapflow(args(tf_target))));
    v.push((shown("tapflow", "OVS"), d.tapflow(args(ovs_target))));
    v
}

#[test]
fn dump_flows_matches_ovs_for_the_same_flows() {
    require_root!();
    if !have_ovs_ofctl() || !have_ovs() {
        return;
    }
    let names = Names::new();
    let obr = names.name("ob");
    let ovs = Ovs::builder(&names).bridge(&obr).start();
    let d = DaemonBuilder::new(&names.name("br")).secure().spawn(&names);
    // tapflowd's LOCAL port is a TAP in our namespace, created up: the
    // kernel would send IPv6 router solicitations and MLD reports on it,
    // which flows matching in_port=LOCAL would count (OVS's bridge port is
    // down in OVS's own namespace). No IPv6 there, so both count nothing.
    let local = format!("/proc/sys/net/ipv6/conf/{}/disable_ipv6", d.bridge());
    std::fs::write(&local, "1").unwrap_or_else(|e| panic!("write {local}: {e}"));
    let ovs_t = ovs.mgmt_target(&obr);
    let tf_t = d.mgmt_target();
    let mut problems: Vec<String> = Vec::new();

    // Add every flow to both; note refusals and what OVS made of each flow.
    let mut rewrites = String::new();
    let mut prev = mask(&text(&ovs_ofctl([
        "--no-names",
        "--no-stats",
        "--sort",
        "dump-flows",
        &ovs_t,
    ])));
    for flow in FLOWS {
        let o = ovs_ofctl(["add-flow", &ovs_t, flow]);
        let t = ovs_ofctl(["add-flow", &tf_t, flow]);
        match (o.status.success(), t.status.success()) {
            (true, true) => {}
            (false, false) => problems.push(format!(
                "REFUSED BY BOTH (fix the test's flow list): {flow}\n  OVS: {}\n  tapflowd: {}\n",
                err(&o),
                err(&t)
            )),
            (true, false) => problems.push(format!(
                "REFUSED BY TAPFLOWD ONLY: {flow}\n  tapflowd: {}\n",
                err(&t)
            )),
            (false, true) => {
                problems.push(format!("REFUSED BY OVS ONLY: {flow}\n  OVS: {}\n", err(&o)))
            }
        }
        if o.status.success() {
            let now = mask(&text(&ovs_ofctl([
                "--no-names",
                "--no-stats",
                "--sort",
                "dump-flows",
                &ovs_t,
            ])));
            let mut c = counts(&prev);
            let mut new: Vec<&String> = Vec::new();
            for l in &now {
                match c.get_mut(l.as_str()) {
                    Some(n) if *n > 0 => *n -= 1,
                    _ => new.push(l),
                }
            }
            let shown: Vec<&str> = new.iter().map(|l| l.trim()).collect();
            if shown.len() != 1 || canonical(shown[0]) != canonical(flow) {
                rewrites.push_str(&format!(
                    "  add-flow: {flow}\n  OVS dump: {}\n\n",
                    shown.join(" | ")
                ));
            }
            prev = now;
        }
    }
    eprintln!(
        "== How OVS 3.1 rewrote the flows it was given (add-flow text, then its \
         --no-stats line; formatting-only differences left out):\n{rewrites}"
    );

    // Full dumps, with and without statistics, then filtered ones.
    let mut cases: Vec<(Vec<&str>, Option<&str>)> =
        vec![(vec![], None), (vec!["--no-stats"], None)];
    cases.extend(FILTERS.iter().map(|f| (vec!["--no-stats"], Some(*f))));
    for (opts, filter) in cases {
        let all = dumps(&d, &ovs_t, &tf_t, &opts, filter);
        let (ref_label, ref_out) = &all[0];
        assert!(
            ref_out.status.success(),
            "{ref_label} failed: {}\n{}",
            err(ref_out),
            ovs.log_text()
        );
        let reference = mask(&text(ref_out));
        eprintln!("== reference: {ref_label}\n{}", reference.join("\n"));
        for (label, out) in &all[1..] {
            if !out.status.success() {
                problems.push(format!("FAILED {label} ({}): {}\n", out.status, err(out)));
                continue;
            }
            if let Some(p) = compare(
                &format!("{label} vs {ref_label}"),
                &reference,
                &mask(&text(out)),
            ) {
                problems.push(p);
            }
        }
    }

    // Masked L4 ports: OVS takes them, tapflowd answers OFPBMC_BAD_MASK, and
    // `tapflow` prints OVS's flows exactly as ovs-ofctl does.
    for flow in OVS_EXTENSION_FLOWS {
        assert!(
            ovs_ofctl(["add-flow", &ovs_t, flow]).status.success(),
            "OVS refused {flow}"
        );
        let t = ovs_ofctl(["add-flow", &tf_t, flow]);
        if t.status.success() || !err(&t).contains("OFPBMC_BAD_MASK") {
            problems.push(format!(
                "tapflowd should refuse {flow} with OFPBMC_BAD_MASK: {}\n",
                err(&t)
            ));
        }
    }
    let all = dumps(&d, &ovs_t, &tf_t, &["--no-stats"], None);
    let (ref_label, ref_out) = &all[0];
    let reference = mask(&text(ref_out));
    for (label, out) in &all[1..] {
        if label.contains("on OVS") {
            if let Some(p) = compare(
                &format!("{label} vs {ref_label} (with masked ports)"),
                &reference,
                &mask(&text(out)),
            ) {
                problems.push(p);
            }
        }
    }

    if !problems.is_empty() {
        panic!(
            "{} difference(s) between tapflow(d) and OVS 3.1 dump-flows:\n\n{}",
            problems.len(),
            problems.join("\n")
        );
    }
}

/// The `Ovs` helper itself, as benchmarks use it: an `other_config` key
/// read at startup (userspace TSO), TAP ports OVS creates with requested
/// port numbers, and nothing left behind afterwards.
#[test]
fn ovs_helper_starts_with_other_config_and_tap_ports_and_cleans_up() {
    require_root!();
    if !have_ovs_ofctl() || !have_ovs() {
        return;
    }
    let names = Names::new();
    let br = names.name("ob");
    let (p1, p2) = (names.name("p1"), names.name("p2"));
    let ovs = Ovs::builder(&names)
        .other_config("userspace-tso-enable", "true")
        .bridge(&br)
        .start();
    let (dir, ns) = (
        ovs.dir().to_path_buf(),
        ovs.netns().expect("private namespace").name().to_string(),
    );
    assert_eq!(ovs.add_port(&br, &p1, &[("type", "tap")], Some(1)), 1);
    assert_eq!(ovs.add_port(&br, &p2, &[("type", "tap")], Some(2)), 2);
    let oc = ovs.get_open_vswitch("other_config");
    assert!(oc.contains("userspace-tso-enable"), "{oc}");
    assert!(
        ovs.log_text()
            .contains("Userspace TCP Segmentation Offloading support enabled"),
        "{}",
        ovs.log_text()
    );
    ovs.set_other_config("max-idle", "30000");
    // The TAPs live in OVS's namespace, not ours.
    assert!(ovs.ip(["link", "show", &p1]).contains(&p1));
    assert!(!integration::link_exists(&p1));
    let show = integration::ovs_ofctl_ok(["show", &ovs.mgmt_target(&br)]);
    assert!(show.contains(&format!("1({p1})")), "{show}");
    assert!(show.contains(&format!("2({p2})")), "{show}");
    assert!(ovs.appctl(["dpif/show"]).contains(&p2));
    ovs.del_port(&br, &p2);
    assert!(!integration::ovs_ofctl_ok(["show", &ovs.mgmt_target(&br)]).contains(&p2));
    drop(ovs);
    assert!(!dir.exists(), "{} left behind", dir.display());
    assert!(
        !std::path::Path::new("/run/netns").join(&ns).exists(),
        "namespace {ns} left behind"
    );
}
