//! Controller roles with two real os-ken controllers (`osken-manager`
//! running `integration/osken/role_seq_logger.py`) on one tapflowd: A asks
//! for MASTER and B for SLAVE (generation 1); a table-miss flow sends every
//! frame to the controller; a "VM" sends a numbered stream of UDP frames;
//! partway through, B asks for MASTER with generation 2.
//!
//! What must hold (OF1.3.5 §6.3.7, the async defaults of §7.3.10):
//! - every sequence number reaches exactly one controller, exactly once: no
//!   PACKET_IN is lost or duplicated across the switch-over;
//! - the split is clean: every number A got is below every number B got;
//! - B, a slave, gets no PACKET_IN before the ROLE_REPLY that makes it
//!   master (on B's connection the reply comes first);
//! - A gets no PACKET_IN after the first ROLE_REPLY telling it it is now a
//!   slave (A asks for its role every 50 ms; one connection is one ordered
//!   stream, so that reply marks where the demotion took effect for A).
//!
//! Skipped with a NOTICE without the os-ken venv (see
//! `osken_simple_switch.rs`) or without root.

use integration::packet::{udp_frame, PacketSocket};
use integration::{require_root, wait_until, Names, TwoVms, IP1, IP2};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);
/// Frames in the stream, and the pause between two (about 200 per second:
/// well under the default PACKET_IN limit of 1000/s).
const N: u32 = 600;
const GAP: Duration = Duration::from_millis(5);
/// B asks for MASTER once A has seen this many.
const SWITCH_AFTER: usize = 150;

const ROLE_MASTER: u32 = 2;
const ROLE_SLAVE: u32 = 3;

fn osken_manager() -> Option<PathBuf> {
    let venv = std::env::var_os("TAPFLOW_OSKEN_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/tapflow-ci/osken"));
    let bin = venv.join("bin/osken-manager");
    if bin.exists() {
        Some(bin)
    } else {
        eprintln!(
            "NOTICE: {} not found: os-ken roles test skipped (python3 -m venv {v} && {v}/bin/pip install 'os-ken<4')",
            bin.display(),
            v = venv.display()
        );
        None
    }
}

/// One osken-manager with the role app, stopped on Drop (its output and
/// role log printed if the test panicked).
struct Controller {
    name: &'static str,
    child: Child,
    out: PathBuf,
    log: PathBuf,
}

impl Controller {
    fn start(
        bin: &Path,
        name: &'static str,
        port: u16,
        names: &Names,
        env: &[(&str, String)],
    ) -> Controller {
        let base = std::env::temp_dir().join(format!("{}-osken-{name}", names.base()));
        let (out, log) = (base.with_extension("out"), base.with_extension("log"));
        let _ = std::fs::remove_file(&log);
        let f = std::fs::File::create(&out).expect("osken output file");
        let app = concat!(env!("CARGO_MANIFEST_DIR"), "/osken/role_seq_logger.py");
        let mut cmd = Command::new(bin);
        cmd.args([
            "--ofp-listen-host",
            "127.0.0.1",
            "--ofp-tcp-listen-port",
            &port.to_string(),
            app,
        ])
        .env("TF_ROLE_LOG", &log)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(f.try_clone().expect("dup"))
        .stderr(f);
        // SAFETY: prctl is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn osken-manager");
        let mut c = Controller {
            name,
            child,
            out,
            log,
        };
        let up = wait_until(30 * SEC, Duration::from_millis(100), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(
            up && c.child.try_wait().ok().flatten().is_none(),
            "osken-manager {name} is not listening on {port}:\n{}",
            c.output()
        );
        c
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    fn lines(&self) -> Vec<Line> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| Line::parse(l).unwrap_or_else(|| panic!("{}: bad log line {l:?}", self.name)))
            .collect()
    }

