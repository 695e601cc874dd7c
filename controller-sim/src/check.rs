//! `tapflow-controller check FILE [--port NAME=NUM ...]`: validates a network
//! description and prints the flows it implies, per bridge, as an
//! `add-flows` file (`# bridge br0`, then one flow per line), with every
//! port up. Ports given by interface name need `--port NAME=NUM`, since
//! without a switch there is no PORT_DESC to resolve them.
//!
//! The output installs with `tapflow add-flows br0 FILE` or `ovs-ofctl -O
//! OpenFlow13 add-flows br0 FILE` (the controller adds its cookie, which the
//! lines leave out), and is stable, so it diffs cleanly against an earlier
//! run or against `dump-flows --no-stats`.

use crate::desc::{App, NetDesc};
use crate::plan::{l2_learning_base, plan_for_check};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Command-line arguments of `check`.
#[derive(clap::Args, Clone, Debug, PartialEq, Eq)]
pub struct CheckArgs {
    /// The network description (TOML).
    pub file: PathBuf,
    /// The OpenFlow port number of an interface the description names by
    /// name (repeatable).
    #[arg(long = "port", value_name = "NAME=NUM", value_parser = parse_port_arg)]
    pub ports: Vec<(String, u32)>,
}

impl CheckArgs {
    /// What `check` prints, or the problem (for stderr and a non-zero exit).
    pub fn run(&self) -> Result<String, String> {
        run_check(&self.file, &self.ports)
    }
}

/// Parses one `--port NAME=NUM`.
pub fn parse_port_arg(s: &str) -> Result<(String, u32), String> {
    let (name, num) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected NAME=NUM, e.g. vnet0=1"))?;
    if name.is_empty() {
        return Err(format!("{s:?}: empty interface name"));
    }
    let n: u32 = num
        .parse()
        .ok()
        .filter(|n| (1..=0xffff_ff00).contains(n))
        .ok_or_else(|| format!("{s:?}: {num:?} is not a port number (1..=4294967040)"))?;
    Ok((name.to_string(), n))
}

