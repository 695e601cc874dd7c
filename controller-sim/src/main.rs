//! `tapflow-controller`: the command line. `run FILE` (also just `FILE`)
//! runs the controller; `check FILE` prints the flows the description
//! implies.

use clap::{Parser, Subcommand};
use controller_sim::check::CheckArgs;
use controller_sim::run::{run, RunOptions};
use std::io::IsTerminal;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "tapflow-controller",
    version,
    about = "OpenFlow 1.3 controller: installs exactly the flows a network description implies"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the controller (the default when only FILE is given).
    Run {
        /// The network description (TOML).
        file: PathBuf,
        /// Listen for switches: `ptcp:PORT[:IP]` (IP defaults to 127.0.0.1) or
        /// punix:PATH. Repeatable. With --listen or --connect the file's
        /// listen and connect are ignored.
        #[arg(long, value_name = "ptcp:PORT[:IP]")]
        listen: Vec<String>,
        /// Connect to a switch's passive listener: tcp:HOST:PORT or
        /// unix:PATH; redialed with backoff. Repeatable.
        #[arg(long, value_name = "tcp:HOST:PORT|unix:PATH")]
        connect: Vec<String>,
        /// Serve Prometheus metrics at http://HOST:PORT/metrics (overrides
        /// the file's `[controller]` metrics).
        #[arg(long, value_name = "HOST:PORT", value_parser = parse_socket_addr)]
        metrics: Option<SocketAddr>,
        /// Reload the description whenever the file changes (checked every
        /// second), as well as on SIGHUP.
        #[arg(long)]
        watch: bool,
    },
    /// Print the flows the description implies (ovs-ofctl add-flows syntax).
    Check(CheckArgs),
}

fn parse_socket_addr(s: &str) -> Result<SocketAddr, String> {
    s.to_socket_addrs()
        .map_err(|e| format!("{s}: {e} (expected HOST:PORT, e.g. 127.0.0.1:9121)"))?
        .next()
        .ok_or_else(|| format!("{s}: no address"))
}

/// `tapflow-controller FILE ...` means `tapflow-controller run FILE ...`.
fn with_default_command(mut args: Vec<String>) -> Vec<String> {
    if let Some(first) = args.get(1) {
        let known = ["run", "check", "help"];
        if !first.starts_with('-') && !known.contains(&first.as_str()) {
            args.insert(1, "run".into());
        }
    }
    args
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse_from(with_default_command(std::env::args().collect()));
    match cli.command {
        Command::Check(args) => match args.run() {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("tapflow-controller: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Run {
            file,
            listen,
            connect,
            metrics,
            watch,
        } => {
            init_logging();
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("tapflow-controller: tokio runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let opts = RunOptions {
                file,
                listen,
                connect,
                metrics,
                watch,
            };
            match rt.block_on(run(opts)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("tapflow-controller: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_bare_file_means_run() {
        assert_eq!(
            with_default_command(args(&["tc", "net.toml", "--watch"])),
            args(&["tc", "run", "net.toml", "--watch"])
        );
        assert_eq!(
            with_default_command(args(&["tc", "check", "net.toml"])),
            args(&["tc", "check", "net.toml"])
        );
        assert_eq!(
            with_default_command(args(&["tc", "--help"])),
            args(&["tc", "--help"])
        );
        let cli = Cli::try_parse_from(with_default_command(args(&["tc", "n.toml"]))).unwrap();
        assert!(matches!(cli.command, Command::Run { .. }));
    }

    #[test]
    fn check_ports_are_name_equals_number() {
        let cli = Cli::try_parse_from(["tc", "check", "f", "--port", "vnet0=3", "--port", "t=4"])
            .unwrap();
        let Command::Check(args) = cli.command else {
            panic!()
        };
        assert_eq!(args.ports, vec![("vnet0".into(), 3), ("t".into(), 4)]);
        assert!(Cli::try_parse_from(["tc", "check", "f", "--port", "vnet0"]).is_err());
        assert!(Cli::try_parse_from(["tc", "check", "f", "--port", "v=x"]).is_err());
    }
}
