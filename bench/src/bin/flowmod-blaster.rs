//! flowmod-blaster: how fast a switch installs flows over one OpenFlow
//! connection. Per run: delete all flows (untimed), then time N FLOW_MOD
//! ADDs written back to back plus the final BARRIER until its reply, then
//! check with an AGGREGATE request that all N are installed.
//!
//!   flowmod-blaster unix:/run/tapflow/br0.mgmt --flows 100000 --runs 3
//!   flowmod-blaster unix:$OVSDIR/br0.mgmt --flows 100000 --runs 3
//!
//! The last line is machine-readable: `flowmod_rate_median=<flows/s>
//! flows=<n> errors=<n> rss_kb=<n or ->`.

use bytes::BytesMut;
use clap::Parser;
use ofproto::consts::{OFPG_ANY, OFPP_ANY, OFPTT_ALL};
use ofproto::message::Message;
use ofproto::multipart::{
    AggregateStatsRequest, MultipartReplyBody, MultipartRequest, MultipartRequestBody,
};
use ofproto::oxm::Match;
use ofproto::text::{parse_flow, FlowCommand};
use std::io::Write;
use std::time::Instant;
use tapflow_bench::flows::{check_size, flow_text};
use tapflow_bench::{answer_echo, encode, handshake, median, Reader, Stream};

#[derive(Parser)]
#[command(about = "Times FLOW_MOD installation (N adds + BARRIER) over one connection")]
struct Args {
    /// tcp:HOST:PORT or unix:PATH of the switch's passive listener.
    target: String,
    /// Flows per run.
    #[arg(long, default_value_t = 100_000)]
    flows: usize,
    /// Match shapes the flows are spread over (1..=16).
    #[arg(long, default_value_t = 16)]
    shapes: usize,
    /// Tables the shapes are spread over.
    #[arg(long, default_value_t = 1)]
    tables: usize,
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Leave the last run's flows installed (for memory measurements).
    #[arg(long)]
    keep: bool,
    /// Print the RSS of this pid after each run (e.g. the switch's).
    #[arg(long)]
    rss_pid: Option<u32>,
}

fn main() {
    let a = Args::parse();
    if let Err(e) = check_size(a.flows, a.shapes) {
        eprintln!("flowmod-blaster: {e}");
        std::process::exit(2);
    }
    if let Err(e) = run(&a) {
        eprintln!("flowmod-blaster: {e}");
        std::process::exit(1);
    }
}

fn rss_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let l = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    l.split_whitespace().nth(1)?.parse().ok()
}

fn delete_all() -> Message {
    let mut fm = parse_flow("", FlowCommand::Delete).expect("delete-all");
    fm.table_id = OFPTT_ALL;
    fm.out_port = OFPP_ANY;
    fm.out_group = OFPG_ANY;
    Message::FlowMod(fm)
}

