//! The `tapflow` CLI, shaped after `ovs-ofctl` (and the bits of
//! `ovs-vsctl`/`ovs-appctl` an operator needs) so habits carry over.
//!
//! - OpenFlow verbs (`openflow.rs`): `show`, `add-flow`, `add-flows`,
//!   `mod-flows`, `del-flows`, `dump-flows`, `dump-ports`, `dump-ports-desc`,
//!   `dump-tables`, `packet-out`, and the group and meter verbs
//!   (`groups.rs`: `add-group`, `mod-group`, `del-groups`, `dump-groups`,
//!   `dump-group-stats`, `dump-group-features`, `add-meter`, `mod-meter`,
//!   `del-meters`, `dump-meters`, `meter-stats`, `meter-features`) and the
//!   queue verbs (`queues.rs`: `queue-stats`, `queue-get-config`). They
//!   speak OpenFlow 1.3 to a target — a
//!   tapflowd bridge name (its `RUNDIR/NAME.mgmt` socket) or `unix:PATH` /
//!   `tcp:HOST:PORT` / `ssl:HOST:PORT` (with `--private-key`, `--certificate`,
//!   `--ca-cert`, as ovs-ofctl), so they drive OVS too — and print what
//!   `ovs-ofctl -O OpenFlow13` prints (checked against Open vSwitch 3.1's
//!   ovs-ofctl talking to the same switch; see `tests/cli_openflow.rs`).
//! - Control-socket verbs (`ctl.rs`, tapflowd only): `add-port`, `del-port`,
//!   `trace`, `snoop`, `version`, `list-bridges`, over `RUNDIR/tapflowd.ctl`.
//! - Local verbs (`local.rs`, `tap.rs`): `ofp-print`, `parse-flow`,
//!   `parse-flows`, `mktap`, `rmtap`.
//!
//! Options are global and may come before or after the verb, as ovs-ofctl
//! users write them (`tapflow --strict del-flows br0 …` or
//! `tapflow del-flows --strict br0 …`).
//!
//! Exit codes as ovs-ofctl, except that usage errors are distinct: 0 ok,
//! 1 the operation failed (the switch refused it, no connection, …), 2 usage
//! error (bad option, bad flow syntax, unknown verb).

mod ctl;
mod groups;
mod local;
mod openflow;
mod queues;
mod sort;
mod tap;
mod target;

use clap::{Args, Parser, Subcommand};
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

pub use target::DEFAULT_RUNDIR;

#[derive(Parser, Debug)]
#[command(
    name = "tapflow",
    version,
    about = "Drive tapflow (and OVS) switches over OpenFlow 1.3, like ovs-ofctl",
    after_help = "TARGET is a tapflowd bridge name (its RUNDIR/NAME.mgmt socket), \
unix:PATH, tcp:HOST[:PORT] or ssl:HOST[:PORT] (needs --private-key, --certificate \
and --ca-cert).\nExit status: 0 ok, 1 the operation failed, 2 usage error."
)]
struct Cli {
    #[command(flatten)]
    opts: GlobalOpts,
    #[command(subcommand)]
    verb: Verb,
}

