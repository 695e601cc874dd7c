//! QUEUE_GET_CONFIG and the `OFPMP_QUEUE` multipart, for the owner task.
//! The queues and their counters live in the data plane
//! (`crate::dataplane::queues`); this answers from a snapshot of them.
//!
//! Errors follow Open vSwitch: a port that is neither `OFPP_ANY` nor one of
//! ours is `OFPQOFC_BAD_PORT` (so is a reserved port such as LOCAL in
//! QUEUE_GET_CONFIG, which asks for a physical port or ANY; queue stats
//! take LOCAL); a queue id that is not `OFPQ_ALL` and that
//! the port (or, for `OFPP_ANY`, every port) lacks is `OFPQOFC_BAD_QUEUE`.

use super::{werr, Bridge};
use crate::bridge::multipart as mp;
use crate::dataplane::queues::{rate_permille, PortQueues};
use ofproto::consts::{OFPP_ANY, OFPP_MAX, OFPQ_ALL};
use ofproto::error::{OFPQOFC_BAD_PORT, OFPQOFC_BAD_QUEUE};
use ofproto::multipart::{
    MultipartReplyBody as RB, QueueStats, QueueStatsRequest, OFP_QUEUE_STATS_LEN,
};
use ofproto::queue::{PacketQueue, QueueGetConfigReply, QueueGetConfigRequest, QueueProp};
use ofproto::{Message, WireError};

impl Bridge {
    /// The data plane's queue report for `port` (`OFPP_ANY`: every port).
    fn queues_of(&self, port: u32) -> Result<Vec<PortQueues>, WireError> {
        if port != OFPP_ANY && !self.ports.entries.contains_key(&port) {
            return Err(werr(OFPQOFC_BAD_PORT, format!("no port {port}")));
        }
        let mut all = self.dp.queue_reports();
        all.retain(|p| {
            self.ports.entries.contains_key(&p.ofport) && (port == OFPP_ANY || p.ofport == port)
        });
        Ok(all)
    }

    pub(super) fn queue_get_config(
        &self,
        req: &QueueGetConfigRequest,
    ) -> Result<Message, WireError> {
        if req.port > OFPP_MAX && req.port != OFPP_ANY {
            // "Should refer to a valid physical port (i.e. <= OFPP_MAX), or
            // OFPP_ANY" (OF1.3.5 §7.3.6); OVS refuses LOCAL here too.
            return Err(werr(
                OFPQOFC_BAD_PORT,
                format!("port {:#x} is not a physical port or ANY", req.port),
            ));
        }
        let mut queues = Vec::new();
        for p in self.queues_of(req.port)? {
            let speed = self.ports.entries[&p.ofport].desc().curr_speed;
            for q in p.queues {
                let mut properties = Vec::new();
                if let Some(r) = q.min_rate.and_then(|r| rate_permille(r, speed)) {
                    properties.push(QueueProp::MinRate(r));
                }
                if let Some(r) = q.max_rate.and_then(|r| rate_permille(r, speed)) {
                    properties.push(QueueProp::MaxRate(r));
                }
                queues.push(PacketQueue {
                    queue_id: q.queue_id,
                    port: p.ofport,
                    properties,
                });
            }
        }
        // By queue, then port: ovs-ofctl prints the queues so (it shows
        // no port numbers), and so `tapflow queue-get-config` prints the
        // same lines in the same order.
        queues.sort_by_key(|q| (q.queue_id, q.port));
        Ok(Message::QueueGetConfigReply(QueueGetConfigReply {
            port: req.port,
            queues,
        }))
    }

    pub(super) fn queue_stats(&self, req: &QueueStatsRequest) -> Result<Vec<Message>, WireError> {
        let ports = self.queues_of(req.port_no)?;
        let mut stats = Vec::new();
        let mut found = req.queue_id == OFPQ_ALL;
        for p in &ports {
            for q in &p.queues {
                if req.queue_id == OFPQ_ALL || q.queue_id == req.queue_id {
                    found = true;
                    stats.push(QueueStats {
                        port_no: p.ofport,
                        queue_id: q.queue_id,
                        tx_bytes: q.tx_bytes,
                        tx_packets: q.tx_packets,
                        tx_errors: q.tx_errors,
                        duration_sec: q.duration_sec,
                        duration_nsec: q.duration_nsec,
                    });
                }
            }
        }
        if !found {
            let on = if req.port_no == OFPP_ANY {
                "any port".to_string()
            } else {
                format!("port {}", req.port_no)
            };
            return Err(werr(
                OFPQOFC_BAD_QUEUE,
                format!("no queue {} on {on}", req.queue_id),
            ));
        }
        Ok(mp::replies(stats, |_| OFP_QUEUE_STATS_LEN, RB::Queue))
    }
}
