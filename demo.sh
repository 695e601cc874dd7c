#!/usr/bin/env bash
# tapflow demo: the seed article's walkthrough, replayed against tapflowd.
#
# Two "VMs" -- network namespaces whose NICs are TAP ports 1 and 2 of a
# tapflowd bridge in secure mode -- and nothing between them but the flows
# we add, one kind at a time:
#
#   1. no flows            -> ping fails (secure mode forwards nothing)
#   2. ARP flows           -> ARP resolves, ping still fails
#   3. ICMP flows          -> ping works, TCP does not
#   4. IP flows            -> TCP works
#   5. no hand-written flows: tapflow-controller reads a description of the
#      two VMs (deploy/controller/seed.toml) and installs the same flows;
#      ping and TCP work again
#
# After each step it prints `tapflow dump-flows` (and, at the end,
# `tapflow dump-ports`). Run as root on Debian 12: `sudo ./demo.sh`.
# Everything it creates is named tfdemo-* and removed on exit, also when
# interrupted.
set -euo pipefail
cd "$(dirname "$0")"

if [ -t 1 ]; then B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'; else B= G= R= N=; fi
say() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
# Shows a command as you would type it (arguments with spaces in double
# quotes), then runs it.
show_cmd() {
  local a line='$'
  for a in "$@"; do
    if [[ "$a" =~ [[:space:]] ]]; then line+=" \"$a\""; else line+=" $a"; fi
  done
  printf '%s%s%s\n' "$B" "$line" "$N"
}
run() { show_cmd "$@"; "$@"; }
failures=0
ok() { printf '%s   -> %s (as expected)%s\n' "$G" "$*" "$N"; }
bad() { printf '%s   -> UNEXPECTED: %s%s\n' "$R" "$*" "$N"; failures=$((failures + 1)); }