/// Options of every verb (ovs-ofctl's spellings).
#[derive(Args, Debug, Default, Clone)]
struct GlobalOpts {
    /// Where tapflowd keeps its sockets [env: TAPFLOW_RUNDIR] [default: /run/tapflow].
    #[arg(long, global = true, value_name = "DIR")]
    rundir: Option<PathBuf>,
    /// Give up after SECS seconds (connecting and waiting for each reply).
    #[arg(short = 't', long, global = true, value_name = "SECS")]
    timeout: Option<f64>,
    /// OpenFlow version(s), as ovs-ofctl's -O; tapflow speaks OpenFlow13 only,
    /// so this is accepted for habit's sake and must include OpenFlow13.
    #[arg(short = 'O', long = "protocols", global = true, value_name = "VERSION")]
    protocols: Option<String>,
    /// mod-flows/del-flows: match priority and fields exactly (MODIFY_STRICT/DELETE_STRICT).
    #[arg(long, global = true)]
    strict: bool,
    /// dump-flows: leave out the statistics (the output reads back with add-flows).
    #[arg(long = "no-stats", global = true, overrides_with = "stats")]
    no_stats: bool,
    /// dump-flows: print the statistics (default).
    #[arg(long = "stats", global = true, overrides_with = "no_stats")]
    stats: bool,
    /// dump-flows: sort by FIELD ascending (by priority without FIELD); repeatable.
    #[arg(long, global = true, value_name = "FIELD", num_args = 0..=1,
          require_equals = true, default_missing_value = "priority")]
    sort: Vec<String>,
    /// dump-flows: sort by FIELD descending (by priority without FIELD); repeatable.
    #[arg(long, global = true, value_name = "FIELD", num_args = 0..=1,
          require_equals = true, default_missing_value = "priority")]
    rsort: Vec<String>,
    /// Accepted for ovs-ofctl habits; ports and tables are printed as numbers.
    #[arg(long, global = true, overrides_with = "no_names")]
    names: bool,
    /// Print ports and tables as numbers (what tapflow always does).
    #[arg(long = "no-names", global = true, overrides_with = "names")]
    no_names: bool,
    /// ssl: targets: our private key (PEM).
    #[arg(short = 'p', long = "private-key", global = true, value_name = "FILE")]
    private_key: Option<PathBuf>,
    /// ssl: targets: our certificate (PEM), signed by a CA the switch trusts.
    #[arg(short = 'c', long = "certificate", global = true, value_name = "FILE")]
    certificate: Option<PathBuf>,
    /// ssl: targets: the CA certificate the switch's certificate must be signed by (PEM).
    #[arg(short = 'C', long = "ca-cert", global = true, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Verb {
    /// Switch features, ports and configuration (FEATURES, PORT_DESC, GET_CONFIG).
    Show { target: String },
    /// Add one flow, e.g. "priority=100,arp,arp_tpa=10.10.10.12 actions=output:2" (`-`: flows from stdin).
    #[command(name = "add-flow")]
    AddFlow { target: String, flow: String },
    /// Add the flows of FILE (`-`: stdin), one per line; lines may start with
    /// add/modify/modify_strict/delete/delete_strict. One barrier at the end.
    #[command(name = "add-flows")]
    AddFlows { target: String, file: String },
    /// Change the actions of matching flows (`--strict`: same priority and match only).
    #[command(name = "mod-flows")]
    ModFlows { target: String, flow: String },
    /// Delete matching flows, all of them without FLOW (`--strict`: same priority and match only).
    #[command(name = "del-flows")]
    DelFlows {
        target: String,
        flow: Option<String>,
    },
    /// Print the flows (matching FLOW: fields, table=, cookie=V/M, out_port=).
    #[command(name = "dump-flows")]
    DumpFlows {
        target: String,
        flow: Option<String>,
    },
    /// Port counters, of every port or of PORT (number, LOCAL, or name).
    #[command(name = "dump-ports")]
    DumpPorts {
        target: String,
        port: Option<String>,
    },
    /// Port descriptions, of every port or of PORT.
    #[command(name = "dump-ports-desc")]
    DumpPortsDesc {
        target: String,
        port: Option<String>,
    },
    /// Table counters.
    #[command(name = "dump-tables")]
    DumpTables { target: String },
    /// Add a group, e.g. "group_id=1,type=select,bucket=output:1,bucket=output:2".
    #[command(name = "add-group")]
    AddGroup { target: String, group: String },
    /// Replace a group's type and buckets.
    #[command(name = "mod-group")]
    ModGroup { target: String, group: String },
    /// Delete group "group_id=N" (all groups without it); flows using a group go with it.
    #[command(name = "del-groups")]
    DelGroups {
        target: String,
        group: Option<String>,
    },
    /// Print the groups (GROUP_DESC), or group "group_id=N".
    #[command(name = "dump-groups")]
    DumpGroups {
        target: String,
        group: Option<String>,
    },
    /// Group and bucket counters, of every group or of "group_id=N".
    #[command(name = "dump-group-stats")]
    DumpGroupStats {
        target: String,
        group: Option<String>,
    },
    /// Group types, capabilities and limits of the switch.
    #[command(name = "dump-group-features")]
    DumpGroupFeatures { target: String },
    /// Add a meter, e.g. "meter=1,kbps,burst,bands=type=drop,rate=10000,burst_size=1000".
    #[command(name = "add-meter")]
    AddMeter { target: String, meter: String },
    /// Replace a meter's flags and bands.
    #[command(name = "mod-meter")]
    ModMeter { target: String, meter: String },
    /// Delete meter "meter=N" (all meters without it); flows using a meter go with it.
    #[command(name = "del-meters", alias = "del-meter")]
    DelMeters {
        target: String,
        meter: Option<String>,
    },
    /// Print the meters (METER_CONFIG), or meter "meter=N".
    #[command(name = "dump-meters")]
    DumpMeters {
        target: String,
        meter: Option<String>,
    },
    /// Meter and band counters, of every meter or of "meter=N".
    #[command(name = "meter-stats")]
    MeterStats {
        target: String,
        meter: Option<String>,
    },
    /// Meter band types, capabilities and limits of the switch.
    #[command(name = "meter-features")]
    MeterFeatures { target: String },
    /// Queue counters: of every port's queues, of PORT's, or of PORT's QUEUE ("all" for every one).
    #[command(name = "queue-stats")]
    QueueStats {
        target: String,
        port: Option<String>,
        queue: Option<String>,
    },
    /// The queues of every port or of PORT, with their min/max rates.
    #[command(name = "queue-get-config")]
    QueueGetConfig {
        target: String,
        port: Option<String>,
    },
    /// Send a packet: "in_port=1 packet=HEX actions=…", or IN_PORT ACTIONS HEX… (one PACKET_OUT per HEX).
    #[command(name = "packet-out")]
    PacketOut {
        target: String,
        #[arg(required = true, num_args = 1..)]
        args: Vec<String>,
    },
    /// Attach IFNAME to a tapflowd bridge (a TAP is created if it doesn't exist).
    #[command(name = "add-port")]
    AddPort {
        bridge: String,
        ifname: String,
        /// ofport=N: the OpenFlow port number to ask for.
        ofport: Option<String>,
    },
    /// Detach IFNAME from a tapflowd bridge.
    #[command(name = "del-port")]
    DelPort { bridge: String, ifname: String },
    /// Which flows a packet hits, table by table, and where it leaves (like ovs-appctl ofproto/trace).
    Trace {
        bridge: String,
        /// e.g. "in_port=1,icmp,nw_dst=10.10.10.12"
        flow: String,
        /// Print the daemon's JSON answer as is.
        #[arg(long)]
        json: bool,
    },
    /// Watch a tapflowd bridge's OpenFlow traffic, decoded, until Ctrl-C.
    Snoop { bridge: String },
    /// Versions of this CLI and of the running tapflowd.
    Version,
    /// The bridges tapflowd runs.
    #[command(name = "list-bridges")]
    ListBridges,
    /// Create a persistent TAP that USER/GROUP may open (for QEMU/libvirt), like `ip tuntap add mode tap`.
    Mktap {
        name: String,
        #[arg(long, value_name = "USER")]
        user: Option<String>,
        #[arg(long, value_name = "GROUP")]
        group: Option<String>,
    },
    /// Remove a persistent TAP made by mktap.
    Rmtap { name: String },
    /// Decode OpenFlow messages given as hex, or a file holding them (binary or hex), like `ovs-ofctl ofp-print`.
    #[command(name = "ofp-print")]
    OfpPrint {
        /// Hex digits (spaces, `:` and a `0x` prefix allowed) or a file path.
        input: String,
    },
    /// Parse a flow in ovs-ofctl syntax and show its OpenFlow 1.3 FLOW_MOD.
    #[command(name = "parse-flow")]
    ParseFlow {
        /// e.g. "priority=100,arp,arp_tpa=10.10.10.12 actions=output:2"
        flow: String,
    },
    /// Parse an `add-flows` file (or `-` for stdin) and show each FLOW_MOD.
    #[command(name = "parse-flows")]
    ParseFlows { file: String },
}

