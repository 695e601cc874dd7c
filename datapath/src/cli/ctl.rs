//! The control-socket verbs: what OpenFlow can't say, asked of tapflowd over
//! `RUNDIR/tapflowd.ctl` — newline-delimited JSON, one request object, then
//! one response object (`{"ok":true,…}` or `{"ok":false,"error":"…"}`), or
//! for `snoop` an acknowledgement and then a stream of `{"line":"…"}`
//! objects until either side closes. The protocol is tapflowd's (documented
//! in `bridge/ctl.rs`); e.g. a trace answer:
//!
//! ```json
//! {"ok":true,"bridge":"br0","flow":"in_port=1,icmp,nw_dst=10.10.10.12","key":"…",
//!  "steps":[{"table_id":0,"flow":"priority=100,icmp,nw_dst=10.10.10.12 actions=output:2",
//!            "cookie":"0x0","actions":["output:2"]},
//!           {"table_id":1,"flow":null}],
//!  "datapath_actions":"output:2","outputs":["2"]}
//! ```
//!
//! The client is deliberately tolerant of the shape, since both sides are
//! young: an error is printed as the daemon wrote it, fields it doesn't know
//! are shown as `key: value` rather than dropped, and `trace` also takes the
//! fields nested in a `"trace"` object, `tables` for `steps`, `table` for
//! `table_id`, a numeric cookie, `priority`+`match` instead of a whole
//! `flow`, `final_actions` for `datapath_actions`, `notes`; snoop lines may
//! be `{"snoop":"…"}`. `--json` prints the answer untouched.

use super::target::{bridge_for_ctl, ctl_socket};
use super::{output_error, CliError, Options};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

const DEFAULT_WAIT: Duration = Duration::from_secs(10);

fn connect(o: &Options) -> Result<UnixStream, CliError> {
    let path = ctl_socket(&o.rundir);
    UnixStream::connect(&path).map_err(|e| {
        let why = match e.kind() {
            ErrorKind::NotFound => "no such socket: is tapflowd running? \
                 (set --rundir or TAPFLOW_RUNDIR if it runs elsewhere)"
                .to_string(),
            ErrorKind::ConnectionRefused => {
                "connection refused: tapflowd is not running (stale socket)".into()
            }
            ErrorKind::PermissionDenied => {
                "permission denied (the control socket is root-only)".into()
            }
            _ => e.to_string(),
        };
        CliError::Failed(format!(
            "cannot reach tapflowd at {}: {why}",
            path.display()
        ))
    })
}

fn send(stream: &mut UnixStream, req: &Value) -> Result<(), CliError> {
    let mut line = req.to_string();
    line.push('\n');
    stream
        .write_all(line.as_bytes())
        .map_err(|e| CliError::Failed(format!("writing to tapflowd: {e}")))
}

/// One request, one response line: (the line as received, parsed).
fn request(o: &Options, req: Value) -> Result<(String, Value), CliError> {
    let mut stream = connect(o)?;
    let wait = o.timeout.unwrap_or(DEFAULT_WAIT);
    let _ = stream.set_read_timeout(Some(wait));
    send(&mut stream, &req)?;
    let mut rd = BufReader::new(stream);
    let mut line = String::new();
    match rd.read_line(&mut line) {
        Ok(0) => Err(CliError::Failed(
            "tapflowd closed the control connection without answering".into(),
        )),
        Ok(_) => {
            let v = parse_response(&line)?;
            Ok((line.trim_end().to_string(), v))
        }
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            Err(CliError::Failed(format!(
                "tapflowd did not answer within {} s",
                wait.as_secs_f64()
            )))
        }
        Err(e) => Err(CliError::Failed(format!("reading from tapflowd: {e}"))),
    }
}