[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (it creates namespaces and TAPs)" >&2; exit 2; }
command -v cargo >/dev/null || export PATH="$HOME/.cargo/bin:$PATH"
command -v cargo >/dev/null || { echo "demo.sh: cargo not found: install Rust (https://rustup.rs) first" >&2; exit 2; }

# ping (iputils-ping) and nc (OpenBSD netcat) play the VMs' applications.
need=()
command -v ip >/dev/null || need+=(iproute2)
command -v ping >/dev/null || need+=(iputils-ping)
nc -h 2>&1 | grep -q OpenBSD || need+=(netcat-openbsd)
if [ ${#need[@]} -gt 0 ]; then
  say "installing what the demo's VMs use: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi

BR=tfdemo-br0
TAP1=tfdemo-tap1 TAP2=tfdemo-tap2
VM1=tfdemo-vm1 VM2=tfdemo-vm2
IP1=10.10.10.11 IP2=10.10.10.12
for ns in $VM1 $VM2; do
  if ip netns list | grep -qw "$ns"; then
    echo "demo.sh: namespace $ns exists: is another demo running? (ip netns del $ns)" >&2; exit 2
  fi
done
for dev in $BR $TAP1 $TAP2; do
  if [ -e "/sys/class/net/$dev" ]; then
    echo "demo.sh: interface $dev exists: is another demo running?" >&2; exit 2
  fi
done

say "building tapflowd, tapflow and tapflow-controller (cargo build --release -p datapath -p controller-sim)"
cargo build --release -p datapath -p controller-sim
PATH="$PWD/target/release:$PATH"

WORK=$(mktemp -d /tmp/tfdemo.XXXXXX)
DAEMON= CONTROLLER=
cleanup() {
  set +e
  if [ -n "$CONTROLLER" ]; then
    kill -TERM "$CONTROLLER" 2>/dev/null && wait "$CONTROLLER" 2>/dev/null
  fi
  if [ -n "$DAEMON" ]; then
    kill -TERM "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null
  fi
  ip netns del $VM1 2>/dev/null
  ip netns del $VM2 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "starting tapflowd: bridge $BR in secure mode, TAP ports $TAP1 (1) and $TAP2 (2)"
echo "   The TAPs don't exist yet, so tapflowd creates them and holds their fds;"
echo "   the interfaces themselves are the far ends we give to the VMs."
export TAPFLOW_RUNDIR="$WORK/run"   # where tapflow finds the bridge's socket
show_cmd tapflowd --bridge $BR --port $TAP1:1 --port $TAP2:2 --fail-mode secure \
  --rundir "$WORK/run" --statedir "$WORK/state" "&"
tapflowd --bridge $BR --port $TAP1:1 --port $TAP2:2 --fail-mode secure \
  --rundir "$WORK/run" --statedir "$WORK/state" 2>"$WORK/tapflowd.log" &
DAEMON=$!
for _ in $(seq 100); do
  [ -S "$WORK/run/$BR.mgmt" ] && break
  kill -0 $DAEMON 2>/dev/null || break
  sleep 0.1
done
if [ ! -S "$WORK/run/$BR.mgmt" ]; then
  echo "tapflowd did not come up:" >&2; cat "$WORK/tapflowd.log" >&2; exit 1
fi
echo "   ready: $WORK/run/$BR.mgmt is the bridge's OpenFlow socket (ovs-ofctl works on it too)"

say "making two VMs: namespaces $VM1 ($IP1 on $TAP1) and $VM2 ($IP2 on $TAP2)"
for i in 1 2; do
  ns=tfdemo-vm$i tap=tfdemo-tap$i ip=10.10.10.1$i
  run ip netns add $ns
  run ip link set $tap netns $ns
  run ip -n $ns addr add $ip/24 dev $tap
  run ip -n $ns link set $tap address 02:00:00:00:00:1$i
  run ip -n $ns link set $tap up
  ip -n $ns link set lo up
done
run tapflow show $BR

ping_vm2() { run ip netns exec $VM1 ping -c 2 -W 1 $IP2; }
# vm2 serves one greeting on TCP port 8080; vm1 connects and prints it.
tcp_vm2() {
  echo "   (vm2 listens: ip netns exec $VM2 nc -N -l $IP2 8080 <<<\"hello from vm2, over TCP\")"
  ip netns exec $VM2 nc -N -l $IP2 8080 <<<"hello from vm2, over TCP" &
  local srv=$!
  sleep 0.3
  local got
  show_cmd ip netns exec $VM1 nc -N -w 3 $IP2 8080
  got=$(ip netns exec $VM1 nc -N -w 3 $IP2 8080 </dev/null 2>&1 || true)
  kill $srv 2>/dev/null; wait $srv 2>/dev/null || true
  [ -n "$got" ] && echo "$got"
  [[ "$got" == "hello from vm2, over TCP" ]]
}
flows() { run tapflow dump-flows $BR; }

say "step 1: no flows. In secure mode tapflowd forwards nothing without flows."
flows
if ping_vm2; then bad "ping worked without flows"; else ok "ping fails: not even ARP gets through"; fi
echo "   The ports received what the VMs sent (vm1's ARP requests, the VMs' IPv6"
echo "   neighbor discovery); nothing was sent out of any port (tx pkts=0):"
run tapflow dump-ports $BR

say "step 2: ARP flows. Each VM's ARP requests and replies go to the port of the address asked for."
run tapflow add-flow $BR "priority=100,arp,arp_tpa=$IP1 actions=output:1"
run tapflow add-flow $BR "priority=100,arp,arp_tpa=$IP2 actions=output:2"
ip -n $VM1 neigh flush all
if ping_vm2; then bad "ping worked with ARP flows only"; else ok "ping still fails: ICMP has no flow"; fi
run ip -n $VM1 neigh show $IP2
if ip -n $VM1 neigh show $IP2 | grep -q "lladdr 02:00:00:00:00:12"; then
  ok "but ARP resolved: vm1 knows vm2's MAC"
else
  bad "vm1 did not learn vm2's MAC"
fi
flows

say "step 3: ICMP flows. Pings to each address go to its port."
run tapflow add-flow $BR "priority=100,icmp,nw_dst=$IP1 actions=output:1"
run tapflow add-flow $BR "priority=100,icmp,nw_dst=$IP2 actions=output:2"
if ping_vm2; then ok "ping works"; else bad "ping failed with ICMP flows"; fi
if tcp_vm2; then bad "TCP worked without IP flows"; else ok "TCP does not: only ARP and ICMP have flows"; fi
flows

say "step 4: IP flows. All IPv4 to each address goes to its port."
run tapflow add-flow $BR "priority=100,ip,nw_dst=$IP1 actions=output:1"
run tapflow add-flow $BR "priority=100,ip,nw_dst=$IP2 actions=output:2"
if tcp_vm2; then ok "TCP works"; else bad "TCP failed with IP flows"; fi
if ping_vm2; then ok "and ping still works"; else bad "ping failed"; fi
flows
say "per-port counters"
run tapflow dump-ports $BR

say "what a packet from vm1 to vm2 hits (tapflow trace)"
run tapflow trace $BR "in_port=1,tcp,nw_src=$IP1,nw_dst=$IP2,tp_dst=8080" || true

say "step 5: no hand-written flows. tapflow-controller installs them from a description of the VMs."
run tapflow del-flows $BR
if ping_vm2; then bad "ping worked with no flows"; else ok "ping fails again: the table is empty"; fi
echo "   The description lists each VM's MAC, IP and port (deploy/controller/seed.toml);"
echo "   'check' prints the flows it implies without connecting to anything:"
run tapflow-controller check deploy/controller/seed.toml
echo "   Run it against this bridge: it dials the bridge's socket, reads the ports,"
echo "   installs exactly those flows (with its cookie) and confirms with a BARRIER."
show_cmd tapflow-controller run deploy/controller/seed.toml --connect "unix:$WORK/run/$BR.mgmt" "&"
tapflow-controller run deploy/controller/seed.toml --connect "unix:$WORK/run/$BR.mgmt" \
  2>"$WORK/controller.log" &
CONTROLLER=$!
installed=0
for _ in $(seq 100); do
  installed=$(tapflow dump-flows $BR 2>/dev/null | grep -c "actions=" || true)
  [ "$installed" -ge 8 ] && break
  sleep 0.1
done
if [ "$installed" -ge 8 ]; then ok "the controller installed $installed flows"; else bad "the controller installed $installed flows"; cat "$WORK/controller.log"; fi
if ping_vm2; then ok "ping works"; else bad "ping failed with the controller's flows"; fi
if tcp_vm2; then ok "TCP works"; else bad "TCP failed with the controller's flows"; fi
flows
echo "   The same flows the walkthrough added by hand, now owned by the controller"
echo "   (cookie); on a restart it reads them back and changes nothing."

if [ "$failures" -eq 0 ]; then
  say "done: every step behaved as the walkthrough says. Cleaning up."
else
  say "done, with $failures unexpected result(s); tapflowd's log:"
  cat "$WORK/tapflowd.log"
  exit 1
fi
