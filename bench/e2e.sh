#!/usr/bin/env bash
# End-to-end forwarding benchmark: tapflowd against Open vSwitch's userspace
# datapath (TSO off and on) and the Linux bridge, one after another in the
# same run, on the same two "VMs" (network namespaces tfb-vm1 10.10.10.11 and
# tfb-vm2 10.10.10.12).
#
#   forwarders  tapflowd (TAP ports it creates, --fail-mode secure)
#                 [--system: veth pairs attached as system ports, AF_PACKET]
#               OVS netdev datapath, type=tap ports, userspace TSO off
#                 [--system: the same veth pairs as OVS system ports]
#               the same with other_config:userspace-tso-enable=true
#               Linux bridge with two veth pairs (in kernel; a reference)
#   flows       ARP/ICMP/IP by destination address + 1 000 unrelated
#               priority=10 tcp drop flows (same file for tapflowd and OVS)
#               [--scale N: the seed flows in table 2 behind goto_table
#               flows in tables 0 and 1, plus N drop flows over 16 mask
#               shapes spread over tables 0-2 (bench/src/flows.rs); compare
#               with --scale 0, the seed flows alone]
#   measures    iperf3 TCP, one stream, vm1 -> vm2 (Gb/s)
#               iperf3 UDP 64-byte flood (-l 64 -b 0), counted as rx_packets
#                 on vm2's interface (frames/s)  [skip with --no-udp]
#               ping vm1 -> vm2, 100 pings at 0.01 s, p50 (ms)
#               forwarder CPU during the TCP and UDP tests, % of one core,
#                 from /proc/PID/stat utime+stime (all threads)
#   output      one table of medians over N runs, ratios against both OVS
#               rows; raw per-run numbers in the log directory it names.
#
# Usage (root): bench/e2e.sh [--runs N] [--quick] [--no-udp] [--system]
#                             [--scale N] [--no-bridge] [--no-offload]
#                             [--conns N] [--keep-logs DIR]
#   --no-offload  TSO/GSO/GRO and tx checksum offload off inside both VMs
#   --conns N     TCP is N concurrent connections: 8 iperf3 client/server
#                 pairs with N/8 streams each, aggregate Gb/s
#   --runs N   runs per forwarder (default 3); medians are printed
#   --quick    1 run, 5 s TCP and 3 s UDP
# Everything it creates is named tfb-*; it is all removed on exit, also on
# failure or Ctrl-C (trap EXIT). Needs openvswitch-switch, iproute2,
# iputils-ping, jq; installs iperf3 if missing.
set -euo pipefail

RUNS=3 TCP_SECS=10 UDP_SECS=5 UDP=1 KEEP= SYSTEM=0 SCALE= BRIDGE=1 NO_OFFLOAD=0 CONNS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --no-offload) NO_OFFLOAD=1; shift ;;
    --conns) CONNS=$2; shift 2 ;;
    --system) SYSTEM=1; shift ;;
    --scale) SCALE=$2; shift 2 ;;
    --no-bridge) BRIDGE=0; shift ;;
    --runs) RUNS=$2; shift 2 ;;
    --quick) RUNS=1 TCP_SECS=5 UDP_SECS=3; shift ;;
    --no-udp) UDP=0; shift ;;
    --keep-logs) KEEP=$2; shift 2 ;;
    -h|--help) sed -n '2,34p' "$0"; exit 0 ;;
    *) echo "e2e.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$RUNS" =~ ^[1-9][0-9]?$ ]] || { echo "e2e.sh: --runs takes 1..99" >&2; exit 2; }
source "$(dirname "$0")/lib.sh"
need_tools iperf3:iperf3 jq:jq ping:iputils-ping
need_ovs
refuse_leftovers
# A hard bound on the whole run: 30 s of setup per forwarder and run plus
# the tests themselves, then the build's 20 min.
start_watchdog $(( 1200 + 4 * RUNS * (40 + TCP_SECS + UDP_SECS) ))

echo "== cargo build --release -p datapath -p tapflow-bench"
cargo build --release -p datapath -p tapflow-bench

