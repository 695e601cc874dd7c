# Shared by the bench/ scripts (sourced, not run): the work directory and
# its cleanup, waiting, CPU accounting, namespace "VMs", tapflowd and a
# private OVS started by hand. Everything is named tfb-*; a script sources
# this after parsing its arguments and sets BOUND (seconds) for its
# watchdog.

[ "$(id -u)" = 0 ] || { echo "$(basename "$0"): run as root (namespaces, TAPs)" >&2; exit 2; }
command -v cargo >/dev/null || export PATH="$HOME/.cargo/bin:$PATH"
export PATH="$PATH:/usr/sbin:/sbin"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SCHEMA=/usr/share/openvswitch/vswitch.ovsschema
HZ=$(getconf CLK_TCK)
IP1=10.10.10.11 IP2=10.10.10.12
MAC1=02:00:00:00:00:11 MAC2=02:00:00:00:00:12

need_tools() { # command:package ...
  local need=() t
  for t in "$@"; do command -v "${t%%:*}" >/dev/null || need+=("${t#*:}"); done
  if [ ${#need[@]} -gt 0 ]; then
    echo "== installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}
need_ovs() {
  local t
  for t in ovsdb-tool ovsdb-server ovs-vswitchd ovs-vsctl ovs-appctl ovs-ofctl; do
    command -v $t >/dev/null || { echo "$(basename "$0"): $t missing (apt-get install openvswitch-switch)" >&2; exit 2; }
  done
}
refuse_leftovers() {
  local ns d
  for ns in tfb-vm1 tfb-vm2 tfb-ovs tfb-lb; do
    [ ! -e /run/netns/$ns ] || { echo "$(basename "$0"): namespace $ns exists: another run? (ip netns del $ns)" >&2; exit 2; }
  done
  for d in tfb-br0 tfb-tap1 tfb-tap2 tfb-vb1 tfb-vb2; do
    [ ! -e /sys/class/net/$d ] || { echo "$(basename "$0"): interface $d exists: another run?" >&2; exit 2; }
  done
}

WORK=$(mktemp -d /tmp/tfb.XXXXXX)
PIDS=()          # every process we started, killed by pid on exit
KEEP=${KEEP:-}
cleanup() {
  set +e
  local p ns
  if [ -n "${OVSDIR:-}" ] && [ -S "$OVSDIR/ovs-vswitchd.ctl" ]; then
    timeout 5 ovs-appctl -t "$OVSDIR/ovs-vswitchd.ctl" exit >/dev/null 2>&1
  fi
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  sleep 0.3
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  for ns in tfb-vm1 tfb-vm2 tfb-ovs tfb-lb; do ip netns del $ns 2>/dev/null; done
  ip link del tfb-tap1 2>/dev/null; ip link del tfb-tap2 2>/dev/null
  ip link del tfb-vb1 2>/dev/null; ip link del tfb-vb2 2>/dev/null
  if [ -n "$KEEP" ]; then mkdir -p "$KEEP" && cp -r "$WORK"/. "$KEEP"/; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
start_watchdog() { # seconds: a hard bound on the whole run
  # (The watchdog's sleep must not hold our stdout open, and dies with it.)
  ( trap 'kill $s 2>/dev/null; exit 0' TERM
    sleep "$1" & s=$!; wait $s && kill -TERM $$ ) </dev/null >/dev/null 2>&1 &
  PIDS+=($!)
}

wait_for() { # seconds description command...
  local t=$1 what=$2; shift 2
  local i
  for i in $(seq $((t * 10))); do "$@" && return 0; sleep 0.1; done
  echo "$(basename "$0"): timed out waiting for $what" >&2; return 1
}
cpu_ticks() { # pid -> utime+stime of all its threads
  [ -n "$1" ] || { echo 0; return; }
  sed 's/.*) //' /proc/$1/stat | awk '{print $12 + $13}'
}
rss_kb() { awk '/^VmRSS:/ {print $2}' /proc/$1/status; }
median() { # numbers on stdin -> median (or -)
  { grep -E '^[0-9.]+$' || true; } | sort -g \
    | awk '{a[NR]=$1} END {if (NR==0) print "-"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'
}
ratio() { # a b -> a/b as "1.23×"
  awk -v a="$1" -v b="$2" 'BEGIN {if (a == "-" || b == "-" || b + 0 == 0) print "—"; else printf "%.2f×", a / b}'
}

# Namespace side of a VM interface already moved into namespace $1.
vm_if() { # ns ifname ip mac
  ip -n "$1" link set lo up
  ip -n "$1" link set "$2" address "$4"
  ip -n "$1" addr add "$3/24" dev "$2"
  ip -n "$1" link set "$2" up
}
new_vms() { ip netns add tfb-vm1; ip netns add tfb-vm2; }
del_vms() { ip netns del tfb-vm1 2>/dev/null || true; ip netns del tfb-vm2 2>/dev/null || true; }

# tapflowd with bridge tfb-br0 and whatever flags follow; sets TFD_PID and
# TFRUN (its rundir), and `tf` runs the CLI against it.
TFD=$ROOT/target/release/tapflowd TF=$ROOT/target/release/tapflow
start_tapflowd() { # log-name tapflowd-flags...
  local log=$1; shift
  TFRUN=$WORK/tf-run-$log
  "$TFD" --bridge tfb-br0 --rundir "$TFRUN" --statedir "$WORK/tf-state-$log" "$@" 2>"$WORK/$log.log" &
  TFD_PID=$!; PIDS+=($TFD_PID)
  wait_for 10 "tapflowd's management socket" test -S "$TFRUN/tfb-br0.mgmt"
}
stop_tapflowd() { kill -TERM "$TFD_PID" 2>/dev/null; wait "$TFD_PID" 2>/dev/null || true; }
tf() { TAPFLOW_RUNDIR="$TFRUN" "$TF" "$@"; }

# A private OVS, started by hand as integration/src/ovs.rs does: its own
# database, sockets and logs in OVSDIR, ovs-vswitchd in namespace tfb-ovs,
# bridge tfb-obr (netdev datapath, secure, OpenFlow 1.3); OVS_PID is
# ovs-vswitchd's pid, OVS_MGMT its management socket target.
ovs() { OVS_RUNDIR=$OVSDIR OVS_DBDIR=$OVSDIR OVS_LOGDIR=$OVSDIR OVS_SYSCONFDIR=$OVSDIR "$@"; }
vsctl() { ovs ovs-vsctl --db=unix:$OVSDIR/db.sock --timeout=30 "$@"; }
start_ovs() { # name tso(true|false)
  OVSDIR=$WORK/$1; mkdir -p "$OVSDIR"
  ip netns add tfb-ovs
  ovs ovsdb-tool create "$OVSDIR/conf.db" "$SCHEMA"
  ovs ovsdb-server --remote=punix:$OVSDIR/db.sock --pidfile=$OVSDIR/ovsdb-server.pid \
    --unixctl=$OVSDIR/ovsdb-server.ctl --log-file=$OVSDIR/ovsdb-server.log "$OVSDIR/conf.db" \
    >"$OVSDIR/ovsdb-server.out" 2>&1 &
  OVS_DBPID=$!; PIDS+=($OVS_DBPID)
  wait_for 30 "ovsdb-server's socket" test -S "$OVSDIR/db.sock"
  vsctl --no-wait init
  # read only at startup: set before ovs-vswitchd runs
  vsctl --no-wait set Open_vSwitch . other_config:userspace-tso-enable=$2
  env OVS_RUNDIR=$OVSDIR OVS_DBDIR=$OVSDIR OVS_LOGDIR=$OVSDIR OVS_SYSCONFDIR=$OVSDIR \
    ip netns exec tfb-ovs ovs-vswitchd unix:$OVSDIR/db.sock --pidfile=$OVSDIR/ovs-vswitchd.pid \
    --unixctl=$OVSDIR/ovs-vswitchd.ctl --log-file=$OVSDIR/ovs-vswitchd.log \
    >"$OVSDIR/ovs-vswitchd.out" 2>&1 &
  OVS_PID=$!; PIDS+=($OVS_PID)   # env and ip netns exec both exec: this is ovs-vswitchd
  wait_for 30 "ovs-vswitchd's control socket" test -S "$OVSDIR/ovs-vswitchd.ctl"
  [ "$(cat "$OVSDIR/ovs-vswitchd.pid")" = "$OVS_PID" ] || echo "   WARNING: ovs-vswitchd pid $(cat "$OVSDIR/ovs-vswitchd.pid") != $OVS_PID"
  vsctl add-br tfb-obr -- set bridge tfb-obr datapath_type=netdev fail-mode=secure protocols=OpenFlow13
  OVS_MGMT=unix:$OVSDIR/tfb-obr.mgmt
  wait_for 10 "tfb-obr.mgmt" test -S "$OVSDIR/tfb-obr.mgmt"
}
ovs_tap_ports() { # adds type=tap ports 1 and 2 and moves them into the VMs
  vsctl add-port tfb-obr tfb-otap1 -- set interface tfb-otap1 type=tap ofport_request=1
  vsctl add-port tfb-obr tfb-otap2 -- set interface tfb-otap2 type=tap ofport_request=2
  [ "$(vsctl get interface tfb-otap1 ofport)" = 1 ] && [ "$(vsctl get interface tfb-otap2 ofport)" = 2 ] \
    || { echo "OVS ports not up:"; vsctl get interface tfb-otap1 error; tail -20 "$OVSDIR/ovs-vswitchd.log"; return 1; }
  ip -n tfb-ovs link set tfb-otap1 netns tfb-vm1; ip -n tfb-ovs link set tfb-otap2 netns tfb-vm2
  vm_if tfb-vm1 tfb-otap1 $IP1 $MAC1; vm_if tfb-vm2 tfb-otap2 $IP2 $MAC2
}
stop_ovs() {
  timeout 10 ovs ovs-appctl -t "$OVSDIR/ovs-vswitchd.ctl" exit >/dev/null 2>&1 || true
  kill -TERM $OVS_PID $OVS_DBPID 2>/dev/null; wait $OVS_PID $OVS_DBPID 2>/dev/null || true
  ip netns del tfb-ovs
  OVSDIR=
}
