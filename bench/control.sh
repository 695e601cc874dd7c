#!/usr/bin/env bash
# Control-path benchmark: tapflowd against Open vSwitch's userspace datapath
# with the same clients, one after another in the same run.
#
#   flow-mod rate   flowmod-blaster over the bridge's unix management socket:
#                   N FLOW_MODs (16 match shapes) + BARRIER, timed until the
#                   BARRIER_REPLY, all N verified installed (AGGREGATE)
#   memory          RSS growth of the switch process per installed flow with
#                   --mem-flows flows (default 1 000 000) over 16 shapes
#   PACKET_IN rate  udp-flood from vm1 (64-byte frames, 1 000 source ports)
#                   to an address no flow matches; a priority-0
#                   CONTROLLER:128 flow; packetin-storm counts what arrives
#                   (tapflowd with --packet-in-rate 0: no limit; OVS has none
#                   by default)
#   first packet    reactive controller (packetin-storm reactive): ping with
#                   no flow for it: miss -> PACKET_IN -> FLOW_MOD+PACKET_OUT
#                   -> delivered, both directions; median of N single pings,
#                   the reactive flows deleted before each; beside the ping
#                   p50 once the flows are installed
#   miss storm      tapflowd only: iperf3 TCP vm1 -> vm2 while udp-flood
#                   sends --storm-pps frames to a missing destination
#                   (PACKET_IN, default rate limit) vs to a drop flow; the
#                   ratio of the two TCP rates
#
# Usage (root): bench/control.sh [--runs N] [--flows N] [--mem-flows N] [--quick] [--keep-logs DIR]
# Everything it creates is named tfb-*; all removed on exit (trap EXIT).
set -euo pipefail

RUNS=3 FLOWS=100000 MEM_FLOWS=1000000 PI_SECS=5 PINGS=20 STORM_PPS=100000 TCP_SECS=10 KEEP=
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --flows) FLOWS=$2; shift 2 ;;
    --mem-flows) MEM_FLOWS=$2; shift 2 ;;
    --storm-pps) STORM_PPS=$2; shift 2 ;;
    --quick) RUNS=1 FLOWS=50000 MEM_FLOWS=200000 PI_SECS=3 PINGS=5 TCP_SECS=5; shift ;;
    --keep-logs) KEEP=$2; shift 2 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "control.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$RUNS" =~ ^[1-9][0-9]?$ ]] || { echo "control.sh: --runs takes 1..99" >&2; exit 2; }
source "$(dirname "$0")/lib.sh"
need_tools iperf3:iperf3 jq:jq ping:iputils-ping
need_ovs
refuse_leftovers
start_watchdog $(( 1200 + 600 + 4 * RUNS * 60 ))

echo "== cargo build --release -p datapath -p tapflow-bench"
cargo build --release -p datapath -p tapflow-bench
BIN=$ROOT/target/release
BLAST=$BIN/flowmod-blaster STORM=$BIN/packetin-storm FLOOD=$BIN/udp-flood
MISS_IP=10.10.10.99 MISS_MAC=02:00:00:00:00:99
declare -A R   # results: R[name.measure]

# ------------------------------------------------------------ flow-mod rate
flowmod_rate() { # name target pid
  local out
  out=$("$BLAST" "$2" --flows "$FLOWS" --runs "$RUNS" 2>"$WORK/$1.blaster.log")
  cat "$WORK/$1.blaster.log" | sed 's/^/   /'
  R[$1.flowmod]=$(sed -n 's/.*flowmod_rate_median=\([0-9]*\).*/\1/p' <<<"$out")
  # memory: RSS growth per flow with MEM_FLOWS installed
  local before after
  before=$(rss_kb "$3")
  "$BLAST" "$2" --flows "$MEM_FLOWS" --runs 1 --keep --rss-pid "$3" >"$WORK/$1.mem.out" 2>"$WORK/$1.mem.log"
  after=$(rss_kb "$3")
  R[$1.mem]=$(awk -v a="$after" -v b="$before" -v n="$MEM_FLOWS" 'BEGIN {printf "%.0f", (a - b) * 1024 / n}')
  R[$1.memrate]=$(sed -n 's/.*flowmod_rate_median=\([0-9]*\).*/\1/p' "$WORK/$1.mem.out")
  echo "   $MEM_FLOWS flows: RSS $before kB -> $after kB = ${R[$1.mem]} bytes/flow (installed at ${R[$1.memrate]} flows/s)"
}

echo "== FLOW_MOD rate and memory: tapflowd"
start_tapflowd tapflowd-flows --fail-mode secure
flowmod_rate tapflowd "unix:$TFRUN/tfb-br0.mgmt" "$TFD_PID"
stop_tapflowd
echo "== FLOW_MOD rate and memory: OVS $(ovs-vswitchd --version | head -1 | awk '{print $NF}')"
start_ovs ovs-flows false
flowmod_rate ovs "$OVS_MGMT" "$OVS_PID"
stop_ovs