# The seed flows plus 1 000 unrelated ones, for tapflowd and OVS alike
# (--scale: see the header).
FLOWS=$WORK/flows.txt
if [ -z "$SCALE" ]; then
  {
    for a in "1 $IP1" "2 $IP2"; do
      set -- $a
      echo "priority=100,arp,arp_tpa=$2 actions=output:$1"
      echo "priority=100,icmp,nw_dst=$2 actions=output:$1"
      echo "priority=100,ip,nw_dst=$2 actions=output:$1"
    done
    for i in $(seq 0 999); do
      echo "priority=10,tcp,nw_dst=172.16.$((i / 250)).$((i % 250 + 1)),tp_dst=$((1000 + i)) actions=drop"
    done
  } >"$FLOWS"
else
  {
    echo "table=0,priority=1 actions=goto_table:1"
    echo "table=1,priority=1 actions=goto_table:2"
    for a in "1 $IP1" "2 $IP2"; do
      set -- $a
      echo "table=2,priority=200,arp,arp_tpa=$2 actions=output:$1"
      echo "table=2,priority=200,icmp,nw_dst=$2 actions=output:$1"
      echo "table=2,priority=200,ip,nw_dst=$2 actions=output:$1"
    done
    [ "$SCALE" -gt 0 ] && "$ROOT/target/release/flowgen" --flows "$SCALE" --shapes 16 --tables 3
  } >"$FLOWS"
fi
PORTS=tap; [ "$SYSTEM" = 1 ] && PORTS=system

rx_packets() { ip netns exec tfb-vm2 cat /sys/class/net/$1/statistics/rx_packets; }

# One measurement run against whatever forwards between the namespaces now.
# Appends "tcp_gbps ping_ms tcp_cpu udp_pps udp_cpu" to $WORK/$name.runs.
measure() { # name forwarder_pid vm2_ifname
  local name=$1 pid=$2 if2=$3 t0 t1 gbps p50 cpu_tcp pps=- cpu_udp=- r0 r1 u0 u1
  # ping p50 over 100 pings at 10 ms
  p50=$(timeout 30 ip netns exec tfb-vm1 ping -n -c 100 -i 0.01 -W 1 $IP2 \
        | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | sort -n \
        | awk '{a[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}')
  # TCP, one stream (or --conns: 8 clients in parallel, aggregate)
  t0=$(cpu_ticks "$pid")
  local secs
  if [ "$CONNS" -gt 0 ]; then
    local k cl=()
    for k in 1 2 3 4 5 6 7 8; do
      timeout $((TCP_SECS + 30)) ip netns exec tfb-vm1 iperf3 -J -c $IP2 -p $((5200 + k)) \
        -P $(( (CONNS + 7) / 8 )) -t "$TCP_SECS" >"$WORK/$name.tcp$k.json" 2>/dev/null &
      cl+=($!)
    done
    wait "${cl[@]}" || true
    t1=$(cpu_ticks "$pid")
    gbps=$(cat "$WORK"/$name.tcp[1-8].json | jq -s '[.[].end.sum_received.bits_per_second // 0] | add / 1e9' 2>/dev/null || echo 0)
    secs=$TCP_SECS
  else
    timeout $((TCP_SECS + 20)) ip netns exec tfb-vm1 iperf3 -J -c $IP2 -t "$TCP_SECS" >"$WORK/$name.tcp.json" || true
    t1=$(cpu_ticks "$pid")
    gbps=$(jq -r '(.end.sum_received.bits_per_second // 0) / 1e9' "$WORK/$name.tcp.json" 2>/dev/null || echo 0)
    secs=$(jq -r '.end.sum_received.seconds // 0' "$WORK/$name.tcp.json" 2>/dev/null || echo 0)
  fi
  cpu_tcp=$(awk -v d=$((t1 - t0)) -v hz="$HZ" -v s="$secs" 'BEGIN {if (s > 0) printf "%.0f", 100 * d / hz / s; else print "nan"}')
  if [ "$UDP" = 1 ]; then
    sleep 0.5
    r0=$(rx_packets "$if2"); u0=$(cpu_ticks "$pid"); local s0 s1; s0=$(date +%s.%N)
    timeout $((UDP_SECS + 20)) ip netns exec tfb-vm1 iperf3 -J -u -l 64 -b 0 -c $IP2 -t "$UDP_SECS" >"$WORK/$name.udp.json" || true
    s1=$(date +%s.%N); r1=$(rx_packets "$if2"); u1=$(cpu_ticks "$pid")
    # iperf3 adds ~0.1-0.5 s of setup around -t; divide by the test's own length
    pps=$(awk -v d=$((r1 - r0)) -v s="$UDP_SECS" 'BEGIN {printf "%.0f", d / s}')
    cpu_udp=$(awk -v d=$((u1 - u0)) -v hz="$HZ" -v s="$s0" -v e="$s1" 'BEGIN {printf "%.0f", 100 * d / hz / (e - s)}')
  fi
  [ -n "$pid" ] || { cpu_tcp=-; cpu_udp=-; }
  echo "$gbps $p50 $cpu_tcp $pps $cpu_udp" | tee -a "$WORK/$name.runs"
}

