//! The OpenFlow verbs: one connection per command, OpenFlow 1.3, output as
//! `ovs-ofctl -O OpenFlow13` prints it.
//!
//! What ovs-ofctl does, and so do we (checked against Open vSwitch 3.1):
//! - flow mods (`add-flow`, `add-flows`, `mod-flows`, `del-flows`) and
//!   `packet-out` print nothing on success. A switch error is printed on
//!   stderr as ovs-ofctl prints it — `OFPT_ERROR (OF1.3) (xid=0x2):
//!   OFPBMC_BAD_PREREQ` and the decoded request it carries — and the exit
//!   code is 1. (`add-flows` sends every FLOW_MOD, then one BARRIER, and
//!   prints every error; ovs-ofctl stops at the first.)
//! - `dump-flows` prints each reply part as it comes, header
//!   `OFPST_FLOW reply (OF1.3) (xid=0x2):` (with ` flags=[more]` on all but
//!   the last), then a line per flow. With `--sort`/`--rsort`, `--no-stats`
//!   or `--names` (or on a terminal, where ovs-ofctl shows names) it prints
//!   the flows only, one line each, no header — ovs-ofctl's other code path.
//!   We always print port and table numbers.
//! - the xids printed are the ones on the wire (ovs-ofctl opens a separate
//!   connection for some requests, e.g. `show`'s GET_CONFIG, so its xids
//!   can be one higher).

use super::sort::sort_flows;
use super::target::{connect_error, resolve, tls_context};
use super::{output_error, CliError, Options};
use crate::ofconn::{BlockingClient, ClientError};
use ofproto::consts::*;
use ofproto::instruction::Instruction;
use ofproto::message::{ErrorMsg, FlowMod, PacketOut};
use ofproto::multipart::{
    FlowStats, MultipartReply, MultipartReplyBody as Rep, MultipartRequest,
    MultipartRequestBody as Req, PortStatsRequest,
};
use ofproto::oxm::Match;
use ofproto::print::{format_message, parse_hex};
use ofproto::text::{self, FlowCommand};
use ofproto::{Message, OFP_VERSION};
use std::io::{IsTerminal, Read, Write};
use std::time::Duration;

/// How long to wait for each reply without `--timeout` (as OfClient).
const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// One OpenFlow connection for one command.
pub(crate) struct Session {
    client: BlockingClient,
    name: String,
    wait: Duration,
}

/// A message as ovs-ofctl prints it.
fn print_msg(xid: u32, m: &Message) -> String {
    format_message(OFP_VERSION, xid, m)
}

fn error_text(xid: u32, e: ErrorMsg) -> String {
    print_msg(xid, &Message::Error(e))
}

impl Session {
    pub fn open(o: &Options, target: &str) -> Result<Session, CliError> {
        let r = resolve(target, &o.rundir)?;
        let t = r.openflow_target();
        let tls = tls_context(&t, &o.tls)?;
        let mut client = BlockingClient::connect_with(&t, tls.as_ref())
            .map_err(|e| connect_error(&r, &o.rundir, &e))?;
        let wait = o.timeout.unwrap_or(DEFAULT_WAIT);
        client.set_timeout(wait);
        Ok(Session {
            client,
            name: t.to_string(),
            wait,
        })
    }