/// An error the CLI prints: `Usage` exits 2, `Failed` and `Switch` exit 1.
#[derive(Debug, PartialEq, Eq)]
pub enum CliError {
    /// Printed as `tapflow: MSG`, exit 2.
    Usage(String),
    /// Printed as `tapflow: MSG`, exit 1.
    Failed(String),
    /// The switch's OFPT_ERROR(s), printed as ovs-ofctl prints them (no
    /// prefix), exit 1.
    Switch(String),
}

impl CliError {
    fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Failed(_) | CliError::Switch(_) => 1,
        }
    }
}

/// How `dump-flows` orders its output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortOrder {
    Asc,
    Desc,
}

/// The options after validation.
#[derive(Clone, Debug)]
pub struct Options {
    pub rundir: PathBuf,
    /// `--timeout`; `None` = the defaults (10 s per reply).
    pub timeout: Option<Duration>,
    pub strict: bool,
    pub stats: bool,
    /// `--names` (true) / `--no-names` (false) / neither.
    pub names: Option<bool>,
    /// `--sort`/`--rsort` criteria in command-line order.
    pub sort: Vec<sort::SortKey>,
    /// `--private-key`, `--certificate`, `--ca-cert` (for `ssl:` targets).
    pub tls: target::TlsOptions,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            rundir: PathBuf::from(DEFAULT_RUNDIR),
            timeout: None,
            strict: false,
            stats: true,
            names: None,
            sort: Vec::new(),
            tls: target::TlsOptions::default(),
        }
    }
}

