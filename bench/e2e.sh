#!/usr/bin/env bash
# End-to-end forwarding benchmark: tapflowd against Open vSwitch's userspace
# datapath (TSO off and on) and the Linux bridge, one after another in the
# same run, on the same two "VMs" (network namespaces tfb-vm1 10.10.10.11 and
# tfb-vm2 10.10.10.12).
#
#   forwarders  tapflowd (TAP ports it creates, --fail-mode secure)
#               OVS netdev datapath, type=tap ports, userspace TSO off
#               the same with other_config:userspace-tso-enable=true
#               Linux bridge with two veth pairs (in kernel; a reference)
#   flows       ARP/ICMP/IP by destination address + 1 000 unrelated
#               priority=10 tcp drop flows (same file for tapflowd and OVS)
#   measures    iperf3 TCP, one stream, vm1 -> vm2 (Gb/s)
#               iperf3 UDP 64-byte flood (-l 64 -b 0), counted as rx_packets
#                 on vm2's interface (frames/s)  [skip with --no-udp]
#               ping vm1 -> vm2, 100 pings at 0.01 s, p50 (ms)
#               forwarder CPU during the TCP and UDP tests, % of one core,
#                 from /proc/PID/stat utime+stime (all threads)
#   output      one table of medians over N runs, ratios against both OVS
#               rows; raw per-run numbers in the log directory it names.
#
# Usage (root): bench/e2e.sh [--runs N] [--quick] [--no-udp] [--keep-logs DIR]
#   --runs N   runs per forwarder (default 3); medians are printed
#   --quick    1 run, 5 s TCP and 3 s UDP
# Everything it creates is named tfb-*; it is all removed on exit, also on
# failure or Ctrl-C (trap EXIT). Needs openvswitch-switch, iproute2,
# iputils-ping, jq; installs iperf3 if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

RUNS=3 TCP_SECS=10 UDP_SECS=5 UDP=1 KEEP=
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --quick) RUNS=1 TCP_SECS=5 UDP_SECS=3; shift ;;
    --no-udp) UDP=0; shift ;;
    --keep-logs) KEEP=$2; shift 2 ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "e2e.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$RUNS" =~ ^[1-9][0-9]?$ ]] || { echo "e2e.sh: --runs takes 1..99" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "e2e.sh: run as root (namespaces, TAPs)" >&2; exit 2; }
command -v cargo >/dev/null || export PATH="$HOME/.cargo/bin:$PATH"
export PATH="$PATH:/usr/sbin:/sbin"

need=()
command -v iperf3 >/dev/null || need+=(iperf3)
command -v jq >/dev/null || need+=(jq)
command -v ping >/dev/null || need+=(iputils-ping)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
for t in ovsdb-tool ovsdb-server ovs-vswitchd ovs-vsctl ovs-appctl ovs-ofctl; do
  command -v $t >/dev/null || { echo "e2e.sh: $t missing (apt-get install openvswitch-switch)" >&2; exit 2; }
done
SCHEMA=/usr/share/openvswitch/vswitch.ovsschema
for ns in tfb-vm1 tfb-vm2 tfb-ovs tfb-lb; do
  [ ! -e /run/netns/$ns ] || { echo "e2e.sh: namespace $ns exists: another run? (ip netns del $ns)" >&2; exit 2; }
done
for d in tfb-br0 tfb-tap1 tfb-tap2; do
  [ ! -e /sys/class/net/$d ] || { echo "e2e.sh: interface $d exists: another run?" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/tfb.XXXXXX)
