//! The `tapflow` CLI. Local verbs (no switch needed) live in `local.rs`.
//! Exit codes as ovs-ofctl: 0 ok, 1 the operation failed, 2 usage error.

mod local;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "tapflow", version, about = "Drive tapflow (and OVS) switches over OpenFlow 1.3")]
struct Cli {
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Subcommand, Debug)]
enum Verb {
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

/// An error the CLI prints: `Usage` exits 2, `Failed` exits 1.
#[derive(Debug)]
pub enum CliError {
    Usage(String),
    Failed(String),
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(2),
            };
        }
    };
    let result = match cli.verb {
        Verb::OfpPrint { input } => local::ofp_print(&input),
        Verb::ParseFlow { flow } => local::parse_flow(&flow),
        Verb::ParseFlows { file } => local::parse_flows(&file),
    };
    match result {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(CliError::Usage(m)) => {
            eprintln!("tapflow: {m}");
            ExitCode::from(2)
        }
        Err(CliError::Failed(m)) => {
            eprintln!("tapflow: {m}");
            ExitCode::from(1)
        }
    }
}
