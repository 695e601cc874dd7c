//! OFPMP_TABLE_FEATURES for the owner task, both forms: an empty request
//! reads the tables' configuration; one with a body (possibly spread over
//! several messages with `OFPMPF_REQ_MORE`) replaces it. The configuration
//! and its checks are `crate::pipeline::table_config`; this applies a new
//! one to the pipeline in the owner's message order: entries of tables the
//! request reshapes or removes go (without FLOW_REMOVED, §7.3.5.5.1), table
//! capacities follow `max_entries`, and the reply is the new configuration.
//!
//! Open vSwitch 3.1 takes a set only when it changes nothing but names (it
//! refuses more or fewer tables and other sizes with `OFPTFFC_EPERM`, and
//! keeps its own features otherwise); we apply what the request says, which
//! is what the spec asks and what Faucet's TFM profiles expect.

use super::{werr, Bridge};
use crate::bridge::event::ConnId;
use crate::bridge::multipart as mp;
use crate::pipeline::table_config::TableConfigs;
use ofproto::consts::*;
use ofproto::error::OFPTFFC_BAD_ARGUMENT;
use ofproto::multipart::{MultipartReplyBody as RB, TableFeatures};
use ofproto::WireError;
use std::sync::Arc;
use tracing::info;

/// Most `ofp_table_features` one request may carry (over all its parts):
/// one per table.
const MAX_ENTRIES_PER_REQUEST: usize = OFPTT_MAX as usize + 1;

impl Bridge {
    /// One TABLE_FEATURES request message. Parts with `OFPMPF_REQ_MORE` are
    /// kept per connection until the last one (same xid; a new xid starts
    /// over); then the whole body is applied, or refused with nothing
    /// changed, and the reply is the configuration in force.
    pub(super) fn table_features_request(
        &mut self,
        conn: ConnId,
        xid: u32,
        flags: u16,
        part: Vec<TableFeatures>,
    ) -> Result<(), WireError> {
        let mut body = match self.pending_features.remove(&conn) {
            Some((x, earlier)) if x == xid => earlier,
            _ => Vec::new(),
        };
        body.extend(part);
        if body.len() > MAX_ENTRIES_PER_REQUEST {
            return Err(werr(
                OFPTFFC_BAD_ARGUMENT,
                format!(
                    "{} table entries in one request; there are {MAX_ENTRIES_PER_REQUEST} tables",
                    body.len()
                ),
            ));
        }
        if flags & OFPMPF_REQ_MORE != 0 {
            self.pending_features.insert(conn, (xid, body));
            return Ok(());
        }
        if !body.is_empty() {
            let new = self.tables.replace(&body)?;
            self.apply_table_config(new);
            self.publish();
        }
        let f = self.table_features();
        let msgs = mp::replies(
            f.as_ref().clone(),
            mp::table_features_len,
            RB::TableFeatures,
        );
        for m in msgs {
            self.reply(conn, xid, m);
        }
        Ok(())
    }

    /// The reply body for the configuration in force (built once per
    /// configuration).
    pub(super) fn table_features(&mut self) -> Arc<Vec<TableFeatures>> {
        let tables = &self.tables;
        self.features
            .get_or_insert_with(|| Arc::new(tables.features()))
            .clone()
    }

    /// Puts `new` in force.
    fn apply_table_config(&mut self, new: TableConfigs) {
        let reshaped = self.tables.reshaped(&new);
        let gone = if reshaped.is_empty() {
            0
        } else {
            self.pipeline
                .remove_flows_where(OFPRR_DELETE, |e| reshaped.contains(e.table_id))
                .len()
        };
        for id in 0..=OFPTT_MAX {
            let n = new.get(id).map_or(0, |t| t.max_entries as usize);
            if let Some(t) = self.pipeline.table_mut(id) {
                t.set_max_entries(n);
            }
        }
        info!(
            bridge = %self.s.name,
            tables = new.iter().count(),
            reshaped = reshaped.iter().count(),
            flows_removed = gone,
            "table features set by the controller"
        );
        self.tables = new;
        self.features = None;
    }
}