PIDS=()          # every daemon we started, killed by pid on exit
cleanup() {
  set +e
  local p
  if [ -n "${OVSDIR:-}" ] && [ -S "$OVSDIR/ovs-vswitchd.ctl" ]; then
    timeout 5 ovs-appctl -t "$OVSDIR/ovs-vswitchd.ctl" exit >/dev/null 2>&1
  fi
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  sleep 0.3
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  for ns in tfb-vm1 tfb-vm2 tfb-ovs tfb-lb; do ip netns del $ns 2>/dev/null; done
  ip link del tfb-tap1 2>/dev/null; ip link del tfb-tap2 2>/dev/null
  if [ -n "$KEEP" ]; then mkdir -p "$KEEP" && cp -r "$WORK"/. "$KEEP"/; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# A hard bound on the whole run: 30 s of setup per forwarder and run plus
# the tests themselves, then the build's 20 min.
BOUND=$(( 1200 + 4 * RUNS * (40 + TCP_SECS + UDP_SECS) ))
# (The watchdog's sleep must not hold our stdout open, and dies with it.)
( trap 'kill $s 2>/dev/null; exit 0' TERM
  sleep $BOUND & s=$!; wait $s && kill -TERM $$ ) </dev/null >/dev/null 2>&1 &
PIDS+=($!)

echo "== cargo build --release -p datapath"
cargo build --release -p datapath
TFD=$ROOT/target/release/tapflowd TF=$ROOT/target/release/tapflow

IP1=10.10.10.11 IP2=10.10.10.12
MAC1=02:00:00:00:00:11 MAC2=02:00:00:00:00:12
HZ=$(getconf CLK_TCK)

# The seed flows plus 1 000 unrelated ones, for tapflowd and OVS alike.
FLOWS=$WORK/flows.txt
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

# Namespace side of a VM interface already moved into namespace $1.
vm_if() { # ns ifname ip mac
  ip -n "$1" link set lo up
  ip -n "$1" link set "$2" address "$4"
  ip -n "$1" addr add "$3/24" dev "$2"
  ip -n "$1" link set "$2" up
}
wait_for() { # seconds description command...
  local t=$1 what=$2; shift 2
  local i
  for i in $(seq $((t * 10))); do "$@" && return 0; sleep 0.1; done
  echo "e2e.sh: timed out waiting for $what" >&2; return 1
}
cpu_ticks() { # pid -> utime+stime of all its threads
  [ -n "$1" ] || { echo 0; return; }
  sed 's/.*) //' /proc/$1/stat | awk '{print $12 + $13}'
}
rx_packets() { ip netns exec tfb-vm2 cat /sys/class/net/$1/statistics/rx_packets; }

# One measurement run against whatever forwards between the namespaces now.
# Appends "tcp_gbps ping_ms tcp_cpu udp_pps udp_cpu" to $WORK/$name.runs.
measure() { # name forwarder_pid vm2_ifname
  local name=$1 pid=$2 if2=$3 t0 t1 gbps p50 cpu_tcp pps=- cpu_udp=- r0 r1 u0 u1
  # ping p50 over 100 pings at 10 ms
  p50=$(timeout 30 ip netns exec tfb-vm1 ping -n -c 100 -i 0.01 -W 1 $IP2 \
        | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | sort -n \
        | awk '{a[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}')
  # TCP, one stream
  t0=$(cpu_ticks "$pid")
  timeout $((TCP_SECS + 20)) ip netns exec tfb-vm1 iperf3 -J -c $IP2 -t "$TCP_SECS" >"$WORK/$name.tcp.json" || true
  t1=$(cpu_ticks "$pid")
  gbps=$(jq -r '(.end.sum_received.bits_per_second // 0) / 1e9' "$WORK/$name.tcp.json" 2>/dev/null || echo 0)
  local secs
  secs=$(jq -r '.end.sum_received.seconds // 0' "$WORK/$name.tcp.json" 2>/dev/null || echo 0)
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
  local srv r
  ip netns exec tfb-vm2 iperf3 -s -B $IP2 >"$WORK/$1.iperf3-server.log" 2>&1 &
  srv=$!; PIDS+=($srv)
  sleep 0.5
  # ARP resolved and the path works before timing anything
  wait_for 10 "$1: ping vm1 -> vm2" ip netns exec tfb-vm1 ping -n -c 1 -W 1 $IP2 >/dev/null
  echo "   run: tcp_gbps ping_p50_ms cpu_tcp% udp_pps cpu_udp%"
  for r in $(seq "$RUNS"); do measure "$1" "$2" "$3"; done
  kill -TERM $srv 2>/dev/null; wait $srv 2>/dev/null || true
}

new_vms() { ip netns add tfb-vm1; ip netns add tfb-vm2; }
del_vms() { ip netns del tfb-vm1 2>/dev/null || true; ip netns del tfb-vm2 2>/dev/null || true; }

# ---------------------------------------------------------------- tapflowd
bench_tapflowd() {
  echo "== tapflowd (TAP ports, secure mode, $(wc -l <"$FLOWS") flows)"
  new_vms
  "$TFD" --bridge tfb-br0 --port tfb-tap1:1 --port tfb-tap2:2 --fail-mode secure \
    --rundir "$WORK/tf-run" --statedir "$WORK/tf-state" 2>"$WORK/tapflowd.log" &
  local pid=$!; PIDS+=($pid)
  wait_for 10 "tapflowd's management socket" test -S "$WORK/tf-run/tfb-br0.mgmt"
  ip link set tfb-tap1 netns tfb-vm1; ip link set tfb-tap2 netns tfb-vm2
  vm_if tfb-vm1 tfb-tap1 $IP1 $MAC1; vm_if tfb-vm2 tfb-tap2 $IP2 $MAC2
  TAPFLOW_RUNDIR="$WORK/tf-run" timeout 30 "$TF" add-flows tfb-br0 "$FLOWS"
  echo "   flows installed: $(TAPFLOW_RUNDIR="$WORK/tf-run" "$TF" dump-flows tfb-br0 | grep -c priority)"
  with_server tapflowd $pid tfb-tap2
  TAPFLOW_RUNDIR="$WORK/tf-run" "$TF" dump-ports tfb-br0 >"$WORK/tapflowd.ports" 2>&1 || true
  kill -TERM $pid; wait $pid 2>/dev/null || true
  del_vms
}

# --------------------------------------------------------------------- OVS
# A private OVS, started by hand as integration/src/ovs.rs does: its own
# database, sockets and logs in OVSDIR, ovs-vswitchd in namespace tfb-ovs.
ovs() { OVS_RUNDIR=$OVSDIR OVS_DBDIR=$OVSDIR OVS_LOGDIR=$OVSDIR OVS_SYSCONFDIR=$OVSDIR "$@"; }
vsctl() { ovs ovs-vsctl --db=unix:$OVSDIR/db.sock --timeout=30 "$@"; }
bench_ovs() { # name tso(true|false)
  local name=$1 tso=$2
  echo "== OVS $(ovs-vswitchd --version | head -1 | awk '{print $NF}') userspace datapath, tap ports, userspace-tso-enable=$tso"
  OVSDIR=$WORK/$name; mkdir -p "$OVSDIR"
  new_vms; ip netns add tfb-ovs
  ovs ovsdb-tool create "$OVSDIR/conf.db" "$SCHEMA"
  env OVS_RUNDIR=$OVSDIR OVS_DBDIR=$OVSDIR OVS_LOGDIR=$OVSDIR OVS_SYSCONFDIR=$OVSDIR \
    ovsdb-server --remote=punix:$OVSDIR/db.sock --pidfile=$OVSDIR/ovsdb-server.pid \
    --unixctl=$OVSDIR/ovsdb-server.ctl --log-file=$OVSDIR/ovsdb-server.log "$OVSDIR/conf.db" \
    >"$OVSDIR/ovsdb-server.out" 2>&1 &
  local dbpid=$!; PIDS+=($dbpid)
  wait_for 30 "ovsdb-server's socket" test -S "$OVSDIR/db.sock"
  vsctl --no-wait init
  # read only at startup: set before ovs-vswitchd runs
  vsctl --no-wait set Open_vSwitch . other_config:userspace-tso-enable=$tso
  env OVS_RUNDIR=$OVSDIR OVS_DBDIR=$OVSDIR OVS_LOGDIR=$OVSDIR OVS_SYSCONFDIR=$OVSDIR \
    ip netns exec tfb-ovs ovs-vswitchd unix:$OVSDIR/db.sock --pidfile=$OVSDIR/ovs-vswitchd.pid \
    --unixctl=$OVSDIR/ovs-vswitchd.ctl --log-file=$OVSDIR/ovs-vswitchd.log \
    >"$OVSDIR/ovs-vswitchd.out" 2>&1 &
  local pid=$!; PIDS+=($pid)   # env and ip netns exec both exec: this is ovs-vswitchd
  wait_for 30 "ovs-vswitchd's control socket" test -S "$OVSDIR/ovs-vswitchd.ctl"
  [ "$(cat "$OVSDIR/ovs-vswitchd.pid")" = "$pid" ] || echo "   WARNING: ovs-vswitchd pid $(cat "$OVSDIR/ovs-vswitchd.pid") != $pid"
  vsctl add-br tfb-obr -- set bridge tfb-obr datapath_type=netdev fail-mode=secure protocols=OpenFlow13
  vsctl add-port tfb-obr tfb-otap1 -- set interface tfb-otap1 type=tap ofport_request=1
  vsctl add-port tfb-obr tfb-otap2 -- set interface tfb-otap2 type=tap ofport_request=2
  [ "$(vsctl get interface tfb-otap1 ofport)" = 1 ] && [ "$(vsctl get interface tfb-otap2 ofport)" = 2 ] \
    || { echo "OVS ports not up:"; vsctl get interface tfb-otap1 error; tail -20 "$OVSDIR/ovs-vswitchd.log"; return 1; }
  if [ "$tso" = true ]; then
    grep -q "Userspace TCP Segmentation Offloading support enabled" "$OVSDIR/ovs-vswitchd.log" \
      || echo "   WARNING: ovs-vswitchd.log does not say userspace TSO is enabled"
  fi
  ip -n tfb-ovs link set tfb-otap1 netns tfb-vm1; ip -n tfb-ovs link set tfb-otap2 netns tfb-vm2
  vm_if tfb-vm1 tfb-otap1 $IP1 $MAC1; vm_if tfb-vm2 tfb-otap2 $IP2 $MAC2
  local mgmt=unix:$OVSDIR/tfb-obr.mgmt
  wait_for 10 "tfb-obr.mgmt" test -S "$OVSDIR/tfb-obr.mgmt"
  timeout 30 ovs-ofctl -O OpenFlow13 add-flows "$mgmt" "$FLOWS"
  echo "   flows installed: $(ovs-ofctl -O OpenFlow13 dump-flows "$mgmt" | grep -c priority)"
  with_server "$name" $pid tfb-otap2
  ovs-ofctl -O OpenFlow13 dump-ports "$mgmt" >"$WORK/$name.ports" 2>&1 || true
  ovs ovs-appctl -t "$OVSDIR/ovs-vswitchd.ctl" dpif-netdev/pmd-stats-show >"$WORK/$name.pmd-stats" 2>&1 || true
  timeout 10 ovs ovs-appctl -t "$OVSDIR/ovs-vswitchd.ctl" exit >/dev/null 2>&1 || true
  kill -TERM $pid $dbpid 2>/dev/null; wait $pid $dbpid 2>/dev/null || true
  ip netns del tfb-ovs; del_vms
  OVSDIR=
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
bench_linux_bridge

# ------------------------------------------------------------------ table
med() { # column of $WORK/$1.runs -> median (or -)
  awk -v c="$2" '{print $c}' "$WORK/$1.runs" | { grep -E '^[0-9.]+$' || true; } | sort -g \
    | awk '{a[NR]=$1} END {if (NR==0) print "-"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'
}
spread() { # min–max of a column
  awk -v c="$2" '{print $c}' "$WORK/$1.runs" | { grep -E '^[0-9.]+$' || true; } | sort -g \
    | awk -v f="$3" 'NR==1 {lo=$1} {hi=$1} END {if (NR) printf "%s–%s", sprintf(f, lo), sprintf(f, hi)}'
}
fmt() { [ "$2" = - ] && echo "—" || printf "$1" "$2"; }
ratio() { # a b -> a/b as "1.23×"
  awk -v a="$1" -v b="$2" 'BEGIN {if (a == "-" || b == "-" || b + 0 == 0) print "—"; else printf "%.2f×", a / b}'
}
declare -A LABEL=(
  [tapflowd]="tapflowd, tap ports"
  [ovs-tso-off]="OVS $(ovs-vswitchd --version | head -1 | awk '{print $NF}') userspace, tap ports"
  [ovs-tso-on]="the same with userspace-tso-enable=true"
  [linux-bridge]="Linux bridge, veth pairs (reference)"
)
echo
echo "Medians of $RUNS run(s); TCP ${TCP_SECS} s one stream, UDP 64-byte ${UDP_SECS} s (rx_packets on vm2's interface), 100 pings at 0.01 s; CPU = forwarder process, % of one core"
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