/// The text `check` prints for the description in `path`, with interface
/// names resolved from `ports`; `Err` names the file and the problem.
pub fn run_check(path: &Path, ports: &[(String, u32)]) -> Result<String, String> {
    let desc = NetDesc::load(path).map_err(|e| e.to_string())?;
    let mut names: HashMap<String, u32> = HashMap::new();
    for (name, num) in ports {
        if !(1..=0xffff_ff00).contains(num) {
            return Err(format!(
                "--port {name}={num}: not a port number (1..=4294967040)"
            ));
        }
        if let Some(old) = names.insert(name.clone(), *num) {
            if old != *num {
                return Err(format!("--port {name}: given twice ({old} and {num})"));
            }
        }
    }
    let mut out = String::new();
    for bridge in &desc.bridges {
        let flows = match desc.controller.app {
            App::VmFlows => plan_for_check(&desc, bridge, &names)
                .map_err(|e| format!("{}: bridge {:?}: {e}", path.display(), bridge.name))?,
            App::L2Learning => l2_learning_base(&desc),
        };
        let _ = writeln!(out, "# bridge {}", bridge.name);
        for f in flows {
            let _ = writeln!(out, "{}", f.text);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use ofproto::text::parse_flows_file;

    fn example(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../deploy/controller")
            .join(name)
    }

    fn temp_file(tag: &str, text: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("tfc-check-{}-{tag}.toml", std::process::id()));
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn check_seed_prints_the_walkthrough_under_a_bridge_header() {
        let out = run_check(&example("seed.toml"), &[]).unwrap();
        assert_eq!(
            out,
            "# bridge br0
priority=100,arp,arp_tpa=10.10.10.11 actions=output:1
priority=100,arp,arp_tpa=10.10.10.12 actions=output:2
priority=100,icmp,nw_dst=10.10.10.11 actions=output:1
priority=100,icmp,nw_dst=10.10.10.12 actions=output:2
priority=100,ip,nw_dst=10.10.10.11 actions=output:1
priority=100,ip,nw_dst=10.10.10.12 actions=output:2
priority=90,arp,dl_dst=ff:ff:ff:ff:ff:ff actions=output:1,output:2
priority=0 actions=drop
"
        );
    }

    #[test]
    fn check_output_is_an_add_flows_file() {
        let out = run_check(&example("tenants.toml"), &[]).unwrap();
        let fms = parse_flows_file(&out).unwrap();
        assert_eq!(
            fms.len(),
            out.lines().filter(|l| !l.starts_with('#')).count()
        );
        assert!(fms.iter().any(|f| f.table_id == 1));
    }

    #[test]
    fn check_resolves_names_from_port_args() {
        let path = example("trunk.toml");
        let e = run_check(&path, &[]).unwrap_err();
        assert!(
            e.contains("trunk.toml: bridge \"br0\": vm \"vm-blue1\": port \"vnet0\" is not known"),
            "{e}"
        );
        let ports: Vec<(String, u32)> = ["vnet0=1", "vnet1=2", "vnet2=3", "uplink0=10"]
            .iter()
            .map(|s| parse_port_arg(s).unwrap())
            .collect();
        let out = run_check(&path, &ports).unwrap();
        assert!(
            out.contains(
                "priority=100,in_port=10,dl_vlan=30 actions=write_metadata:0x1/0x1,goto_table:1\n"
            ),
            "{out}"
        );
        let e = run_check(&path, &[("vnet0".into(), 1), ("vnet0".into(), 2)]).unwrap_err();
        assert_eq!(e, "--port vnet0: given twice (1 and 2)");
        let e = run_check(&path, &[("vnet0".into(), 0)]).unwrap_err();
        assert_eq!(e, "--port vnet0=0: not a port number (1..=4294967040)");
    }

    #[test]
    fn check_invalid_description_names_file_and_entry() {
        let p = temp_file(
            "bad",
            "[[vm]]\nname = \"vm1\"\nmac = \"52:54:00:00:00:01\"\nipv4 = \"10.0.0.300\"\nport = 1\n",
        );
        let e = run_check(&p, &[]).unwrap_err();
        std::fs::remove_file(&p).unwrap();
        assert_eq!(
            e,
            format!(
                "{}: vm \"vm1\": ipv4: malformed IPv4 address \"10.0.0.300\"",
                p.display()
            )
        );
        let missing = Path::new("/nonexistent/tfc.toml");
        let e = run_check(missing, &[]).unwrap_err();
        assert!(e.starts_with("/nonexistent/tfc.toml: "), "{e}");
    }

    #[test]
    fn check_l2_learning_prints_the_table_miss() {
        let p = temp_file("l2", "[controller]\napp = \"l2-learning\"\n");
        let out = run_check(&p, &[]);
        std::fs::remove_file(&p).unwrap();
        assert_eq!(
            out.unwrap(),
            "# bridge br0\npriority=0 actions=CONTROLLER:65535\n"
        );
    }

    #[test]
    fn port_args_parse() {
        assert_eq!(parse_port_arg("vnet0=7").unwrap(), ("vnet0".to_string(), 7));
        assert!(parse_port_arg("vnet0").is_err());
        assert!(parse_port_arg("=7").is_err());
        assert!(parse_port_arg("vnet0=0").is_err());
        assert!(parse_port_arg("vnet0=x").is_err());

        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            check: CheckArgs,
        }
        let cli = Cli::try_parse_from(["x", "f.toml", "--port", "a=1", "--port", "b=2"]).unwrap();
        assert_eq!(cli.check.file, PathBuf::from("f.toml"));
        assert_eq!(
            cli.check.ports,
            [("a".to_string(), 1), ("b".to_string(), 2)]
        );
        assert!(Cli::try_parse_from(["x", "f.toml", "--port", "a"]).is_err());
    }
}