    fn pins(&self) -> Vec<u32> {
        self.lines()
            .into_iter()
            .filter_map(|l| match l {
                Line::Pin(s) => Some(s),
                _ => None,
            })
            .collect()
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        if !wait_until(5 * SEC, Duration::from_millis(50), || {
            self.child.try_wait().ok().flatten().is_some()
        }) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "--- osken-manager {} output ---\n{}--- role log ---\n{}--- end ---",
                self.name,
                self.output(),
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
        let _ = std::fs::remove_file(&self.out);
        let _ = std::fs::remove_file(&self.log);
    }
}

/// One line of the app's log.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Line {
    Role {
        role: u32,
        generation_id: u64,
    },
    Pin(u32),
    PinOther,
    /// `type code` of an OFPT_ERROR.
    Error(String),
    PromoteSent,
}

impl Line {
    fn parse(l: &str) -> Option<Line> {
        let w: Vec<&str> = l.split_whitespace().collect();
        Some(match w.as_slice() {
            ["ROLE", r, g] => Line::Role {
                role: r.parse().ok()?,
                generation_id: g.parse().ok()?,
            },
            ["PIN", s] => Line::Pin(s.parse().ok()?),
            ["PIN-OTHER"] => Line::PinOther,
            ["ERROR", t, c] => Line::Error(format!("{t} {c}")),
            ["PROMOTE-SENT"] => Line::PromoteSent,
            _ => return None,
        })
    }
}

fn first_role(lines: &[Line]) -> Option<(u32, u64)> {
    lines.iter().find_map(|l| match l {
        Line::Role {
            role,
            generation_id,
        } => Some((*role, *generation_id)),
        _ => None,
    })
}

