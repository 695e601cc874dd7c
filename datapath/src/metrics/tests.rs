//! The exposition (escaping, HELP/TYPE, opt-in per-flow series), the flow
//! selector, the per-controller counters, the HTTP endpoint over loopback,
//! the runtime wiring (serving, bind failure, shutdown), `promtool check
//! metrics` when installed, and a scrape-cost measurement with 100k flows.
//! Nothing here needs root: bridges run with in-memory ports and data plane.

use super::expo::{self, Kind};
use super::http::{self, route, Route};
use super::*;
use crate::bridge::dp::{DataplaneFactory, DataplaneOps, StartedDataplane, WorkerSet};
use crate::bridge::event::{BridgeEvent, ConnHandle, ConnKind};
use crate::bridge::openflow::{Bridge, BridgeChannels, BridgeSettings, Command};
use crate::bridge::ports::{OpenHow, OpenedPort, PortBackend, PortKind, Ports};
use crate::bridge::runtime::{start_all_with, RuntimeOptions};
use crate::config::{BridgeConfig, DaemonConfig, FailMode, PortSpec, TableMiss};
use crate::dataplane::{DatapathStats, PortCounters, Trace};
use crate::packet::FlowKey;
use crate::pipeline::{Pipeline, PipelineConfig};
use crate::port::{LinkState, MacAddr, PacketBatch, Port, TxMeta};
use ofproto::action::Action;
use ofproto::consts::OFPP_LOCAL;
use ofproto::text::{parse_flow, FlowCommand};
use ofproto::WireError;
use std::collections::BTreeMap;
use std::io;
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

// ------------------------------------------------------------- parsing

/// One sample line: name, labels, value.
type Sample = (String, BTreeMap<String, String>, u64);

/// A strict reader of what we emit: every family has `# HELP` then
/// `# TYPE` before its samples, appears once and contiguously; label values
/// unescape. Panics on anything else.
fn parse(text: &str) -> (Vec<(String, String)>, Vec<Sample>) {
    let mut families: Vec<(String, String)> = Vec::new();
    let mut samples = Vec::new();
    let mut help_for: Option<String> = None;
    assert!(text.ends_with('\n'), "ends with a newline");
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, _) = rest.split_once(' ').expect("HELP has text");
            assert!(
                families.iter().all(|(n, _)| n != name),
                "family {name} appears twice"
            );
            help_for = Some(name.to_string());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert_eq!(help_for.as_deref(), Some(name), "HELP precedes TYPE");
            assert!(kind == "counter" || kind == "gauge", "{line}");
            families.push((name.to_string(), kind.to_string()));
            continue;
        }
        assert!(!line.starts_with('#'), "{line}");
        let (name, labels, value) = match line.find('{') {
            Some(i) => {
                let end = line.rfind('}').expect("labels close");
                (
                    &line[..i],
                    parse_labels(&line[i + 1..end]),
                    &line[end + 2..],
                )
            }
            None => {
                let (n, v) = line.split_once(' ').unwrap();
                (n, BTreeMap::new(), v)
            }
        };
        assert_eq!(
            families.last().map(|f| f.0.as_str()),
            Some(name),
            "sample of {name} outside its family"
        );
        let value: u64 = value.parse().unwrap_or_else(|_| panic!("value of {line}"));
        samples.push((name.to_string(), labels, value));
    }
    (families, samples)
}

