//! The files in `deploy/` that an operator copies as they are: the
//! Prometheus scrape config is valid (`promtool check config`), and the
//! Grafana dashboard is valid JSON whose every query names a metric that
//! tapflowd or tapflow-controller actually exports.

use integration::workspace_root;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

#[test]
fn prometheus_scrape_config_passes_promtool() {
    let cfg = workspace_root().join("deploy/prometheus/prometheus.yml");
    let Some(promtool) = ["/usr/bin/promtool", "/usr/local/bin/promtool"]
        .into_iter()
        .find(|p| Path::new(p).exists())
    else {
        eprintln!("NOTICE: promtool not installed (apt-get install prometheus); skipped");
        return;
    };
    let out = Command::new(promtool)
        .args(["check", "config"])
        .arg(&cfg)
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "promtool check config {}:\n{}{}",
        cfg.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every `tapflow_*` metric family name written in a crate's sources.
fn exported_names(dir: &Path, out: &mut BTreeSet<String>) {
    for e in std::fs::read_dir(dir).expect("read_dir") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            exported_names(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let text = std::fs::read_to_string(&p).expect("read source");
            out.extend(metric_names(&text));
        }
    }
}

fn metric_names(text: &str) -> Vec<String> {
    let mut v = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("tapflow_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        v.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    v
}

#[test]
fn grafana_dashboard_queries_name_exported_metrics() {
    let root = workspace_root();
    let text =
        std::fs::read_to_string(root.join("deploy/grafana/tapflow.json")).expect("read dashboard");
    let dash: serde_json::Value = serde_json::from_str(&text).expect("dashboard is JSON");
    assert!(dash["panels"].as_array().is_some_and(|p| p.len() > 4));

    let mut exported = BTreeSet::new();
    exported_names(&root.join("datapath/src/metrics"), &mut exported);
    exported_names(&root.join("controller-sim/src"), &mut exported);

    let mut exprs = Vec::new();
    for p in dash["panels"].as_array().unwrap() {
        for t in p["targets"].as_array().into_iter().flatten() {
            exprs.push(t["expr"].as_str().expect("expr").to_string());
        }
    }
    assert!(exprs.len() > 10, "{exprs:?}");
    let mut missing = Vec::new();
    for e in &exprs {
        for name in metric_names(e) {
            if !exported.contains(&name) {
                missing.push(format!("{name} (in `{e}`)"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "the dashboard queries metrics nobody exports:\n{}",
        missing.join("\n")
    );
}
