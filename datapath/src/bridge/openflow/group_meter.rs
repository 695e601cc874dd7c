//! GROUP_MOD, METER_MOD and the group/meter multiparts, for the owner task.
//! The tables and their validation are `crate::pipeline::{groups, meters}`;
//! this applies them in the owner's message order (so BARRIER covers them:
//! they are published with the flows) and sends the FLOW_REMOVEDs of flows
//! a deleted group or meter takes with it.

use super::{check_actions, Bridge};
use crate::bridge::multipart::{self as mp, SUPPORTED_ACTIONS};
use ofproto::group::GroupMod;
use ofproto::meter::MeterMod;
use ofproto::multipart::{
    GroupDesc, GroupStats, MeterConfig, MeterStats, MultipartReplyBody as RB,
    MultipartRequestBody as QB, OFP_BUCKET_COUNTER_LEN, OFP_GROUP_DESC_LEN, OFP_GROUP_STATS_LEN,
    OFP_METER_BAND_STATS_LEN, OFP_METER_CONFIG_LEN,
};
use ofproto::{Message, WireError};

impl Bridge {
    pub(super) fn group_mod(&mut self, gm: &GroupMod) -> Result<(), WireError> {
        let now = self.now();
        // Bucket actions are checked as apply-actions; group references
        // (existence, loops) by the group table itself.
        let (_, removed) = self
            .pipeline
            .apply_group_mod(gm, now, |acts| check_actions(acts, true, &|_| true))?;
        self.flows_removed(&removed);
        Ok(())
    }

    pub(super) fn meter_mod(&mut self, mm: &MeterMod) -> Result<(), WireError> {
        let now = self.now();
        let (_, removed) = self.pipeline.apply_meter_mod(mm, now)?;
        self.flows_removed(&removed);
        Ok(())
    }

    /// The group and meter multiparts; `None` for other types.
    pub(super) fn group_meter_multipart(&self, body: &QB) -> Option<Vec<Message>> {
        let now = self.now();
        let p = &self.pipeline;
        let one = |body| {
            vec![Message::MultipartReply(
                ofproto::multipart::MultipartReply { flags: 0, body },
            )]
        };
        Some(match body {
            QB::Group(req) => {
                mp::replies(p.group_stats(req.group_id, now), group_stats_len, RB::Group)
            }
            QB::GroupDesc => mp::replies(p.groups().desc(), group_desc_len, RB::GroupDesc),
            QB::GroupFeatures => one(RB::GroupFeatures(p.groups().features(SUPPORTED_ACTIONS))),
            QB::Meter(req) => {
                mp::replies(p.meter_stats(req.meter_id, now), meter_stats_len, RB::Meter)
            }
            QB::MeterConfig(req) => {
                let all = req.meter_id == ofproto::consts::OFPM_ALL;
                let configs: Vec<MeterConfig> = p
                    .meters()
                    .iter()
                    .filter(|m| all || m.id == req.meter_id)
                    .map(|m| m.config())
                    .collect();
                mp::replies(configs, meter_config_len, RB::MeterConfig)
            }
            QB::MeterFeatures => one(RB::MeterFeatures(p.meters().features())),
            _ => return None,
        })
    }
}

fn group_stats_len(g: &GroupStats) -> usize {
    OFP_GROUP_STATS_LEN + g.bucket_stats.len() * OFP_BUCKET_COUNTER_LEN
}

fn group_desc_len(g: &GroupDesc) -> usize {
    OFP_GROUP_DESC_LEN + g.buckets.iter().map(|b| b.wire_len()).sum::<usize>()
}

fn meter_stats_len(m: &MeterStats) -> usize {
    ofproto::multipart::OFP_METER_STATS_LEN + m.band_stats.len() * OFP_METER_BAND_STATS_LEN
}

fn meter_config_len(m: &MeterConfig) -> usize {
    OFP_METER_CONFIG_LEN + m.bands.iter().map(|b| b.wire_len()).sum::<usize>()
}