# ------------------------------------------------- PACKET_IN + first packet
# The controller side listens; the switch connects to it. OVS runs in
# namespace tfb-ovs, so its controller listens there (IN_NS).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
static_neigh() { # vm1-ifname vm2-ifname
  ip -n tfb-vm1 neigh replace $IP2 lladdr $MAC2 dev "$1" nud permanent
  ip -n tfb-vm2 neigh replace $IP1 lladdr $MAC1 dev "$2" nud permanent
  ip -n tfb-vm1 neigh replace $MISS_IP lladdr $MISS_MAC dev "$1" nud permanent
}
in_ns() { if [ -n "$IN_NS" ]; then ip netns exec "$IN_NS" "$@"; else "$@"; fi; }

# tapflowd with TAP ports 1, 2 in the VMs and controller tcp:127.0.0.1:$1.
tapflowd_with_controller() { # port log-name extra-flags...
  local port=$1 log=$2; shift 2
  new_vms
  start_tapflowd "$log" --port tfb-tap1:1 --port tfb-tap2:2 --fail-mode secure \
    --controller tcp:127.0.0.1:$port "$@"
  ip link set tfb-tap1 netns tfb-vm1; ip link set tfb-tap2 netns tfb-vm2
  vm_if tfb-vm1 tfb-tap1 $IP1 $MAC1; vm_if tfb-vm2 tfb-tap2 $IP2 $MAC2
  static_neigh tfb-tap1 tfb-tap2
}