    fn failed(&self, e: ClientError) -> CliError {
        match e {
            ClientError::Rejected(errs) => CliError::Switch(
                errs.into_iter()
                    .map(|e| {
                        error_text(
                            e.xid,
                            ErrorMsg::Standard {
                                code: e.code,
                                data: e.data,
                            },
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            ClientError::OpenFlow { code, data } => {
                CliError::Switch(error_text(0, ErrorMsg::Standard { code, data }))
            }
            // These name the target themselves.
            e @ (ClientError::Timeout { .. } | ClientError::Closed { .. }) => {
                CliError::Failed(e.to_string())
            }
            e => CliError::Failed(format!("{}: {e}", self.name)),
        }
    }

    /// Sends `msg` and returns its xid with the reply — every part of a
    /// multipart reply. An `OFPT_ERROR` reply is [`CliError::Switch`].
    pub fn transact(&mut self, msg: Message) -> Result<(u32, Vec<Message>), CliError> {
        let what = match &msg {
            Message::MultipartRequest(_) => ofproto::print::message_name(&msg),
            m => m.type_name().to_string(),
        };
        let xid = self.client.send(msg).map_err(|e| self.failed(e))?;
        self.client.flush().map_err(|e| self.failed(e))?;
        let mut replies = Vec::new();
        loop {
            let got = match self.client.recv_timeout(self.wait) {
                Ok(Some(m)) => m,
                Ok(None) => {
                    return Err(CliError::Failed(format!(
                        "{}: timed out after {} s waiting for the reply to {what}",
                        self.name,
                        self.wait.as_secs_f64()
                    )))
                }
                Err(ClientError::Decode { xid: x, error }) if x == xid => {
                    return Err(CliError::Failed(format!(
                        "{}: cannot decode the reply to {what}: {error}",
                        self.name
                    )))
                }
                // Something else's message that doesn't decode: not ours.
                Err(ClientError::Decode { .. }) => continue,
                Err(e) => return Err(self.failed(e)),
            };
            let (x, m) = got;
            if x != xid {
                continue; // async messages, echo replies: not for us
            }
            match m {
                Message::Error(e) => return Err(CliError::Switch(error_text(xid, e))),
                Message::MultipartReply(r) => {
                    let more = r.flags & OFPMPF_REPLY_MORE != 0;
                    replies.push(Message::MultipartReply(r));
                    if !more {
                        return Ok((xid, replies));
                    }
                }
                m => {
                    replies.push(m);
                    return Ok((xid, replies));
                }
            }
        }
    }

    /// Sends without waiting; errors come back from [`Session::barrier`].
    pub fn send(&mut self, msg: Message) -> Result<u32, CliError> {
        self.client.send(msg).map_err(|e| self.failed(e))
    }

    /// BARRIER: every error for what was sent before it, as ovs-ofctl prints them.
    pub fn barrier(&mut self) -> Result<(), CliError> {
        self.client.barrier().map_err(|e| self.failed(e))
    }
}

fn emit(out: &mut dyn Write, s: &str) -> Result<(), CliError> {
    writeln!(out, "{s}").map_err(output_error)
}

/// Prints every message of the reply to `xid`, in order.
pub(super) fn emit_all(out: &mut dyn Write, xid: u32, replies: &[Message]) -> Result<(), CliError> {
    for m in replies {
        emit(out, &print_msg(xid, m))?;
    }
    Ok(())
}

pub(super) fn mp(body: Req) -> Message {
    Message::MultipartRequest(MultipartRequest { flags: 0, body })
}

/// Sends one multipart request and prints the replies as ovs-ofctl does.
pub(super) fn print_multipart(
    o: &Options,
    target: &str,
    req: Req,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut s = Session::open(o, target)?;
    let (xid, r) = s.transact(mp(req))?;
    emit_all(out, xid, &r)
}

fn parts(replies: Vec<Message>) -> impl Iterator<Item = (bool, Result<Rep, Message>)> {
    replies.into_iter().map(|m| match m {
        Message::MultipartReply(MultipartReply { flags, body }) => {
            (flags & OFPMPF_REPLY_MORE != 0, Ok(body))
        }
        other => (false, Err(other)),
    })
}

/// A reply of an unexpected kind: print it as ofp-print would.
fn unexpected(xid: u32, more: bool, body: Rep) -> String {
    print_msg(
        xid,
        &Message::MultipartReply(MultipartReply {
            flags: if more { OFPMPF_REPLY_MORE } else { 0 },
            body,
        }),
    )
}

fn bad_flow(flow: &str, e: impl std::fmt::Display) -> CliError {
    CliError::Usage(format!("bad flow {flow:?}: {e}"))
}

fn warn_all(warnings: &[text::TextWarning]) {
    for w in warnings {
        eprintln!("tapflow: warning: {w}");
    }
}

// ------------------------------------------------------------------- verbs

/// `show TARGET`.
pub fn show(o: &Options, target: &str, out: &mut dyn Write) -> Result<(), CliError> {
    let mut s = Session::open(o, target)?;
    let (xid, r) = s.transact(Message::FeaturesRequest)?;
    emit_all(out, xid, &r)?;
    port_desc(&mut s, None, out)?;
    let (xid, r) = s.transact(Message::GetConfigRequest)?;
    emit_all(out, xid, &r)
}

fn port_desc(s: &mut Session, only: Option<u32>, out: &mut dyn Write) -> Result<(), CliError> {
    let (xid, r) = s.transact(mp(Req::PortDesc))?;
    for mut m in r {
        // One port: the others are dropped from each part before printing.
        if let (
            Some(p),
            Message::MultipartReply(MultipartReply {
                body: Rep::PortDesc(ports),
                ..
            }),
        ) = (only, &mut m)
        {
            ports.retain(|d| d.port_no == p);
        }
        emit(out, &print_msg(xid, &m))?;
    }
    Ok(())
}

/// A PORT argument: a number or reserved name, else a port name looked up
/// in the switch's port descriptions (as ovs-ofctl does).
pub(super) fn port_arg(s: &mut Session, port: &str) -> Result<u32, CliError> {
    if let Some(p) = text::parse_port(port) {
        return Ok(p);
    }
    let (_, r) = s.transact(mp(Req::PortDesc))?;
    for (_, body) in parts(r) {
        if let Ok(Rep::PortDesc(ports)) = body {
            if let Some(d) = ports.iter().find(|d| d.name == port) {
                return Ok(d.port_no);
            }
        }
    }
    Err(CliError::Failed(format!(
        "{}: no port named or numbered {port:?}",
        s.name
    )))
}

/// `dump-ports-desc TARGET [PORT]`.
pub fn dump_ports_desc(
    o: &Options,
    target: &str,
    port: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut s = Session::open(o, target)?;
    let only = match port {
        Some(p) => Some(port_arg(&mut s, p)?),
        None => None,
    };
    port_desc(&mut s, only, out)
}

/// `dump-ports TARGET [PORT]`.
pub fn dump_ports(
    o: &Options,
    target: &str,
    port: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut s = Session::open(o, target)?;
    let port_no = match port {
        Some(p) => port_arg(&mut s, p)?,
        None => OFPP_ANY,
    };
    let (xid, r) = s.transact(mp(Req::PortStats(PortStatsRequest { port_no })))?;
    emit_all(out, xid, &r)
}

/// `dump-tables TARGET`.
pub fn dump_tables(o: &Options, target: &str, out: &mut dyn Write) -> Result<(), CliError> {
    let mut s = Session::open(o, target)?;
    let (xid, r) = s.transact(mp(Req::Table))?;
    emit_all(out, xid, &r)
}

/// Whether ovs-ofctl would be showing port names (and so take its
/// header-less path): `--names`, or a terminal without `--no-names`.
fn names_path(o: &Options) -> bool {
    o.names.unwrap_or_else(|| std::io::stdout().is_terminal())
}

/// `dump-flows TARGET [FLOW]`.
pub fn dump_flows(
    o: &Options,
    target: &str,
    filter: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let f = filter.unwrap_or("");
    let req = text::parse_flow_stats_request(f).map_err(|e| bad_flow(f, e))?;
    let mut s = Session::open(o, target)?;
    let (xid, r) = s.transact(mp(Req::Flow(req)))?;
    if o.sort.is_empty() && o.stats && !names_path(o) {
        // Each reply part as it came, like ovs-ofctl's dump_stats_transaction.
        return emit_all(out, xid, &r);
    }
    let mut flows: Vec<FlowStats> = Vec::new();
    for (more, body) in parts(r) {
        match body {
            Ok(Rep::Flow(f)) => flows.extend(f),
            Ok(other) => emit(out, &unexpected(xid, more, other))?,
            Err(m) => emit(out, &print_msg(xid, &m))?,
        }
    }
    sort_flows(&mut flows, &o.sort);
    for f in &flows {
        let line = if o.stats {
            text::format_flow_stats(f)
        } else {
            text::format_flow_stats_no_stats(f)
        };
        emit(out, &line)?;
    }
    Ok(())
}

/// Sends flow mods, then one barrier.
fn flow_mods(o: &Options, target: &str, fms: Vec<FlowMod>) -> Result<(), CliError> {
    let mut s = Session::open(o, target)?;
    for fm in fms {
        s.send(Message::FlowMod(fm))?;
    }
    s.barrier()
}

fn one_flow(o: &Options, target: &str, flow: &str, cmd: FlowCommand) -> Result<(), CliError> {
    let (fm, warnings) =
        text::parse_flow_with_warnings(flow, cmd).map_err(|e| bad_flow(flow, e))?;
    warn_all(&warnings);
    flow_mods(o, target, vec![fm])
}

/// `add-flow TARGET FLOW` (`-`: flows from stdin, as ovs-ofctl).
pub fn add_flow(o: &Options, target: &str, flow: &str) -> Result<(), CliError> {
    if flow == "-" {
        return add_flows(o, target, "-");
    }
    one_flow(o, target, flow, FlowCommand::Add)
}

fn read_input(file: &str) -> Result<String, CliError> {
    if file == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| CliError::Failed(format!("reading stdin: {e}")))?;
        Ok(s)
    } else {
        std::fs::read_to_string(file)
            .map_err(|e| CliError::Usage(format!("cannot read {file}: {e}")))
    }
}

/// `add-flows TARGET FILE|-`.
pub fn add_flows(o: &Options, target: &str, file: &str) -> Result<(), CliError> {
    let text = read_input(file)?;
    let name = if file == "-" { "stdin" } else { file };
    let fms = text::parse_flows_file(&text).map_err(|e| CliError::Usage(format!("{name}: {e}")))?;
    flow_mods(o, target, fms)
}

fn no_stdin(verb: &str, flow: &str) -> Result<(), CliError> {
    if flow == "-" {
        return Err(CliError::Usage(format!(
            "{verb} - (flows from stdin) is not supported: use add-flows with `modify`/`delete` lines"
        )));
    }
    Ok(())
}

/// `mod-flows TARGET FLOW` (`--strict`: MODIFY_STRICT).
pub fn mod_flows(o: &Options, target: &str, flow: &str) -> Result<(), CliError> {
    no_stdin("mod-flows", flow)?;
    let cmd = if o.strict {
        FlowCommand::ModifyStrict
    } else {
        FlowCommand::Modify
    };
    one_flow(o, target, flow, cmd)
}

/// `del-flows TARGET [FLOW]` (`--strict`: DELETE_STRICT).
pub fn del_flows(o: &Options, target: &str, flow: Option<&str>) -> Result<(), CliError> {
    let flow = flow.unwrap_or("");
    no_stdin("del-flows", flow)?;
    let cmd = if o.strict {
        FlowCommand::DeleteStrict
    } else {
        FlowCommand::Delete
    };
    one_flow(o, target, flow, cmd)
}

// -------------------------------------------------------------- packet-out

/// An Ethernet frame given in hex.
fn packet_hex(s: &str) -> Result<Vec<u8>, CliError> {
    let b = parse_hex(s).map_err(|e| CliError::Usage(format!("packet {s:?}: {e}")))?;
    if b.len() < 14 {
        return Err(CliError::Usage(format!(
            "packet {s:?}: {} bytes is too short for an Ethernet frame (14 at least)",
            b.len()
        )));
    }
    Ok(b)
}

fn packet_actions(s: &str) -> Result<Vec<ofproto::action::Action>, CliError> {
    let ins = text::parse_actions(s, &Match::default(), 0)
        .map_err(|e| CliError::Usage(format!("bad actions {s:?}: {e}")))?;
    let mut actions = Vec::new();
    for i in ins {
        match i {
            Instruction::ApplyActions(a) => actions.extend(a),
            other => {
                return Err(CliError::Usage(format!(
                    "bad actions {s:?}: packet-out takes actions only, not {other:?}"
                )))
            }
        }
    }
    Ok(actions)
}

fn in_port(s: &str) -> Result<u32, CliError> {
    text::parse_port(s).ok_or_else(|| CliError::Usage(format!("in_port: invalid port {s:?}")))
}

/// `in_port=1 packet=HEX actions=…` (keys separated by spaces or commas,
/// everything after `actions=` is actions; in_port defaults to CONTROLLER
/// as in ovs-ofctl).
fn parse_packet_out(s: &str) -> Result<PacketOut, CliError> {
    let at = ["actions=", "action=", "actions:", "action:"]
        .iter()
        .filter_map(|k| s.find(k).map(|i| (i, k.len())))
        .min();
    let Some((i, klen)) = at else {
        return Err(CliError::Usage(format!(
            "packet-out {s:?}: must specify actions (actions=…)"
        )));
    };
    let (head, acts) = (&s[..i], &s[i + klen..]);
    let mut po = PacketOut {
        buffer_id: OFP_NO_BUFFER,
        in_port: OFPP_CONTROLLER,
        actions: packet_actions(acts)?,
        data: Default::default(),
    };
    let mut packet = None;
    for kv in head
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
    {
        let (k, v) = kv
            .split_once(['=', ':'])
            .ok_or_else(|| CliError::Usage(format!("packet-out: field {kv} missing value")))?;
        match k {
            "in_port" => po.in_port = in_port(v)?,
            "packet" => packet = Some(packet_hex(v)?),
            _ => {
                return Err(CliError::Usage(format!(
                    "packet-out: unknown keyword {k} (expected in_port=, packet=, actions=)"
                )))
            }
        }
    }
    po.data = packet
        .ok_or_else(|| CliError::Usage(format!("packet-out {s:?}: must specify packet=HEX")))?
        .into();
    Ok(po)
}

/// The PACKET_OUTs of `packet-out TARGET ARGS…`.
fn packet_outs(args: &[String]) -> Result<Vec<PacketOut>, CliError> {
    match args {
        [one] => Ok(vec![parse_packet_out(one)?]),
        [port, acts, packets @ ..] if !packets.is_empty() => {
            let in_port = in_port(port)?;
            let actions = packet_actions(acts)?;
            packets
                .iter()
                .map(|p| {
                    Ok(PacketOut {
                        buffer_id: OFP_NO_BUFFER,
                        in_port,
                        actions: actions.clone(),
                        data: packet_hex(p)?.into(),
                    })
                })
                .collect()
        }
        _ => Err(CliError::Usage(
            "packet-out takes \"in_port=PORT packet=HEX actions=ACTIONS\" or IN_PORT ACTIONS PACKET_HEX…"
                .into(),
        )),
    }
}

/// `packet-out TARGET "in_port=1 packet=HEX actions=…"` or
/// `packet-out TARGET IN_PORT ACTIONS HEX…`.
pub fn packet_out(o: &Options, target: &str, args: &[String]) -> Result<(), CliError> {
    let pos = packet_outs(args)?;
    let mut s = Session::open(o, target)?;
    for po in pos {
        s.send(Message::PacketOut(po))?;
    }
    s.barrier()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ofproto::action::Action;

    const PKT: &str = "0000000000020000000000010800450000140001000040017cd20a0a0a0b0a0a0a0c";

    #[test]
    fn packet_out_new_form() {
        let po = parse_packet_out(&format!("in_port=1 packet={PKT} actions=output:2")).unwrap();
        assert_eq!(po.in_port, 1);
        assert_eq!(po.buffer_id, OFP_NO_BUFFER);
        assert_eq!(
            po.actions,
            vec![Action::Output {
                port: 2,
                max_len: 0
            }]
        );
        assert_eq!(po.data.len(), 34);
        let po = parse_packet_out(&format!("packet={PKT},actions=output:2,output:3")).unwrap();
        assert_eq!(po.in_port, OFPP_CONTROLLER);
        assert_eq!(po.actions.len(), 2);
        let po = parse_packet_out(&format!("in_port=LOCAL,packet={PKT},actions=drop")).unwrap();
        assert_eq!(po.in_port, OFPP_LOCAL);
        assert!(po.actions.is_empty());
    }

    #[test]
    fn packet_out_positional_form_sends_one_per_packet() {
        let args: Vec<String> = ["1", "output:2", PKT, PKT]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let pos = packet_outs(&args).unwrap();
        assert_eq!(pos.len(), 2);
        assert!(pos.iter().all(|p| p.in_port == 1 && p.data.len() == 34));
    }

    #[test]
    fn packet_out_usage_errors() {
        let bad = |a: &[&str]| {
            let args: Vec<String> = a.iter().map(|s| s.to_string()).collect();
            match packet_outs(&args) {
                Err(CliError::Usage(m)) => m,
                other => panic!("{a:?}: {other:?}"),
            }
        };
        assert!(bad(&["in_port=1 actions=output:2"]).contains("packet=HEX"));
        assert!(bad(&[&format!("in_port=1 packet={PKT}")]).contains("must specify actions"));
        assert!(bad(&[&format!("in_port=1 packet={PKT} actions=bogus:3")]).contains("bad actions"));
        assert!(bad(&[&format!("in_port=x packet={PKT} actions=drop")]).contains("in_port"));
        assert!(bad(&["in_port=1 packet=00ff actions=drop"]).contains("too short"));
        assert!(bad(&["in_port=1 packet=0g actions=drop"]).contains("packet"));
        assert!(
            bad(&[&format!("in_port=1 foo=2 packet={PKT} actions=drop")])
                .contains("unknown keyword foo")
        );
        assert!(bad(&[&format!("packet={PKT} actions=goto_table:1")]).contains("actions only"));
        assert!(bad(&["1", "output:2"]).contains("IN_PORT ACTIONS"));
    }
}