/// Parses a response line; `{"ok":false}` becomes the daemon's error, verbatim.
fn parse_response(line: &str) -> Result<Value, CliError> {
    let v: Value = serde_json::from_str(line.trim()).map_err(|e| {
        CliError::Failed(format!(
            "tapflowd sent something that is not JSON ({e}): {}",
            line.trim()
        ))
    })?;
    if v.get("ok").and_then(Value::as_bool) == Some(false) {
        let msg = match v.get("error") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => format!("tapflowd refused the request: {}", line.trim()),
        };
        return Err(CliError::Failed(msg));
    }
    Ok(v)
}

fn emit(out: &mut dyn Write, s: &str) -> Result<(), CliError> {
    writeln!(out, "{s}").map_err(output_error)
}

/// A JSON value as text: strings bare, the rest as JSON.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(plain).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// Fields of an answer other than `ok` and those a verb printed, as `key: value`.
fn extras(v: &Value, shown: &[&str]) -> Vec<String> {
    let Some(m) = v.as_object() else {
        return Vec::new();
    };
    m.iter()
        .filter(|(k, _)| k.as_str() != "ok" && !shown.contains(&k.as_str()))
        .map(|(k, v)| format!("{k}: {}", plain(v)))
        .collect()
}

/// `ofport=N` (or a bare N): 1…0xffffff00.
fn parse_ofport(s: &str) -> Result<u32, CliError> {
    let v = s
        .strip_prefix("ofport=")
        .or_else(|| s.strip_prefix("ofport_request="))
        .unwrap_or(s);
    match v.parse::<u64>() {
        Ok(n) if (1..=0xffff_ff00).contains(&n) => Ok(n as u32),
        _ => Err(CliError::Usage(format!(
            "{s}: expected ofport=N with N from 1 to 4294967040"
        ))),
    }
}

fn check_ifname(name: &str) -> Result<(), CliError> {
    if name.is_empty()
        || name.len() > 15
        || name.contains(['/', ':'])
        || name.chars().any(|c| c.is_whitespace())
    {
        return Err(CliError::Usage(format!(
            "'{name}' is not an interface name (1-15 characters, no '/', ':' or spaces)"
        )));
    }
    Ok(())
}

/// `add-port BRIDGE IFNAME [ofport=N]`: silent on success, like ovs-vsctl.
pub fn add_port(
    o: &Options,
    bridge: &str,
    ifname: &str,
    ofport: Option<&str>,
    _out: &mut dyn Write,
) -> Result<(), CliError> {
    let bridge = bridge_for_ctl("add-port", bridge)?;
    check_ifname(ifname)?;
    let mut req = json!({"cmd": "add-port", "bridge": bridge, "port": ifname});
    if let Some(p) = ofport {
        req["ofport"] = json!(parse_ofport(p)?);
    }
    request(o, req)?;
    Ok(())
}

/// `del-port BRIDGE IFNAME`.
pub fn del_port(
    o: &Options,
    bridge: &str,
    ifname: &str,
    _out: &mut dyn Write,
) -> Result<(), CliError> {
    let bridge = bridge_for_ctl("del-port", bridge)?;
    check_ifname(ifname)?;
    request(
        o,
        json!({"cmd": "del-port", "bridge": bridge, "port": ifname}),
    )?;
    Ok(())
}

/// `trace BRIDGE FLOW [--json]`.
pub fn trace(
    o: &Options,
    bridge: &str,
    flow: &str,
    as_json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let bridge = bridge_for_ctl("trace", bridge)?;
    // Catch typos here, with the position, rather than in the daemon.
    ofproto::text::parse_match(flow)
        .map_err(|e| CliError::Usage(format!("bad flow {flow:?}: {e}")))?;
    let (raw, v) = request(o, json!({"cmd": "trace", "bridge": bridge, "flow": flow}))?;
    if as_json {
        emit(out, &raw)
    } else {
        emit(out, &render_trace(&bridge, flow, &v))
    }
}

/// The first of `names` present (and not null) in `v`, with the name found.
fn field<'a>(v: &'a Value, names: &[&'static str]) -> Option<(&'static str, &'a Value)> {
    names
        .iter()
        .find_map(|n| v.get(*n).filter(|x| !x.is_null()).map(|x| (*n, x)))
}