with_server() { # name pid vm2_ifname: iperf3 server up, RUNS measurements, server down
  local srv r k
  ip netns exec tfb-vm2 iperf3 -s -B $IP2 >"$WORK/$1.iperf3-server.log" 2>&1 &
  srv=$!; PIDS+=($srv)
  if [ "$CONNS" -gt 0 ]; then
    for k in 1 2 3 4 5 6 7 8; do
      ip netns exec tfb-vm2 iperf3 -s -B $IP2 -p $((5200 + k)) >"$WORK/$1.iperf3-server$k.log" 2>&1 &
      srv="$srv $!"; PIDS+=($!)
    done
  fi
  if [ "$NO_OFFLOAD" = 1 ]; then
    # VM 1's interface has the same name as VM 2's with 1 for the last 2.
    ip netns exec tfb-vm1 ethtool -K "${3%2}1" tso off gso off gro off tx off >/dev/null 2>&1 || true
    ip netns exec tfb-vm2 ethtool -K "$3" tso off gso off gro off tx off >/dev/null 2>&1 || true
  fi
  sleep 0.5
  # ARP resolved and the path works before timing anything
  wait_for 10 "$1: ping vm1 -> vm2" ip netns exec tfb-vm1 ping -n -c 1 -W 1 $IP2 >/dev/null
  echo "   run: tcp_gbps ping_p50_ms cpu_tcp% udp_pps cpu_udp%"
  for r in $(seq "$RUNS"); do measure "$1" "$2" "$3"; done
  kill -TERM $srv 2>/dev/null; wait $srv 2>/dev/null || true
}


# Two veth pairs: tfb-vN in VM N, tfb-vbN (the switch's system port) in
# namespace $1 (or the root namespace when empty).
veth_vms() {
  local i
  for i in 1 2; do
    ip link add tfb-v$i type veth peer name tfb-vb$i
    ip link set tfb-v$i netns tfb-vm$i
    if [ -n "$1" ]; then ip link set tfb-vb$i netns "$1"; ip -n "$1" link set tfb-vb$i up
    else ip link set tfb-vb$i up; fi
  done
  vm_if tfb-vm1 tfb-v1 $IP1 $MAC1; vm_if tfb-vm2 tfb-v2 $IP2 $MAC2
}

# ---------------------------------------------------------------- tapflowd
bench_tapflowd() {
  echo "== tapflowd ($PORTS ports, secure mode, $(wc -l <"$FLOWS") flows)"
  new_vms
  local if2=tfb-tap2
  if [ "$SYSTEM" = 1 ]; then
    veth_vms ""
    start_tapflowd tapflowd --port tfb-vb1:1 --port tfb-vb2:2 --fail-mode secure
    if2=tfb-v2
  else
    start_tapflowd tapflowd --port tfb-tap1:1 --port tfb-tap2:2 --fail-mode secure
    ip link set tfb-tap1 netns tfb-vm1; ip link set tfb-tap2 netns tfb-vm2
    vm_if tfb-vm1 tfb-tap1 $IP1 $MAC1; vm_if tfb-vm2 tfb-tap2 $IP2 $MAC2
  fi
  timeout 120 env TAPFLOW_RUNDIR="$TFRUN" "$TF" add-flows tfb-br0 "$FLOWS"
  echo "   flows installed: $(tf dump-flows tfb-br0 | grep -c priority)"
  with_server tapflowd $TFD_PID $if2
  tf dump-ports tfb-br0 >"$WORK/tapflowd.ports" 2>&1 || true
  stop_tapflowd
  del_vms
}

