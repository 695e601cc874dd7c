//! The seed article's setup: one bridge, two TAP ports 1 and 2 whose far
//! ends are the NICs of two namespace "VMs", 10.10.10.11 and 10.10.10.12.

use crate::vm::{mac, Vm};
use crate::{Daemon, DaemonBuilder, Names};
use std::net::Ipv4Addr;

pub const IP1: Ipv4Addr = Ipv4Addr::new(10, 10, 10, 11);
pub const IP2: Ipv4Addr = Ipv4Addr::new(10, 10, 10, 12);

/// Field order is drop order: the daemon stops first (its TAPs vanish),
/// then the namespaces go.
pub struct TwoVms {
    pub d: Daemon,
    pub vm1: Vm,
    pub vm2: Vm,
    /// TAP names (ports 1 and 2).
    pub tap1: String,
    pub tap2: String,
    pub names: Names,
}

impl TwoVms {
    /// Starts `tapflowd --bridge <n>br --port <n>t1:1 --port <n>t2:2` plus
    /// whatever `f` adds, then moves the TAPs into two VMs.
    pub fn start(f: impl FnOnce(DaemonBuilder) -> DaemonBuilder) -> TwoVms {
        let names = Names::new();
        let tap1 = names.name("t1");
        let tap2 = names.name("t2");
        let b = DaemonBuilder::new(&names.name("br"))
            .port(&tap1, 1)
            .port(&tap2, 2);
        let d = f(b).spawn(&names);
        let vm1 = Vm::attach(&names.name("v1"), &tap1, IP1, mac(1));
        let vm2 = Vm::attach(&names.name("v2"), &tap2, IP2, mac(2));
        TwoVms {
            d,
            vm1,
            vm2,
            tap1,
            tap2,
            names,
        }
    }

    pub fn bridge(&self) -> &str {
        self.d.bridge()
    }
}