fn parse_labels(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut chars = s.chars().peekable();
    while chars.peek().is_some() {
        let key: String = chars.by_ref().take_while(|&c| c != '=').collect();
        assert_eq!(chars.next(), Some('"'));
        let mut v = String::new();
        loop {
            match chars.next().expect("unterminated label value") {
                '\\' => match chars.next().unwrap() {
                    'n' => v.push('\n'),
                    c @ ('\\' | '"') => v.push(c),
                    c => panic!("bad escape \\{c}"),
                },
                '"' => break,
                '\n' => panic!("raw newline in a label value"),
                c => v.push(c),
            }
        }
        assert!(out.insert(key, v).is_none(), "label twice");
        match chars.next() {
            Some(',') | None => {}
            Some(c) => panic!("unexpected {c}"),
        }
    }
    out
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<u64> {
    samples
        .iter()
        .find(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.2)
}

// ------------------------------------------------------------- exposition

fn flow_entry(pipeline: &mut Pipeline, text: &str) {
    let fm = parse_flow(text, FlowCommand::Add).unwrap();
    pipeline.apply_flow_mod(&fm, 0).unwrap();
}

fn sample_bridge(name: &str) -> BridgeMetrics {
    BridgeMetrics {
        bridge: name.into(),
        ports: vec![
            PortSample {
                ofport: 1,
                name: "tap\"1\\x\ny".into(),
                up: true,
                counters: PortCounters {
                    rx_packets: 3,
                    tx_packets: 4,
                    rx_bytes: 300,
                    tx_bytes: 400,
                    rx_dropped: 1,
                    tx_dropped: 2,
                    rx_errors: 5,
                    tx_errors: 6,
                },
            },
            PortSample {
                ofport: OFPP_LOCAL,
                name: name.into(),
                up: false,
                counters: PortCounters::default(),
            },
        ],
        tables: vec![TableSample {
            table_id: 0,
            active: 2,
            lookups: 10,
            matches: 7,
        }],
        controllers: vec![ControllerSample {
            target: "tcp:127.0.0.1:6653".into(),
            connections: 1,
            messages_in: 9,
            messages_out: 11,
            messages_dropped: 0,
        }],
        datapath: DatapathStats {
            packet_in_sent: 12,
            packet_in_rate_dropped: 2,
            packet_in_queue_dropped: 1,
            cache_hits: 100,
            cache_misses: 8,
            ..Default::default()
        },
        flows: vec![],
    }
}

#[test]
fn label_values_and_help_are_escaped() {
    let mut s = String::new();
    expo::escape_into(&mut s, "a\\b\"c\nd", true);
    assert_eq!(s, r#"a\\b\"c\nd"#);
    let mut s = String::new();
    expo::escape_into(&mut s, "a\\b\"c\nd", false);
    assert_eq!(s, "a\\\\b\"c\\nd", "HELP keeps quotes");
    let mut w = expo::Writer::new();
    w.family("x_total", Kind::Counter, "line\nbreak \\ here");
    w.sample("x_total", &[("a", "q\"uote"), ("b", "")], 7);
    w.sample("x_total", &[], 8);
    assert_eq!(
        w.finish(),
        "# HELP x_total line\\nbreak \\\\ here\n# TYPE x_total counter\n\
         x_total{a=\"q\\\"uote\",b=\"\"} 7\nx_total 8\n"
    );
}

#[test]
fn every_family_has_help_and_type_and_the_values_are_the_snapshot() {
    let text = expo::render(
        &[sample_bridge("br0"), sample_bridge("br1")],
        &["br9".into()],
    );
    let (families, samples) = parse(&text);
    let want: Vec<(String, String)> = expo::family_names()
        .into_iter()
        .filter(|(n, _)| !n.starts_with("tapflow_flow_") || n.contains("cache"))
        .map(|(n, k)| {
            let k = match k {
                Kind::Counter => "counter",
                Kind::Gauge => "gauge",
            };
            (n.to_string(), k.to_string())
        })
        .collect();
    assert_eq!(families, want, "no per-flow families without a selection");
    for (n, k) in &families {
        assert_eq!(
            n.ends_with("_total"),
            k == "counter",
            "{n}: counters end in _total"
        );
    }
    let p1 = [
        ("bridge", "br1"),
        ("port", "1"),
        ("port_name", "tap\"1\\x\ny"),
    ];
    assert_eq!(
        value(&samples, "tapflow_port_rx_packets_total", &p1),
        Some(3)
    );
    assert_eq!(
        value(&samples, "tapflow_port_tx_errors_total", &p1),
        Some(6)
    );
    assert_eq!(value(&samples, "tapflow_port_up", &p1), Some(1));
    let local = [("bridge", "br0"), ("port", "LOCAL"), ("port_name", "br0")];
    assert_eq!(value(&samples, "tapflow_port_up", &local), Some(0));
    let t0 = [("bridge", "br0"), ("table", "0")];
    assert_eq!(
        value(&samples, "tapflow_table_lookups_total", &t0),
        Some(10)
    );
    assert_eq!(value(&samples, "tapflow_table_matches_total", &t0), Some(7));
    assert_eq!(value(&samples, "tapflow_table_active_flows", &t0), Some(2));
    let c = [("bridge", "br0"), ("target", "tcp:127.0.0.1:6653")];
    assert_eq!(value(&samples, "tapflow_controller_connected", &c), Some(1));
    assert_eq!(
        value(&samples, "tapflow_controller_messages_in_total", &c),
        Some(9)
    );
    assert_eq!(
        value(&samples, "tapflow_controller_messages_out_total", &c),
        Some(11)
    );
    let b = [("bridge", "br0")];
    assert_eq!(
        value(&samples, "tapflow_packet_in_sent_total", &b),
        Some(12)
    );
    let rl = [("bridge", "br0"), ("reason", "rate_limit")];
    assert_eq!(
        value(&samples, "tapflow_packet_in_dropped_total", &rl),
        Some(2)
    );
    let qf = [("bridge", "br0"), ("reason", "queue_full")];
    assert_eq!(
        value(&samples, "tapflow_packet_in_dropped_total", &qf),
        Some(1)
    );
    assert_eq!(
        value(&samples, "tapflow_flow_cache_hits_total", &b),
        Some(100)
    );
    assert_eq!(
        value(&samples, "tapflow_flow_cache_misses_total", &b),
        Some(8)
    );
    assert_eq!(value(&samples, "tapflow_bridge_up", &b), Some(1));
    assert_eq!(
        value(&samples, "tapflow_bridge_up", &[("bridge", "br9")]),
        Some(0)
    );
}

#[test]
fn only_opted_in_flows_get_series_labelled_like_dump_flows() {
    let mut p = Pipeline::new(PipelineConfig::default());
    flow_entry(
        &mut p,
        "cookie=0x10,priority=100,arp,arp_tpa=10.10.10.12 actions=output:2",
    );
    flow_entry(
        &mut p,
        "cookie=0x1f,priority=90,ip,nw_dst=10.0.0.1 actions=output:1",
    );
    flow_entry(&mut p, "cookie=0x110,priority=5,ip actions=drop");
    flow_entry(
        &mut p,
        "cookie=0x20,table=3,priority=1,tcp,tp_dst=80 actions=drop",
    );
    flow_entry(&mut p, "cookie=0x20,table=4,priority=1 actions=drop");
    let sel = |specs: &[&str]| {
        FlowSelect::new(
            specs
                .iter()
                .map(|s| s.parse::<FlowSpec>().unwrap())
                .collect(),
        )
    };
    let cookies = |s: &FlowSelect| -> Vec<(u8, u64)> {
        let mut v = s.collect(&p);
        super::select::sort_flows(&mut v);
        v.iter()
            .map(|f| (f.entry.table_id, f.entry.cookie))
            .collect()
    };
    assert!(cookies(&sel(&[])).is_empty());
    // Masked: 0x10 and 0x110 match 0x10/0xff; 0x1f does not.
    assert_eq!(
        cookies(&sel(&["cookie=0x10/0xff"])),
        vec![(0, 0x10), (0, 0x110)]
    );
    assert_eq!(cookies(&sel(&["cookie=0x10"])), vec![(0, 0x10)]);
    assert_eq!(cookies(&sel(&["table=3"])), vec![(3, 0x20)]);
    assert_eq!(
        cookies(&sel(&["table=3", "table=4"])),
        vec![(3, 0x20), (4, 0x20)]
    );
    assert_eq!(cookies(&sel(&["table=0,cookie=0x1f"])), vec![(0, 0x1f)]);
    assert_eq!(
        cookies(&sel(&["cookie=0x10", "table=4"])),
        vec![(0, 0x10), (4, 0x20)],
        "specs are alternatives"
    );
    assert_eq!(
        cookies(&sel(&["cookie=0/0"])).len(),
        5,
        "0/0 selects everything"
    );

    // The series: counters as the flow has them, labels identify the flow.
    let f = p
        .table(0)
        .unwrap()
        .iter()
        .find(|e| e.cookie == 0x10)
        .unwrap();
    f.record(3, 180, 1);
    let mut b = sample_bridge("br0");
    b.flows = sel(&["cookie=0x10/0xff"]).collect(&p);
    let (families, samples) = parse(&expo::render(&[b], &[]));
    assert!(families.iter().any(|f| f.0 == "tapflow_flow_packets_total"));
    let labels = [
        ("bridge", "br0"),
        ("table", "0"),
        ("cookie", "0x10"),
        ("priority", "100"),
        ("match", "arp,arp_tpa=10.10.10.12"),
    ];
    assert_eq!(
        value(&samples, "tapflow_flow_packets_total", &labels),
        Some(3)
    );
    assert_eq!(
        value(&samples, "tapflow_flow_bytes_total", &labels),
        Some(180)
    );
    let n = samples
        .iter()
        .filter(|s| s.0 == "tapflow_flow_packets_total")
        .count();
    assert_eq!(n, 2);
}

#[test]
fn idle_tables_are_left_out() {
    let mut p = Pipeline::new(PipelineConfig::default());
    flow_entry(&mut p, "table=2,priority=1 actions=drop");
    p.table(7).unwrap().counters().record(5, 0);
    let t = table_samples(&p);
    let ids: Vec<u8> = t.iter().map(|t| t.table_id).collect();
    assert_eq!(ids, vec![2, 7]);
    assert_eq!((t[0].active, t[1].lookups), (1, 5));
}

#[test]
fn flow_specs_parse_and_bad_ones_name_the_spec() {
    let s: FlowSpec = "cookie=0x10/0xff".parse().unwrap();
    assert_eq!(
        s,
        FlowSpec {
            table: None,
            cookie: Some((0x10, 0xff))
        }
    );
    let s: FlowSpec = " table=3 , cookie=42 ".parse().unwrap();
    assert_eq!(
        s,
        FlowSpec {
            table: Some(3),
            cookie: Some((42, u64::MAX))
        }
    );
    assert_eq!(s.to_string(), "table=3,cookie=0x2a");
    assert_eq!(
        "cookie=0x10/0xff".parse::<FlowSpec>().unwrap().to_string(),
        "cookie=0x10/0xff"
    );
    for (bad, why) in [
        ("", "empty"),
        ("table=255", "not a table number"),
        ("table=x", "not a table number"),
        ("cookie=0xzz", "not a 64-bit number"),
        ("cookie=1/0xq", "mask '0xq'"),
        ("cookie=0x110/0xff", "bits outside its mask"),
        ("priority=5", "unknown condition 'priority'"),
        ("table=1,table=2", "table given twice"),
        ("cookie", "is not cookie=VALUE"),
    ] {
        let e = bad.parse::<FlowSpec>().unwrap_err().0;
        assert!(e.starts_with(&format!("metrics flows '{bad}': ")), "{e}");
        assert!(e.contains(why), "{bad}: {e}");
    }
}

fn handle(id: u64, kind: ConnKind, peer: &str) -> ConnHandle {
    let (tx, _rx) = mpsc::channel(1);
    ConnHandle {
        id,
        kind,
        peer: peer.into(),
        tx,
    }
}

#[test]
fn controller_counters_follow_targets_across_reconnects() {
    let mut c = ControllerStats::default();
    c.set_targets(
        &["tcp:10.0.0.1:6653".into()],
        &["ptcp:6653:127.0.0.1".into()],
    );
    let get =
        |c: &ControllerStats, t: &str| c.samples().into_iter().find(|s| s.target == t).unwrap();
    assert_eq!(
        get(&c, "tcp:10.0.0.1:6653").connections,
        0,
        "listed while down"
    );
    c.conn_up(&handle(1, ConnKind::Primary, "tcp:10.0.0.1:6653"));
    c.conn_up(&handle(2, ConnKind::Primary, "tcp:127.0.0.1:40001"));
    c.conn_up(&handle(3, ConnKind::Service, "unix:/run/tapflow/br0.mgmt"));
    c.message_in(1);
    c.message_out(1);
    c.message_out(1);
    c.message_in(2);
    c.message_dropped(2);
    c.message_in(3); // service: not a controller
    c.conn_down(1);
    c.conn_up(&handle(4, ConnKind::Primary, "tcp:10.0.0.1:6653"));
    c.message_in(4);
    let a = get(&c, "tcp:10.0.0.1:6653");
    assert_eq!((a.connections, a.messages_in, a.messages_out), (1, 2, 2));
    let p = get(&c, "ptcp:6653:127.0.0.1");
    assert_eq!(
        (p.connections, p.messages_in, p.messages_dropped),
        (1, 1, 1)
    );
    assert_eq!(c.samples().len(), 2, "no series for the service connection");

    // Without a listener, an unknown primary peer gets a series of its own
    // for as long as it is connected.
    let mut c = ControllerStats::default();
    c.conn_up(&handle(1, ConnKind::Primary, "tcp:127.0.0.1:5000"));
    c.message_in(1);
    assert_eq!(c.samples()[0].target, "tcp:127.0.0.1:5000");
    c.conn_down(1);
    assert!(c.samples().is_empty());
    c.conn_up(&handle(2, ConnKind::Primary, "tcp:127.0.0.1:5001"));
    assert_eq!(c.samples()[0].messages_in, 0);
}

// ------------------------------------------------------------- HTTP

#[test]
fn requests_are_routed() {
    let m = Route::Metrics { head_only: false };
    assert_eq!(route(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), m);
    assert_eq!(route(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n"), m);
    assert_eq!(
        route(b"HEAD /metrics HTTP/1.1\r\n\r\n"),
        Route::Metrics { head_only: true }
    );
    assert_eq!(route(b"GET / HTTP/1.1\r\n\r\n"), Route::NotFound);
    assert_eq!(route(b"GET /metricsx HTTP/1.1\r\n\r\n"), Route::NotFound);
    assert_eq!(
        route(b"POST /metrics HTTP/1.1\r\n\r\n"),
        Route::MethodNotAllowed
    );
    assert_eq!(
        route(b"DELETE /metrics HTTP/1.1\r\n\r\n"),
        Route::MethodNotAllowed
    );
    assert_eq!(route(b"GET /metrics\r\n\r\n"), Route::BadRequest);
    assert_eq!(route(b"GET /metrics HTTP/2\r\n\r\n"), Route::BadRequest);
    assert_eq!(route(b"GET  /metrics HTTP/1.1\r\n\r\n"), Route::BadRequest);
    assert_eq!(route(b"\xff\xfe\r\n\r\n"), Route::BadRequest);
}

/// A stand-in owner task: answers `Command::Metrics` with `b` (plus the
/// flows of `pipeline` the request selects).
fn fake_bridge(b: BridgeMetrics, pipeline: Option<Pipeline>) -> mpsc::Sender<Command> {
    let (tx, mut rx) = mpsc::channel::<Command>(8);
    tokio::spawn(async move {
        while let Some(c) = rx.recv().await {
            if let Command::Metrics { flows, reply } = c {
                let mut m = b.clone();
                if let Some(p) = &pipeline {
                    m.flows = flows.collect(p);
                }
                let _ = reply.send(m);
            }
        }
    });
    tx
}

/// One request; returns (status line, headers, body).
async fn http_request(addr: std::net::SocketAddr, req: &[u8]) -> (String, String, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(req).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("response in time")
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("a head");
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    (status.to_string(), headers.to_string(), body.to_string())
}

async fn get(addr: std::net::SocketAddr, path: &str) -> (String, String, String) {
    http_request(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/plain\r\n\r\n").as_bytes(),
    )
    .await
}

#[tokio::test]
async fn endpoint_serves_metrics_404s_and_405s() {
    let mut p = Pipeline::new(PipelineConfig::default());
    flow_entry(&mut p, "cookie=0x10,priority=100,ip actions=drop");
    let bridges = vec![
        BridgeSource {
            name: "br0".into(),
            commands: fake_bridge(sample_bridge("br0"), Some(p)),
        },
        BridgeSource {
            // A bridge whose owner task is gone.
            name: "dead".into(),
            commands: mpsc::channel(1).0,
        },
    ];
    let sel = FlowSelect::new(vec!["cookie=0x10".parse().unwrap()]);
    let server = MetricsServer::spawn(
        http::bind("127.0.0.1:0").await.unwrap(),
        Scraper::new(bridges, sel),
    );
    let addr = server.local_addr();
    assert_ne!(addr.port(), 0);

    let (status, headers, body) = get(addr, "/metrics").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(
        headers
            .lines()
            .any(|h| h == "Content-Type: text/plain; version=0.0.4; charset=utf-8"),
        "{headers}"
    );
    assert!(
        headers.contains(&format!("Content-Length: {}", body.len())),
        "{headers}"
    );
    let (_, samples) = parse(&body);
    let b = [("bridge", "br0")];
    assert_eq!(
        value(&samples, "tapflow_packet_in_sent_total", &b),
        Some(12)
    );
    assert_eq!(
        value(&samples, "tapflow_bridge_up", &[("bridge", "dead")]),
        Some(0)
    );
    let f = [("cookie", "0x10"), ("match", "ip")];
    assert_eq!(value(&samples, "tapflow_flow_packets_total", &f), Some(0));

    let (status, headers, _) = http_request(addr, b"HEAD /metrics HTTP/1.1\r\n\r\n").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(headers.contains("version=0.0.4"));

    let (status, _, _) = get(addr, "/x").await;
    assert_eq!(status, "HTTP/1.1 404 Not Found");
    let (status, headers, _) = http_request(
        addr,
        b"POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
    )
    .await;
    assert_eq!(status, "HTTP/1.1 405 Method Not Allowed");
    assert!(headers.contains("Allow: GET, HEAD"), "{headers}");
    let (status, _, _) = http_request(addr, b"BREW\r\n\r\n").await;
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
    let mut big = b"GET /metrics HTTP/1.1\r\n".to_vec();
    big.extend(std::iter::repeat_n(b'a', http::MAX_REQUEST_HEAD + 10));
    let (status, _, _) = http_request(addr, &big).await;
    assert_eq!(status, "HTTP/1.1 431 Request Header Fields Too Large");

    server.stop().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "closed"
    );
}

#[tokio::test(start_paused = true)]
async fn a_client_that_sends_nothing_is_timed_out() {
    let server = MetricsServer::spawn(
        http::bind("127.0.0.1:0").await.unwrap(),
        Scraper::new(vec![], FlowSelect::default()),
    );
    let mut s = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    s.write_all(b"GET /metr").await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    assert!(
        out.starts_with(b"HTTP/1.1 408 Request Timeout\r\n"),
        "{}",
        String::from_utf8_lossy(&out)
    );
}

#[tokio::test]
async fn bind_errors_name_the_address() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let e = http::bind(&addr).await.unwrap_err();
    assert_eq!(e, format!("metrics {addr}: address already in use"));
    let e = http::bind("9310").await.unwrap_err();
    assert_eq!(e, "metrics 9310: expected HOST:PORT (e.g. 127.0.0.1:9310)");
}

// ------------------------------------------------------------- promtool

#[test]
fn promtool_accepts_the_output() {
    let Some(promtool) = ["/usr/bin/promtool", "/usr/local/bin/promtool"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
    else {
        eprintln!("skipped: promtool not installed (apt-get install prometheus)");
        return;
    };
    let mut p = Pipeline::new(PipelineConfig::default());
    flow_entry(
        &mut p,
        "cookie=0x10,priority=100,arp,arp_tpa=10.10.10.12 actions=output:2",
    );
    flow_entry(&mut p, "cookie=0x10,priority=0 actions=CONTROLLER:65535");
    let mut b = sample_bridge("br0");
    b.flows = FlowSelect::new(vec!["cookie=0x10".parse().unwrap()]).collect(&p);
    let text = expo::render(&[b, sample_bridge("br\"1")], &["br2".into()]);
    let mut child = std::process::Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool: {said}\n{text}"
    );
}

// ------------------------------------------------------------- fakes

struct NullPort(String);

impl Port for NullPort {
    fn recv_batch(&self, bufs: &mut PacketBatch) -> io::Result<usize> {
        bufs.clear();
        Ok(0)
    }
    fn send(&self, _frame: &[u8], _meta: &TxMeta) -> io::Result<()> {
        Ok(())
    }
    fn fd(&self) -> RawFd {
        -1
    }
    fn name(&self) -> &str {
        &self.0
    }
    fn hw_addr(&self) -> MacAddr {
        MacAddr([2, 0, 0, 0, 0, 1])
    }
    fn link_state(&self) -> LinkState {
        LinkState::UP
    }
}

struct NullBackend;

impl PortBackend for NullBackend {
    fn open(&self, ifname: &str, _ofport: u32, how: OpenHow) -> Result<OpenedPort, String> {
        Ok(OpenedPort {
            port: Arc::new(NullPort(ifname.into())),
            kind: if how == OpenHow::Local {
                PortKind::Local
            } else {
                PortKind::Tap
            },
        })
    }
    fn forget(&self, _ofport: u32) {}
    fn pushes_link_events(&self) -> bool {
        true
    }
}

/// A data plane whose counters are made-up functions of the port number.
#[derive(Default)]
struct CountingDp {
    ports: std::sync::Mutex<Vec<u32>>,
}

impl DataplaneOps for CountingDp {
    fn add_port(&self, ofport: u32, _port: Arc<dyn Port>) {
        self.ports.lock().unwrap().push(ofport);
    }
    fn remove_port(&self, _ofport: u32) -> Option<Arc<dyn Port>> {
        None
    }
    fn set_port_config(&self, _ofport: u32, _config: u32) {}
    fn set_port_state(&self, _ofport: u32, _state: u32) {}
    fn port_counters(&self, ofport: u32) -> Option<PortCounters> {
        let n = u64::from(ofport % 1000);
        self.ports
            .lock()
            .unwrap()
            .contains(&ofport)
            .then_some(PortCounters {
                rx_packets: n * 10,
                tx_packets: n * 20,
                rx_bytes: n * 1000,
                ..Default::default()
            })
    }
    fn set_miss_send_len(&self, _n: u16) {}
    fn set_fail_open(&self, _on: bool) {}
    fn set_invalid_ttl_to_controller(&self, _on: bool) {}
    fn packet_out(
        &self,
        _in_port: u32,
        _actions: &[Action],
        _frame: &[u8],
    ) -> Result<(), WireError> {
        Ok(())
    }
    fn trace(&self, _in_port: u32, _frame: &[u8]) -> Trace {
        Trace {
            key: String::new(),
            steps: vec![],
            final_actions: "drop".into(),
            outputs: vec![],
        }
    }
    fn trace_key(&self, _key: &FlowKey) -> Trace {
        self.trace(0, &[])
    }
    fn stats(&self) -> DatapathStats {
        DatapathStats {
            cache_hits: 42,
            ..Default::default()
        }
    }
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let p = std::env::temp_dir().join(format!(
            "tapflow-metrics-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn options() -> RuntimeOptions {
    struct NoWorkers;
    impl WorkerSet for NoWorkers {
        fn stop(self: Box<Self>) {}
    }
    let factory: DataplaneFactory = Arc::new(|_cfg, _reader, _pin| {
        Ok(StartedDataplane {
            ops: Arc::new(CountingDp::default()) as Arc<dyn DataplaneOps>,
            workers: Box::new(NoWorkers),
        })
    });
    RuntimeOptions {
        dataplane: factory,
        ports: Arc::new(|_links| Arc::new(NullBackend) as Arc<dyn PortBackend>),
        ..RuntimeOptions::default()
    }
}

fn config(dir: &TempDir, metrics: Option<String>) -> DaemonConfig {
    // An active controller target nobody listens on (a port just freed).
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    DaemonConfig {
        rundir: dir.0.join("run"),
        statedir: dir.0.join("state"),
        metrics,
        metrics_flows: vec!["table=0".parse().unwrap()],
        tls: None,
        bridges: vec![BridgeConfig {
            name: "br0".into(),
            datapath_id: 1,
            fail_mode: FailMode::Standalone,
            table_miss: TableMiss::Drop,
            packet_in_rate: crate::config::DEFAULT_PACKET_IN_RATE,
            queues: Vec::new(),
            max_flows_per_table: crate::config::DEFAULT_MAX_FLOWS_PER_TABLE,
            ports: vec![PortSpec {
                ifname: "tap1".into(),
                ofport: Some(1),
            }],
            controllers: vec![format!("tcp:127.0.0.1:{closed}")],
            listen: vec!["ptcp:0:127.0.0.1".into()],
        }],
    }
}

// ------------------------------------------------------------- runtime

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_serves_metrics_while_up_and_not_after_shutdown() {
    use crate::ofconn::{ListenTarget, OfClient, Target};
    let dir = TempDir::new("rt");
    crate::daemon::prepare_rundir(&dir.0.join("run")).unwrap();
    let cfg = config(&dir, Some("127.0.0.1:0".into()));
    let running = start_all_with(&cfg, options()).await.unwrap();
    let addr = running.metrics_addr().expect("serving");
    let listen = match &running.listeners("br0")[..] {
        [ListenTarget::Tcp(a)] => *a,
        other => panic!("{other:?}"),
    };
    // A controller on the listener.
    let mut ctl = OfClient::connect(&Target::Tcp {
        host: "127.0.0.1".into(),
        port: listen.port(),
    })
    .await
    .unwrap();
    ctl.send(ofproto::Message::FlowMod(
        parse_flow("cookie=0x7,priority=9,ip actions=drop", FlowCommand::Add).unwrap(),
    ))
    .await
    .unwrap();
    ctl.barrier().await.unwrap();

    let (status, _, body) = get(addr, "/metrics").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    let (_, samples) = parse(&body);
    let tap1 = [("bridge", "br0"), ("port", "1"), ("port_name", "tap1")];
    assert_eq!(
        value(&samples, "tapflow_port_rx_packets_total", &tap1),
        Some(10)
    );
    assert_eq!(
        value(&samples, "tapflow_port_tx_packets_total", &tap1),
        Some(20)
    );
    assert_eq!(value(&samples, "tapflow_port_up", &tap1), Some(1));
    let local = [("port", "LOCAL"), ("port_name", "br0")];
    assert!(value(&samples, "tapflow_port_up", &local).is_some());
    let passive = [
        ("bridge", "br0"),
        ("target", &*format!("ptcp:{}:127.0.0.1", listen.port())),
    ];
    assert_eq!(
        value(&samples, "tapflow_controller_connected", &passive),
        Some(1)
    );
    assert_eq!(
        value(&samples, "tapflow_controller_messages_in_total", &passive),
        Some(2),
        "FLOW_MOD and BARRIER"
    );
    assert!(value(&samples, "tapflow_controller_messages_out_total", &passive).unwrap() >= 1);
    let active = [
        ("bridge", "br0"),
        ("target", &*cfg.bridges[0].controllers[0]),
    ];
    assert_eq!(
        value(&samples, "tapflow_controller_connected", &active),
        Some(0)
    );
    let t0 = [("bridge", "br0"), ("table", "0")];
    assert_eq!(value(&samples, "tapflow_table_active_flows", &t0), Some(1));
    assert_eq!(
        value(
            &samples,
            "tapflow_flow_cache_hits_total",
            &[("bridge", "br0")]
        ),
        Some(42)
    );
    let flow = [
        ("table", "0"),
        ("cookie", "0x7"),
        ("priority", "9"),
        ("match", "ip"),
    ];
    assert_eq!(
        value(&samples, "tapflow_flow_packets_total", &flow),
        Some(0)
    );

    drop(ctl);
    running.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_metrics_address_fails_startup_and_creates_nothing() {
    let dir = TempDir::new("busy");
    crate::daemon::prepare_rundir(&dir.0.join("run")).unwrap();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let e = start_all_with(&config(&dir, Some(addr.clone())), options())
        .await
        .err()
        .unwrap();
    assert_eq!(e, format!("metrics {addr}: address already in use"));
    assert_eq!(std::fs::read_dir(dir.0.join("run")).unwrap().count(), 0);
    assert!(!dir.0.join("state").exists());
}

// ------------------------------------------------------------- cost

/// Scrape cost with 100k flows, through the real owner task and HTTP:
/// default (no per-flow series), one table of 1000 flows opted in, and
/// every flow opted in. Prints the numbers; asserts only the series counts.
/// `cargo test --release -p datapath scrape_cost -- --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrape_cost_with_100k_flows() {
    const FLOWS: u32 = 100_000;
    let mut p = Pipeline::new(PipelineConfig::default());
    let t = Instant::now();
    for i in 0..FLOWS {
        // 1000 flows in table 1, the rest in table 0.
        let table = u32::from(i % 100 == 0);
        let text = format!(
            "table={table},cookie={:#x},priority={},ip,nw_dst=10.{}.{}.{} actions=output:{}",
            0x100 + (i % 7),
            100 + i % 50,
            (i >> 16) & 0xff,
            (i >> 8) & 0xff,
            i & 0xff,
            1 + i % 4
        );
        flow_entry(&mut p, &text);
    }
    p.publish();
    let build = t.elapsed();
    let dp = Arc::new(CountingDp::default());
    let mut ports = Ports::new(None);
    for n in 1..=4u32 {
        let name = format!("tap{n}");
        let opened = NullBackend.open(&name, n, OpenHow::Auto).unwrap();
        dp.add_port(n, opened.port.clone());
        ports
            .entries
            .insert(n, crate::bridge::ports::PortEntry::new(n, &name, opened));
    }
    let settings = BridgeSettings {
        name: "br0".into(),
        datapath_id: 1,
        fail_mode: FailMode::Secure,
        controllers_configured: true,
        fail_open_after: Duration::from_secs(3600),
        max_entries: 1 << 20,
    };
    let bridge = Bridge::new(settings, p, dp, ports, Arc::new(NullBackend));
    let (_ev_tx, ev_rx) = mpsc::channel::<BridgeEvent>(8);
    let (_pin_tx, pin_rx) = mpsc::channel(8);
    let (_link_tx, link_rx) = mpsc::unbounded_channel();
    let (cmd_tx, cmd_rx) = mpsc::channel(8);
    let owner = tokio::spawn(bridge.run(BridgeChannels {
        events: ev_rx,
        packet_in: pin_rx,
        links: link_rx,
        commands: cmd_rx,
    }));

    let mut report = vec![format!("built {FLOWS} flows in {build:?}")];
    for (what, specs, want_flows) in [
        ("default (no --metrics-flows)", vec![], 0),
        ("--metrics-flows table=1", vec!["table=1"], 1000),
        (
            "--metrics-flows cookie=0x100/0xf00 (all)",
            vec!["cookie=0x100/0xf00"],
            FLOWS,
        ),
    ] {
        let sel = FlowSelect::new(specs.iter().map(|s| s.parse().unwrap()).collect());
        let server = MetricsServer::spawn(
            http::bind("127.0.0.1:0").await.unwrap(),
            Scraper::new(
                vec![BridgeSource {
                    name: "br0".into(),
                    commands: cmd_tx.clone(),
                }],
                sel.clone(),
            ),
        );
        let addr = server.local_addr();
        let (_, _, body) = get(addr, "/metrics").await; // warm-up
        let runs = 3;
        let t = Instant::now();
        for _ in 0..runs {
            let _ = get(addr, "/metrics").await;
        }
        let per_scrape = t.elapsed() / runs;
        // The owner task's share alone.
        let t = Instant::now();
        let (tx, rx) = tokio::sync::oneshot::channel();
        cmd_tx
            .send(Command::Metrics {
                flows: Arc::new(sel),
                reply: tx,
            })
            .await
            .unwrap();
        let m = rx.await.unwrap();
        let owner_time = t.elapsed();
        let (_, samples) = parse(&body);
        let n_flow = samples
            .iter()
            .filter(|s| s.0 == "tapflow_flow_packets_total")
            .count();
        assert_eq!(n_flow as u32, want_flows, "{what}");
        assert_eq!(m.flows.len() as u32, want_flows);
        report.push(format!(
            "{what}: {per_scrape:?} per scrape over HTTP ({} series, {} bytes); owner task {owner_time:?}",
            samples.len(),
            body.len()
        ));
        server.stop().await;
    }
    cmd_tx.send(Command::Shutdown).await.unwrap();
    owner.await.unwrap();
    eprintln!(
        "scrape cost ({} build):",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    for r in report {
        eprintln!("  {r}");
    }
}
