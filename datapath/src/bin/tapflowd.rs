//! `tapflowd`: the tapflow OpenFlow 1.3 switch daemon.

use std::process::ExitCode;

fn main() -> ExitCode {
    datapath::daemon::main()
}
