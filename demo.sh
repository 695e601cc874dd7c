#!/usr/bin/env bash
# The main job, as far as it is built: the seed walkthrough's flows, typed as
# an operator types them for ovs-ofctl, encoded to OpenFlow 1.3 and decoded back.
# (The switch daemon that installs them into TAP-port VMs is the next issue.)
set -euo pipefail
cd "$(dirname "$0")"
command -v cargo >/dev/null || export PATH="$HOME/.cargo/bin:$PATH"

echo "== building"
cargo build -q --release -p datapath --bin tapflow -p ofproto --example ofp_roundtrip
tapflow=target/release/tapflow

flows=(
  "priority=100,arp,arp_tpa=10.10.10.11 actions=output:1"
  "priority=100,arp,arp_tpa=10.10.10.12 actions=output:2"
  "priority=100,icmp,nw_dst=10.10.10.11 actions=output:1"
  "priority=100,icmp,nw_dst=10.10.10.12 actions=output:2"
  "priority=100,ip,nw_dst=10.10.10.11 actions=output:1"
  "priority=100,ip,nw_dst=10.10.10.12 actions=output:2"
)
for f in "${flows[@]}"; do
  echo
  echo "== tapflow parse-flow \"$f\""
  "$tapflow" parse-flow "$f"
done

echo
echo "== a bad flow gets an error naming the token (exit code 2)"
"$tapflow" parse-flow "priority=100,arp,arp_tpa=10.10.10.300 actions=output:2" || echo "(exit $?)"

echo
echo "== decoding messages: tapflow ofp-print HEX|FILE"
"$tapflow" ofp-print "04 00 00 10 00 00 00 01 00 01 00 08 00 00 00 10"
vec=../shared/of13-vectors/of13/packet/4-4-ofp_packet_in.packet
[ -f "$vec" ] && "$tapflow" ofp-print "$vec"
echo
echo "== OpenFlow 1.3 golden vectors: decode, validate, re-encode"
if [ -d ../shared/of13-vectors/of13/packet ]; then
  target/release/examples/ofp_roundtrip ../shared/of13-vectors/of13/packet/*.packet | tail -n 3 || true
fi