/// `--sort[=F]`/`--rsort[=F]` in the order given (clap keeps the two lists
/// apart; the order across them decides the sort). Stops at `--`.
fn sort_args_in_order(args: &[OsString]) -> Vec<(SortOrder, String)> {
    let mut out = Vec::new();
    for a in args.iter().skip(1) {
        let Some(a) = a.to_str() else { continue };
        if a == "--" {
            break;
        }
        for (flag, order) in [("--sort", SortOrder::Asc), ("--rsort", SortOrder::Desc)] {
            if a == flag {
                out.push((order, "priority".to_string()));
            } else if let Some(f) = a.strip_prefix(flag).and_then(|r| r.strip_prefix('=')) {
                out.push((order, f.to_string()));
            }
        }
    }
    out
}

/// `-O`: anything that includes OpenFlow 1.3 (`OpenFlow13`, `OpenFlow10,OpenFlow13`).
fn check_protocols(p: &str) -> Result<(), CliError> {
    let ok = p
        .split(',')
        .map(str::trim)
        .any(|v| v.eq_ignore_ascii_case("OpenFlow13") || v.eq_ignore_ascii_case("OF1.3"));
    if ok {
        Ok(())
    } else {
        Err(CliError::Usage(format!(
            "-O {p}: tapflow speaks OpenFlow 1.3 only (use -O OpenFlow13, or leave -O out)"
        )))
    }
}

fn options(opts: &GlobalOpts, raw_args: &[OsString]) -> Result<Options, CliError> {
    if let Some(p) = &opts.protocols {
        check_protocols(p)?;
    }
    let timeout = match opts.timeout {
        None => None,
        Some(t) if t.is_finite() && t > 0.0 && t < 1e9 => Some(Duration::from_secs_f64(t)),
        Some(t) => {
            return Err(CliError::Usage(format!(
                "--timeout {t}: expected a positive number of seconds"
            )))
        }
    };
    let mut sort = Vec::new();
    for (order, field) in sort_args_in_order(raw_args) {
        sort.push(sort::SortKey::parse(order, &field)?);
    }
    Ok(Options {
        rundir: opts
            .rundir
            .clone()
            .or_else(|| {
                std::env::var_os("TAPFLOW_RUNDIR")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            })
            .unwrap_or_else(|| PathBuf::from(DEFAULT_RUNDIR)),
        timeout,
        strict: opts.strict,
        stats: !opts.no_stats,
        names: if opts.names {
            Some(true)
        } else if opts.no_names {
            Some(false)
        } else {
            None
        },
        sort,
        tls: target::TlsOptions {
            private_key: opts.private_key.clone(),
            certificate: opts.certificate.clone(),
            ca_cert: opts.ca_cert.clone(),
        },
    })
}