# --------------------------------------------------------------------- OVS
bench_ovs() { # name tso(true|false)
  local name=$1 tso=$2
  echo "== OVS $(ovs-vswitchd --version | head -1 | awk '{print $NF}') userspace datapath, $PORTS ports, userspace-tso-enable=$tso"
  new_vms
  start_ovs "$name" "$tso"
  local if2=tfb-otap2
  if [ "$SYSTEM" = 1 ]; then
    veth_vms tfb-ovs
    vsctl add-port tfb-obr tfb-vb1 -- set interface tfb-vb1 ofport_request=1
    vsctl add-port tfb-obr tfb-vb2 -- set interface tfb-vb2 ofport_request=2
    if2=tfb-v2
    if [ "$tso" = false ]; then
      # OVS's userspace datapath without TSO cannot take the partial-checksum
      # frames a veth sends by default (TCP stalls at 0): its documentation
      # has the VM side turn tx checksum offload off, so we do, for this row.
      ip netns exec tfb-vm1 ethtool -K tfb-v1 tx off >/dev/null
      ip netns exec tfb-vm2 ethtool -K tfb-v2 tx off >/dev/null
    fi
  else
    ovs_tap_ports
  fi
  if [ "$tso" = true ]; then
    grep -q "Userspace TCP Segmentation Offloading support enabled" "$OVSDIR/ovs-vswitchd.log" \
      || echo "   WARNING: ovs-vswitchd.log does not say userspace TSO is enabled"
  fi
  timeout 120 ovs-ofctl -O OpenFlow13 add-flows "$OVS_MGMT" "$FLOWS"
  echo "   flows installed: $(ovs-ofctl -O OpenFlow13 dump-flows "$OVS_MGMT" | grep -c priority)"
  with_server "$name" $OVS_PID $if2
  ovs-ofctl -O OpenFlow13 dump-ports "$OVS_MGMT" >"$WORK/$name.ports" 2>&1 || true
  ovs ovs-appctl -t "$OVSDIR/ovs-vswitchd.ctl" dpif-netdev/pmd-stats-show >"$WORK/$name.pmd-stats" 2>&1 || true
  stop_ovs
  del_vms
}

# ------------------------------------------------------------ Linux bridge
bench_linux_bridge() {
  echo "== Linux bridge, two veth pairs (namespace tfb-lb)"
  new_vms; ip netns add tfb-lb
  ip -n tfb-lb link add tfb-br0 type bridge
  ip -n tfb-lb link set lo up
  ip -n tfb-lb link set tfb-br0 up
  local i
  for i in 1 2; do
    ip -n tfb-lb link add tfb-v$i type veth peer name tfb-vb$i
    ip -n tfb-lb link set tfb-v$i netns tfb-vm$i
    ip -n tfb-lb link set tfb-vb$i master tfb-br0
    ip -n tfb-lb link set tfb-vb$i up
  done
  vm_if tfb-vm1 tfb-v1 $IP1 $MAC1; vm_if tfb-vm2 tfb-v2 $IP2 $MAC2
  with_server linux-bridge "" tfb-v2
  ip netns del tfb-lb; del_vms
}

bench_tapflowd
bench_ovs ovs-tso-off false
bench_ovs ovs-tso-on true
[ "$BRIDGE" = 1 ] && bench_linux_bridge