fn run(a: &Args) -> Result<(), String> {
    let t0 = Instant::now();
    let mut adds = BytesMut::with_capacity(a.flows * 96);
    for i in 0..a.flows {
        let text = flow_text(i, a.shapes, a.tables, "output:1");
        let fm = parse_flow(&text, FlowCommand::Add).map_err(|e| format!("{text}: {e}"))?;
        encode(&Message::FlowMod(fm), 0x1000, &mut adds);
    }
    eprintln!(
        "encoded {} FLOW_MODs ({} bytes) in {:.2} s",
        a.flows,
        adds.len(),
        t0.elapsed().as_secs_f64()
    );

    let s = Stream::open(&a.target).map_err(|e| format!("{}: {e}", a.target))?;
    let mut w = s.try_clone().map_err(|e| e.to_string())?;
    let mut r = Reader::new(s);
    let dpid = handshake(&mut w, &mut r).map_err(|e| e.to_string())?;
    eprintln!("connected to datapath {dpid:016x}");

    let mut rates = Vec::new();
    let mut errors = 0usize;
    let mut rss = None;
    for run in 0..a.runs {
        // Untimed: start from an empty table.
        let mut pre = BytesMut::new();
        encode(&delete_all(), 1, &mut pre);
        encode(&Message::BarrierRequest, 2, &mut pre);
        w.write_all(&pre).map_err(|e| e.to_string())?;
        errors += wait_barrier(&mut w, &mut r, 2)?;

        let start = Instant::now();
        // One writer thread so the reader drains errors while we write:
        // a switch that answers many errors would otherwise deadlock us.
        let mut wc = w.try_clone().map_err(|e| e.to_string())?;
        let body = adds.clone();
        let writer = std::thread::spawn(move || -> std::io::Result<()> {
            wc.write_all(&body)?;
            let mut b = BytesMut::new();
            encode(&Message::BarrierRequest, 3, &mut b);
            wc.write_all(&b)
        });
        errors += wait_barrier(&mut w, &mut r, 3)?;
        let secs = start.elapsed().as_secs_f64();
        writer
            .join()
            .map_err(|_| "writer panicked".to_string())?
            .map_err(|e| e.to_string())?;

        let installed = flow_count(&mut w, &mut r)?;
        let rate = a.flows as f64 / secs;
        if let Some(pid) = a.rss_pid {
            rss = rss_kb(pid);
        }
        eprintln!(
            "run {}: {} flows in {:.3} s = {:.0} flows/s; switch reports {} flows{}",
            run + 1,
            a.flows,
            secs,
            rate,
            installed,
            rss.map_or(String::new(), |k| format!("; rss {k} kB"))
        );
        if installed as usize != a.flows {
            return Err(format!(
                "the switch holds {installed} flows after installing {}",
                a.flows
            ));
        }
        rates.push(rate);
    }
    if !a.keep {
        let mut pre = BytesMut::new();
        encode(&delete_all(), 4, &mut pre);
        encode(&Message::BarrierRequest, 5, &mut pre);
        w.write_all(&pre).map_err(|e| e.to_string())?;
        wait_barrier(&mut w, &mut r, 5)?;
    }
    println!(
        "flowmod_rate_median={:.0} flows={} errors={} rss_kb={}",
        median(&rates),
        a.flows,
        errors,
        rss.map_or("-".to_string(), |k| k.to_string())
    );
    Ok(())
}

/// Reads until the BARRIER_REPLY with `xid`; returns the errors seen.
fn wait_barrier(w: &mut Stream, r: &mut Reader, xid: u32) -> Result<usize, String> {
    let mut errors = 0;
    loop {
        let raw = r.next_raw().map_err(|e| e.to_string())?;
        match raw[1] {
            21 if u32::from_be_bytes([raw[4], raw[5], raw[6], raw[7]]) == xid => return Ok(errors),
            1 => {
                if errors < 3 {
                    eprintln!("switch error: {:?}", Message::decode(raw).map(|m| m.1));
                }
                errors += 1;
            }
            _ => {
                answer_echo(w, raw).map_err(|e| e.to_string())?;
            }
        }
    }
}

fn flow_count(w: &mut Stream, r: &mut Reader) -> Result<u32, String> {
    let req = AggregateStatsRequest {
        table_id: OFPTT_ALL,
        out_port: OFPP_ANY,
        out_group: OFPG_ANY,
        cookie: 0,
        cookie_mask: 0,
        match_: Match::default(),
    };
    let mut o = BytesMut::new();
    encode(
        &Message::MultipartRequest(MultipartRequest {
            flags: 0,
            body: MultipartRequestBody::Aggregate(req),
        }),
        9,
        &mut o,
    );
    w.write_all(&o).map_err(|e| e.to_string())?;
    loop {
        let raw = r.next_raw().map_err(|e| e.to_string())?;
        if answer_echo(w, raw).map_err(|e| e.to_string())? {
            continue;
        }
        if let Ok((9, Message::MultipartReply(m))) = Message::decode(raw) {
            if let MultipartReplyBody::Aggregate(a) = m.body {
                return Ok(a.flow_count);
            }
        }
    }
}
