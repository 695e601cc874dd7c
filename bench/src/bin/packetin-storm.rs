//! packetin-storm: the controller side of the PACKET_IN benchmarks.
//!
//! `count` mode: accept the switch on ptcp:PORT (or dial its listener) and
//! count PACKET_INs for `--secs` after the first one arrives; prints
//! `packet_in_rate=<per s> packet_ins=<n>`.
//!
//! `reactive` mode: a minimal reactive controller for first-packet
//! latency. Each PACKET_IN of an IPv4 frame whose destination is in
//! `--route IP=PORT` gets a FLOW_MOD (`ip,nw_dst=IP actions=output:PORT`,
//! cookie 0x99) and a PACKET_OUT of the same frame to PORT, written in one
//! go. Runs until killed; prints one line per PACKET_IN handled.
//!
//!   packetin-storm ptcp:6699 count --secs 5
//!   packetin-storm ptcp:6699 reactive --route 10.10.10.11=1 --route 10.10.10.12=2

use bytes::{Bytes, BytesMut};
use clap::{Parser, Subcommand};
use ofproto::action::Action;
use ofproto::consts::{OFPP_CONTROLLER, OFP_NO_BUFFER};
use ofproto::message::{Message, PacketOut};
use ofproto::oxm::OxmField;
use ofproto::text::{parse_flow, FlowCommand};
use std::collections::HashMap;
use std::io::Write;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};
use tapflow_bench::{answer_echo, encode, handshake, msg_type, Reader, Stream};

#[derive(Parser)]
#[command(about = "Controller side of the PACKET_IN benchmarks")]
struct Args {
    /// ptcp:PORT (the switch connects to us), tcp:HOST:PORT or unix:PATH.
    target: String,
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Count PACKET_INs for SECS seconds after the first.
    Count {
        #[arg(long, default_value_t = 5.0)]
        secs: f64,
        /// Give up when no PACKET_IN arrives within this many seconds.
        #[arg(long, default_value_t = 30.0)]
        wait: f64,
    },
    /// Answer PACKET_INs with FLOW_MOD + PACKET_OUT by destination IP.
    Reactive {
        /// IP=PORT, repeatable.
        #[arg(long = "route", value_parser = parse_route)]
        routes: Vec<(Ipv4Addr, u32)>,
    },
}

fn parse_route(s: &str) -> Result<(Ipv4Addr, u32), String> {
    let (ip, port) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected IP=PORT"))?;
    Ok((
        ip.parse().map_err(|e| format!("{ip:?}: {e}"))?,
        port.parse().map_err(|e| format!("{port:?}: {e}"))?,
    ))
}

fn main() {
    let a = Args::parse();
    let r = (|| -> Result<(), String> {
        let s = Stream::open(&a.target).map_err(|e| format!("{}: {e}", a.target))?;
        let mut w = s.try_clone().map_err(|e| e.to_string())?;
        let mut r = Reader::new(s);
        let dpid = handshake(&mut w, &mut r).map_err(|e| e.to_string())?;
        eprintln!("switch {dpid:016x} connected");
        match a.mode {
            Mode::Count { secs, wait } => count(&mut w, &mut r, secs, wait),
            Mode::Reactive { routes } => reactive(&mut w, &mut r, routes.into_iter().collect()),
        }
    })();
    if let Err(e) = r {
        eprintln!("packetin-storm: {e}");
        std::process::exit(1);
    }
}

/// Answers ECHO; true for a PACKET_IN.
fn housekeeping(w: &mut Stream, raw: &[u8]) -> Result<bool, String> {
    answer_echo(w, raw).map_err(|e| e.to_string())?;
    Ok(msg_type(raw) == 10)
}

fn count(w: &mut Stream, r: &mut Reader, secs: f64, wait: f64) -> Result<(), String> {
    // A read timeout so an idle switch ends the run too.
    w.set_read_timeout(Some(Duration::from_millis(100)))
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut first: Option<Instant> = None;
    let mut n = 0u64;
    loop {
        match r.next_raw() {
            Ok(raw) => {
                let raw = raw.to_vec();
                if housekeeping(w, &raw)? {
                    let now = Instant::now();
                    let f = *first.get_or_insert(now);
                    if now.duration_since(f).as_secs_f64() <= secs {
                        n += 1;
                    }
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e.to_string()),
        }
        match first {
            Some(f) if f.elapsed().as_secs_f64() > secs => break,
            None if started.elapsed().as_secs_f64() > wait => {
                return Err(format!("no PACKET_IN within {wait} s"))
            }
            _ => {}
        }
    }
    println!("packet_in_rate={:.0} packet_ins={n}", n as f64 / secs);
    Ok(())
}

/// The IPv4 destination of an untagged Ethernet frame.
fn ipv4_dst(frame: &[u8]) -> Option<Ipv4Addr> {
    if frame.len() < 34 || frame[12..14] != [0x08, 0x00] {
        return None;
    }
    Some(Ipv4Addr::new(frame[30], frame[31], frame[32], frame[33]))
}

fn reactive(w: &mut Stream, r: &mut Reader, routes: HashMap<Ipv4Addr, u32>) -> Result<(), String> {
    let mut xid = 100u32;
    loop {
        let raw = r.next_raw().map_err(|e| e.to_string())?.to_vec();
        if !housekeeping(w, &raw)? {
            continue;
        }
        let Ok((_, Message::PacketIn(pi))) = Message::decode(&raw) else {
            continue;
        };
        let in_port = match pi.match_.get(0) {
            Some(OxmField::InPort(p)) => *p,
            _ => 0,
        };
        let Some(dst) = ipv4_dst(&pi.data) else {
            continue;
        };
        let Some(&port) = routes.get(&dst) else {
            eprintln!("no route for {dst}");
            continue;
        };
        let mut fm = parse_flow(
            &format!("cookie=0x99,priority=200,ip,nw_dst={dst} actions=output:{port}"),
            FlowCommand::Add,
        )
        .map_err(|e| e.to_string())?;
        fm.buffer_id = OFP_NO_BUFFER;
        let (buffer_id, data) = if pi.buffer_id != OFP_NO_BUFFER {
            (pi.buffer_id, Bytes::new())
        } else {
            (OFP_NO_BUFFER, pi.data.clone())
        };
        let po = PacketOut {
            buffer_id,
            in_port: if in_port == 0 {
                OFPP_CONTROLLER
            } else {
                in_port
            },
            actions: vec![Action::Output { port, max_len: 0 }],
            data,
        };
        let mut o = BytesMut::new();
        xid += 2;
        encode(&Message::FlowMod(fm), xid, &mut o);
        encode(&Message::PacketOut(po), xid + 1, &mut o);
        w.write_all(&o).map_err(|e| e.to_string())?;
        eprintln!("packet-in from port {in_port} to {dst}: flow + packet-out to {port}");
    }
}