fn cookie_text(v: &Value) -> String {
    match v {
        Value::Number(n) => n
            .as_u64()
            .map_or_else(|| n.to_string(), |c| format!("{c:#x}")),
        other => plain(other),
    }
}

/// A step's lines as given: a list, or one string split at newlines.
fn lines_of(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().map(plain).collect(),
        Value::Null => Vec::new(),
        other => plain(other).split('\n').map(str::to_string).collect(),
    }
}

/// One step: ` N. priority=P,MATCH, cookie 0x…` and its action lines, or
/// ` N. No match.` for a miss (`"flow":null`, `"miss":true`).
fn render_step(s: &mut String, step: &Value) {
    let table = step
        .get("table_id")
        .or_else(|| step.get("table"))
        .map(plain)
        .unwrap_or_else(|| "?".into());
    let rule = step
        .get("rule")
        .or_else(|| step.get("flow"))
        .filter(|r| !r.is_null())
        .map(plain);
    let has_rule = rule.is_some() || step.get("priority").is_some() || step.get("match").is_some();
    let miss = step.get("miss").and_then(Value::as_bool) == Some(true)
        || step.get("matched").and_then(Value::as_bool) == Some(false)
        || !has_rule;
    // A whole flow ("priority=… actions=…") splits into the rule and its actions.
    let (rule, rule_actions) = match rule {
        Some(r) => match r.split_once(" actions=") {
            Some((m, a)) => (
                Some(m.trim_end_matches([',', ' ']).to_string()),
                Some(a.to_string()),
            ),
            None => (Some(r), None),
        },
        None => (None, None),
    };
    if miss {
        s.push_str(&format!(" {table}. No match.\n"));
    } else {
        let text = rule.unwrap_or_else(|| {
            let p = step.get("priority").map(plain);
            let m = step.get("match").map(plain).filter(|m| !m.is_empty());
            match (p, m) {
                (Some(p), Some(m)) => format!("priority={p},{m}"),
                (Some(p), None) => format!("priority={p}"),
                (None, Some(m)) => m,
                (None, None) => String::new(),
            }
        });
        let cookie = step
            .get("cookie")
            .map(cookie_text)
            .unwrap_or_else(|| "0x0".into());
        s.push_str(&format!(" {table}. {text}, cookie {cookie}\n"));
    }
    let mut actions = match step.get("actions").or_else(|| step.get("instructions")) {
        Some(v) => lines_of(v),
        None => rule_actions.map(|a| vec![a]).unwrap_or_default(),
    };
    if let Some(n) = step.get("notes") {
        actions.extend(lines_of(n));
    }
    if actions.is_empty() && miss {
        actions.push("drop".into());
    }
    for a in actions.iter().filter(|a| !a.is_empty()) {
        s.push_str(&format!("    {a}\n"));
    }
    let known = [
        "table",
        "table_id",
        "miss",
        "matched",
        "rule",
        "flow",
        "priority",
        "match",
        "cookie",
        "actions",
        "instructions",
        "notes",
    ];
    for e in extras(step, &known) {
        s.push_str(&format!("    {e}\n"));
    }
}

