#!/usr/bin/env bash
# Group and meter measurements (root): select spread of 1 000 flows over 3
# buckets, fast-failover time (link down / PORT_MOD down -> first frame on
# the next bucket), and a 10 Mbit/s meter offered 20 Mbit/s for 10 s.
# The measuring code is integration/examples/groups_meters.rs; it builds the
# release binaries, runs ~60 s, and every namespace/TAP/daemon it makes is
# named tfi<pid>_* and removed when it exits (also on failure).
#
# Usage (root): bench/groups_meters.sh [spread] [failover] [meter]
#   (no argument: all three)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release -p datapath --bins
exec timeout 300 cargo run -q --release -p integration --example groups_meters -- "$@"
