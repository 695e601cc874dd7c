//! Decode, validate and re-encode OpenFlow 1.3 messages, one per file.
//!
//! ```text
//! cargo run --release -p ofproto --example ofp_roundtrip -- [--no-validate] FILE...
//! ```
//! Prints one line per file (`FILE: ok`, `FILE: differs at byte N`, or
//! `FILE: error OFPET_NAME OFPCODE_NAME: reason`), then `N passed, N failed`.
//! Exit status: 0 all passed, 1 some failed, 2 bad arguments or unreadable file.

use ofproto::Message;
use std::process::ExitCode;

const USAGE: &str = "usage: ofp_roundtrip [--no-validate] FILE...";

/// The verdict for one file's bytes.
fn check(bytes: &[u8], validate: bool) -> Result<(), String> {
    let (xid, msg) = Message::decode(bytes).map_err(|e| format!("error {e}"))?;
    if validate {
        msg.validate().map_err(|e| format!("error {e}"))?;
    }
    let out = msg.encode_to_vec(xid);
    match out.iter().zip(bytes).position(|(a, b)| a != b) {
        Some(n) => Err(format!("differs at byte {n}")),
        None if out.len() != bytes.len() => {
            Err(format!("differs at byte {}", out.len().min(bytes.len())))
        }
        None => Ok(()),
    }
}

fn main() -> ExitCode {
    let mut validate = true;
    let mut files = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--no-validate" => validate = false,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            s if s.starts_with("--") => {
                eprintln!("ofp_roundtrip: unknown option {s}\n{USAGE}");
                return ExitCode::from(2);
            }
            _ => files.push(arg),
        }
    }
    if files.is_empty() {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    // Read everything first: an unreadable file is a usage error, reported
    // before any verdict is printed.
    let mut inputs = Vec::with_capacity(files.len());
    for f in &files {
        match std::fs::read(f) {
            Ok(b) => inputs.push(b),
            Err(e) => {
                eprintln!("ofp_roundtrip: cannot read {f}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let (mut passed, mut failed) = (0usize, 0usize);
    for (f, bytes) in files.iter().zip(&inputs) {
        // The decoder must never panic; if it ever does, that file fails
        // (and the bug is reported) instead of aborting the whole run.
        let verdict = std::panic::catch_unwind(|| check(bytes, validate))
            .unwrap_or_else(|_| Err("error internal: decoder panicked (a bug)".into()));
        match verdict {
            Ok(()) => {
                passed += 1;
                println!("{f}: ok");
            }
            Err(why) => {
                failed += 1;
                println!("{f}: {why}");
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
