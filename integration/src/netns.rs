//! Network namespaces and links owned by one test.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::PathBuf;

/// A network namespace (`ip netns add`), deleted on Drop. Deleting it also
/// destroys the virtual interfaces inside (veths, TAP far ends).
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates the namespace and brings its loopback up. Panics if it already
    /// exists: names are per test, so that would be a leak or a clash.
    pub fn new(name: &str) -> Netns {
        assert!(
            !PathBuf::from("/run/netns").join(name).exists(),
            "namespace {name} already exists"
        );
        crate::ip(["netns", "add", name]);
        let ns = Netns {
            name: name.to_string(),
        };
        ns.ip(["link", "set", "lo", "up"]);
        // No IPv6 autoconfiguration chatter (router solicitations, DAD) in
        // the frames the tests look at.
        ns.sysctl("net/ipv6/conf/all/disable_ipv6", "1");
        ns.sysctl("net/ipv6/conf/default/disable_ipv6", "1");
        ns
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `ip -n NS ARGS...`, checked; returns stdout.
    pub fn ip<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut all: Vec<std::ffi::OsString> = vec!["-n".into(), self.name.clone().into()];
        all.extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        crate::ip(all)
    }

    /// `ip netns exec NS PROGRAM ARGS...`, unchecked.
    pub fn exec<I, S>(&self, program: &str, args: I) -> std::process::Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut all: Vec<std::ffi::OsString> = vec![
            "netns".into(),
            "exec".into(),
            self.name.clone().into(),
            program.into(),
        ];
        all.extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        crate::run("ip", all)
    }

    /// Writes `/proc/sys/<key>` as seen from inside the namespace.
    pub fn sysctl(&self, key: &str, value: &str) {
        let path = format!("/proc/sys/{key}");
        let value = value.to_string();
        self.enter(move || {
            std::fs::write(&path, value).unwrap_or_else(|e| panic!("write {path}: {e}"))
        });
    }

    /// Runs `f` on a fresh thread that has joined this namespace: sockets it
    /// creates belong to the namespace and may be used from any thread.
    pub fn enter<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        in_netns(&self.name, f)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let out = crate::run("ip", ["netns", "del", &self.name]);
        if !out.status.success() {
            eprintln!(
                "warning: ip netns del {}: {}",
                self.name,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
    }
}

/// Runs `f` on a new thread inside namespace `name` (`/run/netns/<name>`).
pub fn in_netns<R: Send>(name: &str, f: impl FnOnce() -> R + Send) -> R {
    let path = PathBuf::from("/run/netns").join(name);
    std::thread::scope(|s| {
        s.spawn(move || {
            let file = File::open(&path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
            // SAFETY: setns on a valid namespace fd; only this (fresh, short
            // lived) thread changes namespace.
            let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(
                rc,
                0,
                "setns {}: {}",
                path.display(),
                std::io::Error::last_os_error()
            );
            f()
        })
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
    })
}

/// Interfaces in the root namespace deleted on Drop (if still there): a veth
/// pair's ends, a dummy. Ends moved into a [`Netns`] die with it.
pub struct Link {
    names: Vec<String>,
}

impl Link {
    /// A veth pair `a` <-> `b` in the root namespace, both down.
    pub fn veth(a: &str, b: &str) -> Link {
        let l = Link {
            names: vec![a.to_string(), b.to_string()],
        };
        crate::ip(["link", "add", a, "type", "veth", "peer", "name", b]);
        l
    }

    /// Takes responsibility for deleting an interface made some other way.
    pub fn adopt(name: &str) -> Link {
        Link {
            names: vec![name.to_string()],
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        for n in &self.names {
            if crate::link_exists(n) {
                let _ = crate::run("ip", ["link", "del", n]);
            }
        }
    }
}