/// Runs a verb, writing its output to `out`.
fn run_verb(verb: Verb, o: &Options, out: &mut dyn Write) -> Result<(), CliError> {
    use openflow as of;
    let text = |r: Result<String, CliError>, out: &mut dyn Write| -> Result<(), CliError> {
        let s = r?;
        out.write_all(s.as_bytes()).map_err(output_error)
    };
    match verb {
        Verb::Show { target } => of::show(o, &target, out),
        Verb::AddFlow { target, flow } => of::add_flow(o, &target, &flow),
        Verb::AddFlows { target, file } => of::add_flows(o, &target, &file),
        Verb::ModFlows { target, flow } => of::mod_flows(o, &target, &flow),
        Verb::DelFlows { target, flow } => of::del_flows(o, &target, flow.as_deref()),
        Verb::DumpFlows { target, flow } => of::dump_flows(o, &target, flow.as_deref(), out),
        Verb::DumpPorts { target, port } => of::dump_ports(o, &target, port.as_deref(), out),
        Verb::DumpPortsDesc { target, port } => {
            of::dump_ports_desc(o, &target, port.as_deref(), out)
        }
        Verb::DumpTables { target } => of::dump_tables(o, &target, out),
        Verb::PacketOut { target, args } => of::packet_out(o, &target, &args),
        Verb::AddGroup { target, group } => {
            groups::group_mod(o, &target, Some(&group), ofproto::text::GroupCommand::Add)
        }
        Verb::ModGroup { target, group } => groups::group_mod(
            o,
            &target,
            Some(&group),
            ofproto::text::GroupCommand::Modify,
        ),
        Verb::DelGroups { target, group } => groups::group_mod(
            o,
            &target,
            group.as_deref(),
            ofproto::text::GroupCommand::Delete,
        ),
        Verb::DumpGroups { target, group } => {
            groups::dump_groups(o, &target, group.as_deref(), out)
        }
        Verb::DumpGroupStats { target, group } => {
            groups::dump_group_stats(o, &target, group.as_deref(), out)
        }
        Verb::DumpGroupFeatures { target } => groups::dump_group_features(o, &target, out),
        Verb::AddMeter { target, meter } => {
            groups::meter_mod(o, &target, Some(&meter), ofproto::text::MeterCommand::Add)
        }
        Verb::ModMeter { target, meter } => groups::meter_mod(
            o,
            &target,
            Some(&meter),
            ofproto::text::MeterCommand::Modify,
        ),
        Verb::DelMeters { target, meter } => groups::meter_mod(
            o,
            &target,
            meter.as_deref(),
            ofproto::text::MeterCommand::Delete,
        ),
        Verb::DumpMeters { target, meter } => {
            groups::dump_meters(o, &target, meter.as_deref(), out)
        }
        Verb::MeterStats { target, meter } => {
            groups::meter_stats(o, &target, meter.as_deref(), out)
        }
        Verb::MeterFeatures { target } => groups::meter_features(o, &target, out),
        Verb::QueueStats {
            target,
            port,
            queue,
        } => queues::queue_stats(o, &target, port.as_deref(), queue.as_deref(), out),
        Verb::QueueGetConfig { target, port } => {
            queues::queue_get_config(o, &target, port.as_deref(), out)
        }
        Verb::AddPort {
            bridge,
            ifname,
            ofport,
        } => ctl::add_port(o, &bridge, &ifname, ofport.as_deref(), out),
        Verb::DelPort { bridge, ifname } => ctl::del_port(o, &bridge, &ifname, out),
        Verb::Trace { bridge, flow, json } => ctl::trace(o, &bridge, &flow, json, out),
        Verb::Snoop { bridge } => ctl::snoop(o, &bridge, out),
        Verb::Version => ctl::version(o, out),
        Verb::ListBridges => ctl::list_bridges(o, out),
        Verb::Mktap { name, user, group } => {
            text(tap::mktap(&name, user.as_deref(), group.as_deref()), out)
        }
        Verb::Rmtap { name } => text(tap::rmtap(&name), out),
        Verb::OfpPrint { input } => text(local::ofp_print(&input), out),
        Verb::ParseFlow { flow } => text(local::parse_flow(&flow), out),
        Verb::ParseFlows { file } => text(local::parse_flows(&file), out),
    }
}

/// Writing to stdout failed (e.g. a closed pipe).
fn output_error(e: std::io::Error) -> CliError {
    CliError::Failed(format!("writing output: {e}"))
}

/// Kills the process once `--timeout` has passed, as ovs-ofctl's alarm
/// does, whatever it is waiting for (name resolution, a stuck peer).
fn start_watchdog(d: Duration) {
    std::thread::spawn(move || {
        std::thread::sleep(d);
        let _ = std::io::stdout().flush();
        eprintln!("tapflow: timed out after {} s", d.as_secs_f64());
        std::process::exit(1);
    });
}