/// The ofproto/trace-like text of a trace answer (its `trace` object, if
/// the fields are nested in one).
pub fn render_trace(bridge: &str, flow: &str, v: &Value) -> String {
    let v = v.get("trace").filter(|t| t.is_object()).unwrap_or(v);
    let mut s = String::new();
    let mut shown = vec!["ok", "cmd", "flow", "key"];
    // The packet's whole flow key when the daemon gives it, else what was asked.
    let input = field(v, &["key", "flow"])
        .map(|(_, f)| plain(f))
        .unwrap_or_else(|| flow.to_string());
    s.push_str(&format!("Flow: {input}\n\n"));
    let b = match field(v, &["bridge"]) {
        Some((k, b)) => {
            shown.push(k);
            plain(b)
        }
        None => bridge.to_string(),
    };
    let title = format!("bridge(\"{b}\")");
    s.push_str(&format!("{title}\n{}\n", "-".repeat(title.len())));
    match field(v, &["steps", "tables"]) {
        Some((k, Value::Array(steps))) => {
            shown.push(k);
            for step in steps {
                render_step(&mut s, step);
            }
        }
        Some((k, other)) => {
            shown.push(k);
            s.push_str(&format!(" {}\n", plain(other)));
        }
        None => {}
    }
    s.push('\n');
    if let Some((k, f)) = field(v, &["final_flow", "final"]) {
        shown.push(k);
        let f = plain(f);
        let f = if f == input {
            "unchanged".to_string()
        } else {
            f
        };
        s.push_str(&format!("Final flow: {f}\n"));
    }
    if let Some((k, a)) = field(
        v,
        &["datapath_actions", "final_actions", "actions", "output"],
    ) {
        shown.push(k);
        let a = plain(a);
        s.push_str(&format!(
            "Datapath actions: {}\n",
            if a.is_empty() { "drop" } else { a.as_str() }
        ));
    }
    for e in extras(v, &shown) {
        s.push_str(&e);
        s.push('\n');
    }
    s.truncate(s.trim_end().len());
    s
}

/// `snoop BRIDGE`: the bridge's OpenFlow traffic, one decoded message per
/// line group, until Ctrl-C, tapflowd closes, or `--timeout` passes.
pub fn snoop(o: &Options, bridge: &str, out: &mut dyn Write) -> Result<(), CliError> {
    let bridge = bridge_for_ctl("snoop", bridge)?;
    let mut stream = connect(o)?;
    send(&mut stream, &json!({"cmd": "snoop", "bridge": bridge}))?;
    let deadline = o.timeout.map(|t| Instant::now() + t);
    let mut rd = BufReader::new(stream);
    let mut line = String::new();
    loop {
        if let Some(d) = deadline {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            let _ = rd.get_ref().set_read_timeout(Some(left));
        }
        line.clear();
        match rd.read_line(&mut line) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Ok(())
            }
            Err(e) => return Err(CliError::Failed(format!("reading from tapflowd: {e}"))),
        }
        if line.trim().is_empty() {
            continue;
        }
        let v = parse_response(&line)?;
        let text = match v.get("line").or_else(|| v.get("snoop")) {
            Some(l) => plain(l),
            // The acknowledgement before the stream.
            None if v.get("ok").and_then(Value::as_bool) == Some(true) => {
                let e = extras(&v, &[]);
                if e.is_empty() {
                    continue;
                }
                e.join("\n")
            }
            None => line.trim_end().to_string(),
        };
        if let Err(e) = writeln!(out, "{text}").and_then(|_| out.flush()) {
            if e.kind() == ErrorKind::BrokenPipe {
                return Ok(());
            }
            return Err(output_error(e));
        }
    }
}

/// `version`: this CLI's version, then the running daemon's.
pub fn version(o: &Options, out: &mut dyn Write) -> Result<(), CliError> {
    emit(out, &format!("tapflow {}", env!("CARGO_PKG_VERSION")))?;
    let _ = out.flush();
    let (_, v) = request(o, json!({"cmd": "version"}))?;
    let mut lines = Vec::new();
    match v.get("version") {
        Some(ver) => lines.push(format!("tapflowd {}", plain(ver))),
        None => lines.push("tapflowd (version not reported)".into()),
    }
    lines.extend(extras(&v, &["version"]));
    emit(out, &lines.join("\n"))
}

