//! `mktap` / `rmtap`: persistent TAPs for QEMU/libvirt, owned by a user and
//! group so the hypervisor opens them without privileges (what
//! `ip tuntap add mode tap user U group G` and `openvpn --mktun` do).
//! tapflowd then attaches such a TAP as a `system` port (AF_PACKET); it
//! never opens a TAP someone else owns.

use super::CliError;
use crate::port;

fn check_name(name: &str) -> Result<(), CliError> {
    if name.is_empty()
        || name.len() > 15
        || name.contains(['/', ':'])
        || name.chars().any(char::is_whitespace)
    {
        return Err(CliError::Usage(format!(
            "'{name}' is not an interface name (1-15 characters, no '/', ':' or spaces)"
        )));
    }
    Ok(())
}

/// `mktap NAME [--user U] [--group G]`: silent on success, like `ip tuntap add`.
pub fn mktap(name: &str, user: Option<&str>, group: Option<&str>) -> Result<String, CliError> {
    check_name(name)?;
    let uid = user
        .map(|u| port::lookup_user(u).map_err(|e| CliError::Usage(format!("--user {u}: {e}"))))
        .transpose()?;
    let gid = group
        .map(|g| port::lookup_group(g).map_err(|e| CliError::Usage(format!("--group {g}: {e}"))))
        .transpose()?;
    let made =
        port::mktap(name, uid, gid).map_err(|e| CliError::Failed(format!("mktap {name}: {e}")))?;
    // A pattern such as "tap%d" gets its number from the kernel: say which.
    Ok(if made != name {
        format!("{made}\n")
    } else {
        String::new()
    })
}

/// `rmtap NAME`.
pub fn rmtap(name: &str) -> Result<String, CliError> {
    check_name(name)?;
    port::rmtap(name).map_err(|e| CliError::Failed(format!("rmtap {name}: {e}")))?;
    Ok(String::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn bad_names_users_and_groups_are_usage_errors() {
        for n in ["", "a/b", "way-too-long-name-x", "a b"] {
            assert!(
                matches!(mktap(n, None, None), Err(CliError::Usage(_))),
                "{n:?}"
            );
            assert!(matches!(rmtap(n), Err(CliError::Usage(_))), "{n:?}");
        }
        assert!(matches!(
            mktap("tfx0", Some("no-such-user-tapflow"), None),
            Err(CliError::Usage(m)) if m.contains("--user no-such-user-tapflow")
        ));
        assert!(matches!(
            mktap("tfx0", None, Some("no-such-group-tapflow")),
            Err(CliError::Usage(m)) if m.contains("--group")
        ));
    }

    fn is_root() -> bool {
        // SAFETY: geteuid has no preconditions.
        unsafe { libc::geteuid() == 0 }
    }

    /// Removes the TAP if a test left it behind.
    struct Cleanup(String);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = port::rmtap(&self.0);
        }
    }

    #[test]
    fn mktap_makes_a_persistent_tap_owned_by_user_and_group_and_rmtap_removes_it() {
        if !is_root() || !Path::new("/dev/net/tun").exists() {
            eprintln!("NOTICE: not root or no /dev/net/tun; skipping the mktap/rmtap test");
            return;
        }
        let name = format!("tfcli{}", std::process::id() % 100_000);
        let _guard = Cleanup(name.clone());
        assert_eq!(
            mktap(&name, Some("65534"), Some("65534")).map_err(|e| format!("{e:?}")),
            Ok(String::new())
        );
        let sys = Path::new("/sys/class/net").join(&name);
        assert!(sys.exists(), "{} missing", sys.display());
        let read = |f: &str| {
            std::fs::read_to_string(sys.join(f))
                .unwrap_or_default()
                .trim()
                .to_string()
        };
        assert_eq!(read("owner"), "65534");
        assert_eq!(read("group"), "65534");
        // TUN_TAP_DEV flags: IFF_TAP (0x2) | IFF_NO_PI (0x1000).
        let flags = u32::from_str_radix(read("tun_flags").trim_start_matches("0x"), 16).unwrap();
        assert_eq!(flags & 0x1002, 0x1002, "tun_flags {flags:#x}");
        // Exists now: a second mktap fails (exit 1, not a usage error).
        assert!(matches!(mktap(&name, None, None), Err(CliError::Failed(_))));
        assert_eq!(rmtap(&name), Ok(String::new()));
        assert!(!sys.exists(), "{} still there", sys.display());
        assert!(matches!(rmtap(&name), Err(CliError::Failed(_))));
    }
}