# ------------------------------------------------------------------ table
med() { # column of $WORK/$1.runs -> median (or -)
  awk -v c="$2" '{print $c}' "$WORK/$1.runs" | median
}
spread() { # min–max of a column
  awk -v c="$2" '{print $c}' "$WORK/$1.runs" | { grep -E '^[0-9.]+$' || true; } | sort -g \
    | awk -v f="$3" 'NR==1 {lo=$1} {hi=$1} END {if (NR) printf "%s–%s", sprintf(f, lo), sprintf(f, hi)}'
}
fmt() { [ "$2" = - ] && echo "—" || printf "$1" "$2"; }
declare -A LABEL=(
  [tapflowd]="tapflowd, $PORTS ports"
  [ovs-tso-off]="OVS $(ovs-vswitchd --version | head -1 | awk '{print $NF}') userspace, $PORTS ports"
  [ovs-tso-on]="the same with userspace-tso-enable=true"
  [linux-bridge]="Linux bridge, veth pairs (reference)"
)
echo
echo "Flows: $(wc -l <"$FLOWS")${SCALE:+ (--scale $SCALE: 3 tables)}. Medians of $RUNS run(s); TCP ${TCP_SECS} s one stream, UDP 64-byte ${UDP_SECS} s (rx_packets on vm2's interface), 100 pings at 0.01 s; CPU = forwarder process, % of one core"
echo
echo "| forwarder | TCP 1 stream | (min–max) | 64-byte frames delivered | ping p50 | forwarder CPU (TCP / UDP) |"
echo "|---|---|---|---|---|---|"
for f in tapflowd ovs-tso-off ovs-tso-on linux-bridge; do
  [ -s "$WORK/$f.runs" ] || continue
  tcp=$(med $f 1) p=$(med $f 2) ct=$(med $f 3) pps=$(med $f 4) cu=$(med $f 5)
  [ "$f" = linux-bridge ] && { ct=-; cu=-; }
  cpu="—"; [ "$ct" != - ] && cpu="$(fmt '%.0f %%' "$ct") / $(fmt '%.0f %%' "$cu")"
  printf '| %s | %s | %s | %s | %s | %s |\n' "${LABEL[$f]}" "$(fmt '%.1f Gb/s' "$tcp")" \
    "$(spread $f 1 %.1f)" "$(awk -v x="$pps" 'BEGIN {if (x == "-") print "—"; else printf "%.0f k/s", x / 1000}')" \
    "$(fmt '%.3f ms' "$p")" "$cpu"
done
if [ -s "$WORK/tapflowd.runs" ]; then
  t_tcp=$(med tapflowd 1) t_p=$(med tapflowd 2) t_ct=$(med tapflowd 3) t_pps=$(med tapflowd 4) t_cu=$(med tapflowd 5)
  echo
  echo "| tapflowd ÷ | TCP | 64-byte frames | ping p50 (lower is better) | CPU per Gb/s (lower is better) | CPU per frame (lower is better) |"
  echo "|---|---|---|---|---|---|"
  for o in ovs-tso-off ovs-tso-on; do
    [ -s "$WORK/$o.runs" ] || continue
    o_tcp=$(med $o 1) o_p=$(med $o 2) o_ct=$(med $o 3) o_pps=$(med $o 4) o_cu=$(med $o 5)
    cpg_t=$(awk -v c="$t_ct" -v g="$t_tcp" 'BEGIN {print (g > 0 && c != "-") ? c / g : "-"}')
    cpg_o=$(awk -v c="$o_ct" -v g="$o_tcp" 'BEGIN {print (g > 0 && c != "-") ? c / g : "-"}')
    cpf_t=$(awk -v c="$t_cu" -v g="$t_pps" 'BEGIN {print (g != "-" && g > 0 && c != "-") ? c / g : "-"}')
    cpf_o=$(awk -v c="$o_cu" -v g="$o_pps" 'BEGIN {print (g != "-" && g > 0 && c != "-") ? c / g : "-"}')
    printf '| %s | %s | %s | %s | %s | %s |\n' "${LABEL[$o]}" "$(ratio "$t_tcp" "$o_tcp")" \
      "$(ratio "$t_pps" "$o_pps")" "$(ratio "$t_p" "$o_p")" "$(ratio "$cpg_t" "$cpg_o")" "$(ratio "$cpf_t" "$cpf_o")"
  done
fi
echo
echo "raw runs (tcp_gbps ping_ms cpu_tcp% udp_pps cpu_udp%):"
for f in tapflowd ovs-tso-off ovs-tso-on linux-bridge; do
  [ -s "$WORK/$f.runs" ] && printf '  %-13s %s\n' "$f" "$(paste -sd ';' "$WORK/$f.runs")"
done
[ -n "$KEEP" ] && echo "logs, iperf3 JSON, port counters: $KEEP"
exit 0