packet_in_rate() { # name port add-flow-cmd...
  local name=$1 port=$2; shift 2
  "$@" "priority=0 actions=CONTROLLER:128"
  sleep 0.5
  ip netns exec tfb-vm1 "$FLOOD" $MISS_IP:9 --secs $((PI_SECS + 3)) --ports 1000 >"$WORK/$name.flood.out" &
  local fpid=$!; PIDS+=($fpid)
  wait "$SPID" || true
  wait "$fpid" || true
  R[$name.pi]=$(sed -n 's/.*packet_in_rate=\([0-9]*\).*/\1/p' "$WORK/$name.storm.out")
  echo "   PACKET_IN: ${R[$name.pi]:-?}/s delivered to the controller (offered: $(cat "$WORK/$name.flood.out"))"
}
first_packet() { # name del-flows-cmd...
  local name=$1 i rtt; shift
  : >"$WORK/$name.first"
  for i in $(seq "$PINGS"); do
    "$@"
    sleep 0.2
    rtt=$(ip netns exec tfb-vm1 ping -n -c 1 -W 2 $IP2 | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' || true)
    echo "${rtt:-nan}" >>"$WORK/$name.first"
  done
  R[$name.first]=$(median <"$WORK/$name.first")
  R[$name.steady]=$(ip netns exec tfb-vm1 ping -n -c 50 -i 0.01 -W 1 $IP2 \
    | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | median)
  echo "   first packet (one ping through the reactive controller): ${R[$name.first]} ms, median of $PINGS ($(paste -sd ' ' "$WORK/$name.first")); then ${R[$name.steady]} ms p50"
}
start_storm() { # name port mode-args...: the controller tool, pid in SPID
  local name=$1 port=$2; shift 2
  in_ns "$STORM" ptcp:$port "$@" >"$WORK/$name.storm.out" 2>"$WORK/$name.storm.log" &
  SPID=$!; PIDS+=($SPID)
  sleep 0.3
}

IN_NS=
echo "== PACKET_IN rate: tapflowd (--packet-in-rate 0)"
port=$(free_port)
start_storm tapflowd $port count --secs "$PI_SECS"
tapflowd_with_controller $port tapflowd-pi --packet-in-rate 0
packet_in_rate tapflowd $port tf add-flow tfb-br0
stop_tapflowd; del_vms

echo "== first-packet latency: tapflowd"
port=$(free_port)
start_storm tapflowd-reactive $port reactive --route $IP1=1 --route $IP2=2
tapflowd_with_controller $port tapflowd-first
tf add-flow tfb-br0 "priority=0 actions=CONTROLLER:65535"
first_packet tapflowd tf del-flows tfb-br0 cookie=0x99/-1
kill $SPID 2>/dev/null || true
stop_tapflowd; del_vms

echo "== PACKET_IN rate and first-packet latency: OVS"
new_vms
start_ovs ovs-pi false
ovs_tap_ports
static_neigh tfb-otap1 tfb-otap2
ip -n tfb-ovs link set lo up
IN_NS=tfb-ovs
port=$(free_port)
start_storm ovs $port count --secs "$PI_SECS"
vsctl set-controller tfb-obr tcp:127.0.0.1:$port
packet_in_rate ovs $port ovs-ofctl -O OpenFlow13 add-flow "$OVS_MGMT"
port=$(free_port)
start_storm ovs-reactive $port reactive --route $IP1=1 --route $IP2=2
vsctl set-controller tfb-obr tcp:127.0.0.1:$port
ovs-ofctl -O OpenFlow13 del-flows "$OVS_MGMT"
ovs-ofctl -O OpenFlow13 add-flow "$OVS_MGMT" "priority=0 actions=CONTROLLER:65535"
sleep 1
first_packet ovs ovs-ofctl -O OpenFlow13 del-flows "$OVS_MGMT" cookie=0x99/-1
kill $SPID 2>/dev/null || true
stop_ovs; del_vms
IN_NS=

# --------------------------------------------------------------- miss storm
# tapflowd: the seed flows, iperf3 TCP vm1 -> vm2, while udp-flood sends
# STORM_PPS frames from vm1 to MISS_IP: (a) no flow: PACKET_IN (default
# limit) to a connected controller; (b) a drop flow for MISS_IP.
tcp_under_flood() { # name
  ip netns exec tfb-vm1 "$FLOOD" $MISS_IP:9 --secs $((TCP_SECS + 2)) --ports 1000 --pps "$STORM_PPS" >"$WORK/$1.flood.out" &
  local fpid=$!; PIDS+=($fpid)
  sleep 0.5
  timeout $((TCP_SECS + 20)) ip netns exec tfb-vm1 iperf3 -J -c $IP2 -t "$TCP_SECS" >"$WORK/$1.tcp.json" || true
  wait $fpid || true
  jq -r '(.end.sum_received.bits_per_second // 0) / 1e9' "$WORK/$1.tcp.json"
}
echo "== miss storm: tapflowd, TCP vm1 -> vm2 while $STORM_PPS frames/s miss (PACKET_IN) or hit a drop flow"
port=$(free_port)
start_storm tapflowd-storm $port count --secs 3600 --wait 3600
tapflowd_with_controller $port tapflowd-storm
for a in "1 $IP1" "2 $IP2"; do
  set -- $a
  tf add-flow tfb-br0 "priority=100,ip,nw_dst=$2 actions=output:$1"
done
tf add-flow tfb-br0 "priority=0 actions=CONTROLLER:128"
ip netns exec tfb-vm2 iperf3 -s -B $IP2 >"$WORK/iperf3-server.log" 2>&1 &
PIDS+=($!)
sleep 0.5
: >"$WORK/storm.miss"; : >"$WORK/storm.drop"
for r in $(seq "$RUNS"); do
  tf del-flows tfb-br0 "ip,nw_dst=$MISS_IP" 2>/dev/null || true
  tcp_under_flood storm-miss-$r >>"$WORK/storm.miss"
  tf add-flow tfb-br0 "priority=200,ip,nw_dst=$MISS_IP actions=drop"
  tcp_under_flood storm-drop-$r >>"$WORK/storm.drop"
done
R[storm.miss]=$(median <"$WORK/storm.miss") R[storm.drop]=$(median <"$WORK/storm.drop")
echo "   TCP with the flood missing: $(paste -sd ' ' "$WORK/storm.miss") Gb/s; hitting a drop flow: $(paste -sd ' ' "$WORK/storm.drop") Gb/s"
kill $SPID 2>/dev/null || true
stop_tapflowd; del_vms

# -------------------------------------------------------------------- table
v() { echo "${R[$1]:--}"; }
echo
echo "Control path, medians of $RUNS run(s) where repeated; $(date -u +%F), $(nproc) vCPU"
echo
echo "| measure | tapflowd | OVS $(ovs-vswitchd --version | head -1 | awk '{print $NF}') | tapflowd ÷ OVS |"
echo "|---|---|---|---|"
echo "| FLOW_MOD install, $FLOWS flows + BARRIER, one connection (flows/s) | $(v tapflowd.flowmod) | $(v ovs.flowmod) | $(ratio "$(v tapflowd.flowmod)" "$(v ovs.flowmod)") |"
echo "| FLOW_MOD install, $MEM_FLOWS flows (flows/s) | $(v tapflowd.memrate) | $(v ovs.memrate) | $(ratio "$(v tapflowd.memrate)" "$(v ovs.memrate)") |"
echo "| memory per installed flow at $MEM_FLOWS flows (RSS bytes, lower is better) | $(v tapflowd.mem) | $(v ovs.mem) | $(ratio "$(v tapflowd.mem)" "$(v ovs.mem)") |"
echo "| PACKET_IN delivered to a controller (per s; tapflowd limit off) | $(v tapflowd.pi) | $(v ovs.pi) | $(ratio "$(v tapflowd.pi)" "$(v ovs.pi)") |"
echo "| first packet through a reactive controller, ping RTT (ms, lower is better) | $(v tapflowd.first) | $(v ovs.first) | $(ratio "$(v tapflowd.first)" "$(v ovs.first)") |"
echo "| the same ping once flows are installed, p50 (ms) | $(v tapflowd.steady) | $(v ovs.steady) | $(ratio "$(v tapflowd.steady)" "$(v ovs.steady)") |"
echo "| TCP during a $STORM_PPS/s miss storm ÷ during the same flood to a drop flow | $(ratio "$(v storm.miss)" "$(v storm.drop)") ($(v storm.miss) vs $(v storm.drop) Gb/s) | — | — |"
[ -n "$KEEP" ] && echo "logs: $KEEP"
exit 0