/// Parses `args` (program name first) and runs the verb; returns the exit status.
pub fn run(args: Vec<OsString>) -> u8 {
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => 2,
            };
        }
    };
    let result = options(&cli.opts, &args).and_then(|o| {
        // snoop ends quietly at --timeout; everything else is cut off.
        if let (Some(t), false) = (o.timeout, matches!(cli.verb, Verb::Snoop { .. })) {
            // A little slack so the per-reply timeouts report first, naming
            // what they waited for.
            start_watchdog(t + Duration::from_millis(500));
        }
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let r = run_verb(cli.verb, &o, &mut out);
        let flushed = out.flush();
        match (r, flushed) {
            (Err(e), _) => Err(e),
            // A reader that went away (`| head`) is not our failure.
            (Ok(()), Err(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            (Ok(()), Err(e)) => Err(output_error(e)),
            (Ok(()), Ok(())) => Ok(()),
        }
    });
    match result {
        Ok(()) => 0,
        Err(e) => {
            match &e {
                CliError::Usage(m) | CliError::Failed(m) => eprintln!("tapflow: {m}"),
                CliError::Switch(m) => eprintln!("{}", m.trim_end()),
            }
            e.exit_code()
        }
    }
}

pub fn main() -> ExitCode {
    // Rust ignores SIGPIPE; a CLI piped into `head` should end quietly the
    // way ovs-ofctl and cat do, not report a broken pipe.
    // SAFETY: restoring a signal's default disposition at startup, before
    // any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    ExitCode::from(run(std::env::args_os().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<(Cli, Options), String> {
        let raw: Vec<OsString> = args.iter().map(OsString::from).collect();
        let cli = Cli::try_parse_from(&raw).map_err(|e| e.to_string())?;
        let o = options(&cli.opts, &raw).map_err(|e| format!("{e:?}"))?;
        Ok((cli, o))
    }

    #[test]
    fn global_options_go_before_or_after_the_verb() {
        for args in [
            &["tapflow", "--strict", "del-flows", "br0", "ip"][..],
            &["tapflow", "del-flows", "--strict", "br0", "ip"][..],
            &["tapflow", "del-flows", "br0", "ip", "--strict"][..],
        ] {
            let (cli, o) = parse(args).unwrap();
            assert!(o.strict, "{args:?}");
            assert!(
                matches!(cli.verb, Verb::DelFlows { ref target, ref flow } if target == "br0" && flow.as_deref() == Some("ip"))
            );
        }
        let (cli, o) = parse(&["tapflow", "del-flows", "br0"]).unwrap();
        assert!(!o.strict);
        assert!(matches!(cli.verb, Verb::DelFlows { flow: None, .. }));
    }

    #[test]
    fn openflow13_is_accepted_and_other_versions_are_usage_errors() {
        for v in ["OpenFlow13", "openflow13", "OpenFlow10,OpenFlow13"] {
            assert!(parse(&["tapflow", "-O", v, "show", "br0"]).is_ok(), "{v}");
        }
        assert!(parse(&["tapflow", "show", "-O", "OpenFlow13", "br0"]).is_ok());
        assert!(parse(&["tapflow", "--protocols=OpenFlow13", "show", "br0"]).is_ok());
        let e = parse(&["tapflow", "-O", "OpenFlow10", "show", "br0"]).unwrap_err();
        assert!(
            e.contains("Usage") && e.contains("OpenFlow 1.3 only"),
            "{e}"
        );
        assert!(check_protocols("OpenFlow14").is_err());
    }

    #[test]
    fn sort_criteria_keep_command_line_order_across_sort_and_rsort() {
        let (_, o) = parse(&[
            "tapflow",
            "--rsort=nw_dst",
            "dump-flows",
            "--sort",
            "br0",
            "--rsort",
        ])
        .unwrap();
        let got: Vec<String> = o.sort.iter().map(|k| k.to_string()).collect();
        assert_eq!(
            got,
            ["--rsort=nw_dst", "--sort=priority", "--rsort=priority"]
        );
        // `--sort` takes no separate value: "dump-flows" stays the verb.
        let (cli, o) = parse(&["tapflow", "--sort", "dump-flows", "br0"]).unwrap();
        assert!(matches!(cli.verb, Verb::DumpFlows { .. }));
        assert_eq!(o.sort.len(), 1);
        let e = parse(&["tapflow", "--sort=bogus_field", "dump-flows", "br0"]).unwrap_err();
        assert!(e.contains("unknown field"), "{e}");
    }

    #[test]
    fn stats_names_timeout_and_rundir() {
        let (_, o) = parse(&["tapflow", "dump-flows", "br0"]).unwrap();
        assert!(o.stats);
        assert_eq!(o.names, None);
        assert_eq!(o.timeout, None);
        let (_, o) = parse(&[
            "tapflow",
            "--no-stats",
            "--names",
            "--timeout",
            "2.5",
            "--rundir",
            "/tmp/x",
            "dump-flows",
            "br0",
        ])
        .unwrap();
        assert!(!o.stats);
        assert_eq!(o.names, Some(true));
        assert_eq!(o.timeout, Some(Duration::from_millis(2500)));
        assert_eq!(o.rundir, PathBuf::from("/tmp/x"));
        let (_, o) = parse(&["tapflow", "--names", "--no-names", "-t", "3", "show", "x"]).unwrap();
        assert_eq!(o.names, Some(false));
        assert_eq!(o.timeout, Some(Duration::from_secs(3)));
        assert!(parse(&["tapflow", "--timeout", "0", "show", "x"]).is_err());
        assert!(parse(&["tapflow", "--timeout", "abc", "show", "x"]).is_err());
    }

    #[test]
    fn tls_flags_are_global_with_ovs_ofctl_spellings() {
        let (_, o) = parse(&[
            "tapflow",
            "--private-key=/k.pem",
            "dump-flows",
            "-c",
            "/c.pem",
            "ssl:127.0.0.1:6653",
            "--ca-cert",
            "/ca.pem",
        ])
        .unwrap();
        assert_eq!(o.tls.private_key, Some(PathBuf::from("/k.pem")));
        assert_eq!(o.tls.certificate, Some(PathBuf::from("/c.pem")));
        assert_eq!(o.tls.ca_cert, Some(PathBuf::from("/ca.pem")));
        let (_, o) = parse(&["tapflow", "-p", "k", "-C", "ca", "show", "br0"]).unwrap();
        assert_eq!(
            (
                o.tls.private_key.is_some(),
                o.tls.certificate,
                o.tls.ca_cert.is_some()
            ),
            (true, None, true)
        );
        // ssl: without the files is a usage error naming the missing flags.
        let run_args = |a: &[&str]| run(a.iter().map(OsString::from).collect());
        assert_eq!(
            run_args(&["tapflow", "-p", "/k.pem", "dump-flows", "ssl:127.0.0.1:1"]),
            2
        );
    }

    #[test]
    fn verb_arguments() {
        let (cli, _) = parse(&[
            "tapflow",
            "packet-out",
            "br0",
            "1",
            "output:2",
            "00ff",
            "00ee",
        ])
        .unwrap();
        assert!(matches!(cli.verb, Verb::PacketOut { ref args, .. } if args.len() == 4));
        assert!(parse(&["tapflow", "packet-out", "br0"]).is_err());
        let (cli, _) = parse(&["tapflow", "add-port", "br0", "tap3", "ofport=3"]).unwrap();
        assert!(
            matches!(cli.verb, Verb::AddPort { ref ofport, .. } if ofport.as_deref() == Some("ofport=3"))
        );
        let (cli, _) = parse(&["tapflow", "trace", "br0", "in_port=1,icmp", "--json"]).unwrap();
        assert!(matches!(cli.verb, Verb::Trace { json: true, .. }));
        let (cli, _) = parse(&[
            "tapflow",
            "mktap",
            "vnet0",
            "--user",
            "libvirt-qemu",
            "--group",
            "kvm",
        ])
        .unwrap();
        assert!(
            matches!(cli.verb, Verb::Mktap { ref user, ref group, .. } if user.as_deref() == Some("libvirt-qemu") && group.as_deref() == Some("kvm"))
        );
        assert!(parse(&["tapflow", "add-flow", "br0"]).is_err());
        assert!(parse(&["tapflow", "frobnicate"]).is_err());
    }

    #[test]
    fn usage_errors_exit_2_and_help_exits_0() {
        let run_args = |a: &[&str]| run(a.iter().map(OsString::from).collect());
        assert_eq!(run_args(&["tapflow", "frobnicate"]), 2);
        assert_eq!(run_args(&["tapflow", "add-flow", "br0"]), 2);
        assert_eq!(run_args(&["tapflow", "-O", "OpenFlow10", "show", "br0"]), 2);
        assert_eq!(
            run_args(&[
                "tapflow",
                "add-flow",
                "unix:/nonexistent",
                "foo=1 actions=drop"
            ]),
            2
        );
        assert_eq!(run_args(&["tapflow", "--help"]), 0);
    }
}
