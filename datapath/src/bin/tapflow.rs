//! `tapflow`: the command-line tool, shaped after ovs-ofctl so habits carry over.

use std::process::ExitCode;

fn main() -> ExitCode {
    datapath::cli::main()
}
