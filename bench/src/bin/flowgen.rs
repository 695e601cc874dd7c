//! flowgen: prints N distinct flows over up to 16 match shapes in
//! ovs-ofctl add-flows syntax (the set flowmod-blaster installs), for
//! `tapflow add-flows` / `ovs-ofctl add-flows` in the end-to-end scale runs.
//! The shapes stay clear of the benchmark's own traffic (10.10.10.0/24,
//! iperf3's ports).
//!
//!   flowgen --flows 100000 --shapes 16 --tables 3 --actions drop > flows.txt

use clap::Parser;
use std::io::{BufWriter, Write};
use tapflow_bench::flows::{check_size, flow_text};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 100_000)]
    flows: usize,
    #[arg(long, default_value_t = 16)]
    shapes: usize,
    #[arg(long, default_value_t = 1)]
    tables: usize,
    #[arg(long, default_value = "drop")]
    actions: String,
}

fn main() {
    let a = Args::parse();
    if let Err(e) = check_size(a.flows, a.shapes) {
        eprintln!("flowgen: {e}");
        std::process::exit(2);
    }
    let mut out = BufWriter::new(std::io::stdout().lock());
    for i in 0..a.flows {
        if writeln!(out, "{}", flow_text(i, a.shapes, a.tables, &a.actions)).is_err() {
            std::process::exit(1);
        }
    }
}
