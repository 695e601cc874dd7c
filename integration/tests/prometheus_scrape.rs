//! A real Prometheus (Debian's `prometheus`, run by hand on 127.0.0.1 with
//! temp storage) scrapes tapflowd's `/metrics`: the target is `up`, and
//! after known traffic the per-port and per-flow counters it stored equal
//! what `dump-ports` and `dump-flows` report.

use integration::prometheus::Prometheus;
use integration::{free_tcp_port, require_root, wait_until, TwoVms, IP1, IP2};
use std::collections::BTreeMap;
use std::time::Duration;

const COOKIE_FLOWS: [&str; 6] = [
    "cookie=0x10,priority=100,arp,arp_tpa=10.10.10.11 actions=output:1",
    "cookie=0x10,priority=100,arp,arp_tpa=10.10.10.12 actions=output:2",
    "cookie=0x10,priority=100,icmp,nw_dst=10.10.10.11 actions=output:1",
    "cookie=0x10,priority=100,icmp,nw_dst=10.10.10.12 actions=output:2",
    "cookie=0x10,priority=100,ip,nw_dst=10.10.10.11 actions=output:1",
    "cookie=0x10,priority=100,ip,nw_dst=10.10.10.12 actions=output:2",
];

/// `match text -> (n_packets, n_bytes)` for the flows with cookie 0x10.
fn flow_counters(bed: &TwoVms) -> BTreeMap<String, (u64, u64)> {
    let dump = bed
        .d
        .tapflow_ok(["dump-flows", bed.bridge(), "cookie=0x10/-1"]);
    dump.lines()
        .filter(|l| l.contains("actions="))
        .map(|l| {
            let num = |key: &str| -> u64 {
                l.split(key)
                    .nth(1)
                    .unwrap()
                    .split(',')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            };
            let m = l.split("priority=100,").nth(1).unwrap();
            let m = m.split(" actions=").next().unwrap().to_string();
            (m, (num("n_packets="), num("n_bytes=")))
        })
        .collect()
}

/// `port number -> (rx packets, tx packets, rx bytes)` from dump-ports.
fn port_counters(bed: &TwoVms) -> BTreeMap<String, (u64, u64, u64)> {
    let dump = bed.d.tapflow_ok(["dump-ports", bed.bridge()]);
    let mut out = BTreeMap::new();
    let mut lines = dump.lines();
    while let Some(l) = lines.next() {
        let t = l.trim_start();
        if !(t.starts_with("port") && t.contains("rx pkts=")) {
            continue;
        }
        let port = t["port".len()..]
            .split(':')
            .next()
            .unwrap()
            .trim()
            .to_string();
        let field = |s: &str, key: &str| -> u64 {
            s.split(key)
                .nth(1)
                .unwrap()
                .split(',')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        };
        let tx = lines.next().unwrap();
        out.insert(
            port,
            (field(t, "pkts="), field(tx, "pkts="), field(t, "bytes=")),
        );
    }
    out
}

#[test]
fn prometheus_scrapes_port_and_flow_counters_equal_to_dumps() {
    require_root!();
    let metrics_port = free_tcp_port();
    let bed = TwoVms::start(|b| {
        b.secure()
            .arg("--metrics")
            .arg(&format!("127.0.0.1:{metrics_port}"))
            .arg("--metrics-flows")
            .arg("cookie=0x10/0xff")
    });
    let Some(prom) = Prometheus::start(
        &bed.names,
        &[("tapflowd", &format!("127.0.0.1:{metrics_port}"))],
    ) else {
        return;
    };

    let up = wait_until(Duration::from_secs(20), Duration::from_millis(250), || {
        prom.query("up{job=\"tapflowd\"}")
            .first()
            .is_some_and(|(_, v)| *v == 1.0)
    });
    assert!(
        up,
        "up{{job=\"tapflowd\"}} never became 1\n{}",
        prom.log_text()
    );

    for f in COOKIE_FLOWS {
        bed.d.tapflow_ok(["add-flow", bed.bridge(), f]);
    }
    // A flow outside the opted-in cookie: no per-flow series for it.
    bed.d.tapflow_ok([
        "add-flow",
        bed.bridge(),
        "cookie=0x20,priority=1,udp actions=drop",
    ]);
    assert!(
        bed.vm1.ping(IP2, 5, Duration::from_secs(1)),
        "vm1 -> vm2 ping"
    );
    assert!(
        bed.vm2.ping(IP1, 3, Duration::from_secs(1)),
        "vm2 -> vm1 ping"
    );

    // The namespaces are quiet after the pings (IPv6 is off in them), but
    // ARP may still refresh: take dumps before and after the scrape and
    // compare only when they agree.
    let mut last = String::new();
    let matched = wait_until(Duration::from_secs(30), Duration::from_millis(100), || {
        let (flows, ports) = (flow_counters(&bed), port_counters(&bed));
        std::thread::sleep(Duration::from_millis(2500)); // > 2 scrape intervals
        let prom_flows: BTreeMap<String, (u64, u64)> = prom
            .query("tapflow_flow_packets_total{job=\"tapflowd\"}")
            .into_iter()
            .map(|(l, v)| {
                let m = l["match"].as_str().unwrap().to_string();
                let bytes = prom.query(&format!(
                    "tapflow_flow_bytes_total{{job=\"tapflowd\",table=\"0\",cookie=\"0x10\",priority=\"100\",match=\"{m}\"}}"
                ));
                (m, (v as u64, bytes.first().map_or(u64::MAX, |b| b.1 as u64)))
            })
            .collect();
        let prom_ports: BTreeMap<String, (u64, u64, u64)> = prom
            .query("tapflow_port_rx_packets_total{job=\"tapflowd\"}")
            .into_iter()
            .map(|(l, v)| {
                let port = l["port"].as_str().unwrap().to_string();
                let q = |name: &str| {
                    prom.query(&format!("{name}{{job=\"tapflowd\",port=\"{port}\"}}"))
                        .first()
                        .map_or(u64::MAX, |s| s.1 as u64)
                };
                let tx = q("tapflow_port_tx_packets_total");
                let rxb = q("tapflow_port_rx_bytes_total");
                (port, (v as u64, tx, rxb))
            })
            .collect();
        let stable = flows == flow_counters(&bed) && ports == port_counters(&bed);
        last = format!(
            "dump-flows {flows:?}\nprometheus {prom_flows:?}\ndump-ports {ports:?}\nprometheus {prom_ports:?}"
        );
        stable && flows == prom_flows && ports == prom_ports
    });
    assert!(
        matched,
        "Prometheus' counters never equalled the dumps:\n{last}"
    );
    eprintln!("{last}");

    // The counters are real traffic, not zeros compared with zeros.
    let flows = flow_counters(&bed);
    assert_eq!(flows.len(), 6, "six opted-in flows: {flows:?}");
    assert!(flows["icmp,nw_dst=10.10.10.12"].0 >= 1, "{flows:?}");
    assert!(flows["icmp,nw_dst=10.10.10.11"].0 >= 1, "{flows:?}");
    assert!(flows["arp,arp_tpa=10.10.10.12"].0 >= 1, "{flows:?}");
    let ports = port_counters(&bed);
    assert!(ports["1"].0 >= 3 && ports["2"].0 >= 3, "{ports:?}");
}