/// `list-bridges`: one name per line, like `ovs-vsctl list-br`.
pub fn list_bridges(o: &Options, out: &mut dyn Write) -> Result<(), CliError> {
    let (_, v) = request(o, json!({"cmd": "list-bridges"}))?;
    let names: Vec<String> = match v.get("bridges") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|b| match b {
                Value::Object(m) => m.get("name").map(plain).unwrap_or_else(|| b.to_string()),
                other => plain(other),
            })
            .collect(),
        Some(Value::Object(m)) => m.keys().cloned().collect(),
        Some(other) => vec![plain(other)],
        None => extras(&v, &[]),
    };
    let mut sorted = names;
    sorted.sort();
    for n in sorted {
        emit(out, &n)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ofport_argument() {
        assert_eq!(parse_ofport("ofport=3").unwrap(), 3);
        assert_eq!(parse_ofport("7").unwrap(), 7);
        assert_eq!(parse_ofport("ofport=4294967040").unwrap(), 0xffff_ff00);
        for bad in ["ofport=0", "ofport=4294967041", "ofport=x", "port=3"] {
            assert!(
                matches!(parse_ofport(bad), Err(CliError::Usage(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn error_responses_are_printed_verbatim() {
        assert_eq!(
            parse_response("{\"ok\":false,\"error\":\"no bridge br7\"}\n"),
            Err(CliError::Failed("no bridge br7".into()))
        );
        assert!(parse_response("{\"ok\":true}").is_ok());
        assert!(
            matches!(parse_response("garbage"), Err(CliError::Failed(m)) if m.contains("not JSON"))
        );
    }

    #[test]
    fn trace_text_layout_of_tapflowd_answers() {
        let v: Value = serde_json::from_str(
            r#"{"ok":true,"bridge":"br0","flow":"in_port=1,icmp,nw_dst=10.10.10.12",
                "key":"icmp,in_port=1,dl_src=00:00:00:00:00:00,nw_dst=10.10.10.12",
                "steps":[{"table_id":0,"flow":"priority=100,icmp,nw_dst=10.10.10.12 actions=goto_table:1","cookie":"0x0","actions":["goto_table:1"]},
                         {"table_id":1,"flow":"priority=5 actions=output:2","cookie":"0x2a"}],
                "datapath_actions":"output:2","outputs":["2"]}"#,
        )
        .unwrap();
        assert_eq!(
            render_trace("br0", "in_port=1,icmp,nw_dst=10.10.10.12", &v),
            "Flow: icmp,in_port=1,dl_src=00:00:00:00:00:00,nw_dst=10.10.10.12

bridge(\"br0\")
-------------
 0. priority=100,icmp,nw_dst=10.10.10.12, cookie 0x0
    goto_table:1
 1. priority=5, cookie 0x2a
    output:2

Datapath actions: output:2
outputs: 2"
        );
    }

    #[test]
    fn trace_miss_and_other_shapes() {
        let v: Value = serde_json::from_str(
            r#"{"ok":true,"steps":[{"table_id":0,"flow":null}],"datapath_actions":""}"#,
        )
        .unwrap();
        assert_eq!(
            render_trace("br1", "in_port=2,arp", &v),
            "Flow: in_port=2,arp\n\nbridge(\"br1\")\n-------------\n 0. No match.\n    drop\n\nDatapath actions: drop"
        );
        // Nested in "trace", numeric cookie, priority+match, notes, final flow.
        let v: Value = serde_json::from_str(
            r#"{"ok":true,"trace":{"key":"ip,in_port=1","tables":[{"table":3,"priority":7,"match":"ip","cookie":16,"notes":["output:1"]}],
                "final_flow":"ip,in_port=9","final_actions":"output:1"}}"#,
        )
        .unwrap();
        let t = render_trace("br0", "in_port=1,ip", &v);
        assert!(t.starts_with("Flow: ip,in_port=1\n"), "{t}");
        assert!(
            t.contains(" 3. priority=7,ip, cookie 0x10\n    output:1\n"),
            "{t}"
        );
        assert!(
            t.ends_with("Final flow: ip,in_port=9\nDatapath actions: output:1"),
            "{t}"
        );
    }
}
