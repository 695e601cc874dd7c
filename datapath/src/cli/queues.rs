//! Queue verbs, as `ovs-ofctl -O OpenFlow13` spells and prints them:
//! `queue-stats TARGET [PORT [QUEUE]]` (`OFPMP_QUEUE`) and
//! `queue-get-config TARGET [PORT]` (QUEUE_GET_CONFIG). A missing PORT or
//! QUEUE, or `all`, is every port (`OFPP_ANY`) or queue (`OFPQ_ALL`); a
//! PORT may be a number, a reserved name or a port name.

use super::openflow::{emit_all, mp, port_arg, Session};
use super::{CliError, Options};
use ofproto::consts::{OFPP_ANY, OFPQ_ALL};
use ofproto::multipart::{MultipartRequestBody as Req, QueueStatsRequest};
use ofproto::queue::QueueGetConfigRequest;
use ofproto::Message;
use std::io::Write;

fn is_all(a: Option<&str>) -> bool {
    a.is_none_or(|a| a.is_empty() || a.eq_ignore_ascii_case("all"))
}

fn port(s: &mut Session, a: Option<&str>) -> Result<u32, CliError> {
    match a {
        _ if is_all(a) => Ok(OFPP_ANY),
        Some(p) => port_arg(s, p),
        None => Ok(OFPP_ANY),
    }
}

/// A QUEUE argument: a number (decimal or 0x hex) or `all`.
fn queue_arg(a: Option<&str>) -> Result<u32, CliError> {
    let Some(q) = a.filter(|_| !is_all(a)) else {
        return Ok(OFPQ_ALL);
    };
    let n = match q.strip_prefix("0x") {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None => q.parse().ok(),
    };
    n.filter(|&n| n != OFPQ_ALL)
        .ok_or_else(|| CliError::Usage(format!("{q:?}: expected a queue number or \"all\"")))
}

/// `queue-stats TARGET [PORT [QUEUE]]`.
pub fn queue_stats(
    o: &Options,
    target: &str,
    port_a: Option<&str>,
    queue_a: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let queue_id = queue_arg(queue_a)?;
    let mut s = Session::open(o, target)?;
    let port_no = port(&mut s, port_a)?;
    let (xid, r) = s.transact(mp(Req::Queue(QueueStatsRequest { port_no, queue_id })))?;
    emit_all(out, xid, &r)
}

/// `queue-get-config TARGET [PORT]`.
pub fn queue_get_config(
    o: &Options,
    target: &str,
    port_a: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut s = Session::open(o, target)?;
    let port = port(&mut s, port_a)?;
    let (xid, r) = s.transact(Message::QueueGetConfigRequest(QueueGetConfigRequest {
        port,
    }))?;
    emit_all(out, xid, &r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_arguments() {
        assert_eq!(queue_arg(None), Ok(OFPQ_ALL));
        assert_eq!(queue_arg(Some("all")), Ok(OFPQ_ALL));
        assert_eq!(queue_arg(Some("ALL")), Ok(OFPQ_ALL));
        assert_eq!(queue_arg(Some("0")), Ok(0));
        assert_eq!(queue_arg(Some("7")), Ok(7));
        assert_eq!(queue_arg(Some("0x10")), Ok(16));
        assert!(matches!(queue_arg(Some("x")), Err(CliError::Usage(_))));
        assert!(matches!(
            queue_arg(Some("4294967295")),
            Err(CliError::Usage(_))
        ));
    }
}