#[test]
fn master_switch_over_between_two_osken_controllers_loses_and_duplicates_no_packet_in() {
    require_root!();
    let Some(bin) = osken_manager() else {
        return;
    };
    let names = Names::new();
    let promote = std::env::temp_dir().join(format!("{}-promote-b", names.base()));
    let _ = std::fs::remove_file(&promote);
    let (pa, pb) = (integration::free_tcp_port(), integration::free_tcp_port());
    let a = Controller::start(
        &bin,
        "A",
        pa,
        &names,
        &[("TF_ROLE", "master".into()), ("TF_GEN", "1".into())],
    );
    let b = Controller::start(
        &bin,
        "B",
        pb,
        &names,
        &[
            ("TF_ROLE", "slave".into()),
            ("TF_GEN", "1".into()),
            ("TF_PROMOTE_FILE", promote.display().to_string()),
            ("TF_PROMOTE_GEN", "2".into()),
        ],
    );
    let bed = TwoVms::start(|d| d.secure().controller_tcp(pa).controller_tcp(pb));
    let br = bed.bridge().to_string();

    // Both connected and in their roles.
    let roles_set = wait_until(30 * SEC, Duration::from_millis(100), || {
        first_role(&a.lines()).is_some() && first_role(&b.lines()).is_some()
    });
    assert!(roles_set, "roles not set:\n{}", bed.d.log_text());
    assert_eq!(first_role(&a.lines()), Some((ROLE_MASTER, 1)));
    assert_eq!(first_role(&b.lines()), Some((ROLE_SLAVE, 1)));

    bed.d
        .tapflow_ok(["add-flow", &br, "priority=0 actions=CONTROLLER:65535"]);

    // The numbered stream, from vm1 into port 1.
    let ns = bed.vm1.ns.name().to_string();
    let ifname = bed.vm1.ifname.clone();
    let src = bed.vm1.mac;
    let gen = std::thread::spawn(move || {
        integration::in_netns(&ns, move || {
            let s = PacketSocket::open(&ifname).expect("packet socket in vm1");
            for seq in 1..=N {
                let payload = format!("TFSEQ{seq:08}");
                let f = udp_frame(
                    src,
                    [0x02, 0x7f, 0, 0, 0, 0x99],
                    IP1.octets(),
                    IP2.octets(),
                    40000,
                    40001,
                    payload.as_bytes(),
                );
                s.send(&f).expect("send");
                std::thread::sleep(GAP);
            }
        })
    });

    assert!(
        wait_until(30 * SEC, Duration::from_millis(20), || a.pins().len()
            >= SWITCH_AFTER),
        "A (master) gets the PACKET_INs: {} so far\n{}",
        a.pins().len(),
        bed.d.log_text()
    );
    std::fs::write(&promote, b"").expect("promote file");
    gen.join().expect("generator");

    // Everything sent arrives somewhere (bounded wait, not a timing claim).
    let all_in = wait_until(30 * SEC, Duration::from_millis(100), || {
        a.pins().len() + b.pins().len() >= N as usize
    });
    // A little more time for anything duplicated to show up.
    std::thread::sleep(Duration::from_millis(500));
    let (la, lb) = (a.lines(), b.lines());
    let (pins_a, pins_b) = (a.pins(), b.pins());
    let _ = std::fs::remove_file(&promote);
    eprintln!(
        "A got {} PACKET_INs (last {:?}), B got {} (first {:?})",
        pins_a.len(),
        pins_a.last(),
        pins_b.len(),
        pins_b.first()
    );
    assert!(all_in, "A {} + B {} of {N}", pins_a.len(), pins_b.len());

    // Exactly once, across both.
    let mut seen = vec![0u32; N as usize + 1];
    for &s in pins_a.iter().chain(&pins_b) {
        assert!((1..=N).contains(&s), "unknown sequence number {s}");
        seen[s as usize] += 1;
    }
    let lost: Vec<u32> = (1..=N).filter(|&s| seen[s as usize] == 0).collect();
    let dup: Vec<u32> = (1..=N).filter(|&s| seen[s as usize] > 1).collect();
    assert!(lost.is_empty(), "lost: {lost:?}");
    assert!(dup.is_empty(), "duplicated: {dup:?}");

    // A clean split, and both sides of it non-empty.
    assert!(pins_a.len() >= SWITCH_AFTER && !pins_b.is_empty());
    let (last_a, first_b) = (*pins_a.iter().max().unwrap(), *pins_b.iter().min().unwrap());
    assert!(last_a < first_b, "A got {last_a} after B got {first_b}");
    assert_eq!(last_a + 1, first_b);

    // B: no PACKET_IN while a slave; its MASTER reply comes first.
    let b_master_at = lb
        .iter()
        .position(|l| {
            *l == Line::Role {
                role: ROLE_MASTER,
                generation_id: 2,
            }
        })
        .expect("B's ROLE_REPLY as master, generation 2");
    let b_first_pin = lb
        .iter()
        .position(|l| matches!(l, Line::Pin(_)))
        .expect("B got PACKET_INs");
    assert!(b_master_at < b_first_pin, "B: {lb:?}");
    assert!(lb[..b_master_at].contains(&Line::PromoteSent));

    // A: no PACKET_IN after it learnt it is a slave.
    let a_slave_at = la
        .iter()
        .position(|l| {
            *l == Line::Role {
                role: ROLE_SLAVE,
                generation_id: 2,
            }
        })
        .expect("A's role query answered SLAVE, generation 2");
    assert!(
        !la[a_slave_at..].iter().any(|l| matches!(l, Line::Pin(_))),
        "A got PACKET_IN after its demotion: {:?}",
        &la[a_slave_at..]
    );
    // Before B's request A was master, every query said so.
    assert!(la[..a_slave_at].iter().all(|l| match l {
        Line::Role { role, .. } => *role == ROLE_MASTER,
        _ => true,
    }));
    for (who, lines) in [("A", &la), ("B", &lb)] {
        let errors: Vec<&Line> = lines
            .iter()
            .filter(|l| matches!(l, Line::Error(_)))
            .collect();
        assert!(errors.is_empty(), "{who} got errors: {errors:?}");
    }
    drop(bed);
}
