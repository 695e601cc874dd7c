//! Convergence: make the switch's flows carrying our cookie exactly the
//! planned set, touching nothing else.
//!
//! One round: read our flows (FLOW_STATS, all tables, cookie = ours with a
//! full cookie_mask), compare them with the plan by [`FlowKey`], send
//! DELETE_STRICT (with our cookie and mask, so another controller's flow at
//! the same place survives) for stale flows and ADD for missing ones, then
//! BARRIER. An unchanged flow is never deleted and re-added, so its
//! duration and counters survive reloads and controller restarts. A stale
//! flow at the place of a missing one is not deleted first: the ADD
//! replaces it in one step, leaving no moment without a flow there.
//!
//! After a round that changed anything the flows are read once more: if
//! the switch reports them in a form [`FlowKey`] does not recognize as
//! what we sent, the next round would churn them, and the log says so.

use super::conn::{describe_error, ConnError, OfConn};
use super::flowkey::{FlowKey, FlowPlace};
use crate::plan::PlannedFlow;
use ofproto::consts::{
    OFPFC_ADD, OFPFC_DELETE_STRICT, OFPG_ANY, OFPP_ANY, OFPTT_ALL, OFP_NO_BUFFER,
};
use ofproto::message::FlowMod;
use ofproto::multipart::{FlowStats, FlowStatsRequest, MultipartReplyBody, MultipartRequestBody};
use ofproto::text::format_match_with_priority;
use ofproto::Message;
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;
use tracing::{debug, warn};

/// What one round has to do.
#[derive(Debug, Default)]
pub struct Diff<'a> {
    /// Planned flows the switch lacks (or holds differently).
    pub add: Vec<&'a PlannedFlow>,
    /// Our flows the plan does not have, at places no added flow takes.
    pub delete: Vec<FlowStats>,
    /// Our stale flows an ADD replaces (same table, priority and match).
    pub replaced: usize,
    /// Our flows already as planned.
    pub unchanged: usize,
}

impl Diff<'_> {
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.delete.is_empty()
    }
}

/// Compares the plan with the flows the switch reported. Flows for which
/// `keep` is true (an app's own dynamic flows) are left alone.
pub fn diff<'a>(
    desired: &'a [PlannedFlow],
    current: &[FlowStats],
    keep: impl Fn(&FlowStats) -> bool,
) -> Diff<'a> {
    let mut wanted: HashMap<FlowKey, &PlannedFlow> = HashMap::with_capacity(desired.len());
    for p in desired {
        if wanted
            .insert(FlowKey::of_flow_mod(&p.flow_mod), p)
            .is_some()
        {
            debug!("plan lists {:?} twice", p.text);
        }
    }
    let mut present: HashSet<FlowKey> = HashSet::with_capacity(current.len());
    let mut stale = Vec::new();
    for f in current {
        let k = FlowKey::of_stats(f);
        if wanted.contains_key(&k) {
            present.insert(k);
        } else if !keep(f) {
            stale.push(f);
        }
    }
    // In plan order, so the switch sees flows in the order the plan lists them.
    let mut seen = HashSet::new();
    let add: Vec<&PlannedFlow> = desired
        .iter()
        .filter(|p| {
            let k = FlowKey::of_flow_mod(&p.flow_mod);
            !present.contains(&k) && seen.insert(k)
        })
        .collect();
    let add_places: HashSet<FlowPlace> = add
        .iter()
        .map(|p| FlowKey::of_flow_mod(&p.flow_mod).place)
        .collect();
    let mut d = Diff {
        add,
        unchanged: present.len(),
        ..Diff::default()
    };
    for f in stale {
        if add_places.contains(&FlowKey::of_stats(f).place) {
            d.replaced += 1;
        } else {
            d.delete.push(f.clone());
        }
    }
    d
}

/// The result of one round.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub added: usize,
    pub deleted: usize,
    pub replaced: usize,
    pub unchanged: usize,
    /// Flow mods the switch refused (each logged).
    pub refused: usize,
    /// From reading the flows to BARRIER_REPLY (or to the diff, when there
    /// was nothing to do).
    pub took: Duration,
}

/// Our flows on the switch, every table.
pub async fn our_flows<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut OfConn<S>,
    cookie: u64,
) -> Result<Vec<FlowStats>, ConnError> {
    let req = FlowStatsRequest {
        table_id: OFPTT_ALL,
        out_port: OFPP_ANY,
        out_group: OFPG_ANY,
        cookie,
        cookie_mask: u64::MAX,
        match_: Default::default(),
    };
    let parts = conn
        .multipart(MultipartRequestBody::Flow(req), "flow stats reply")
        .await?;
    let mut flows = Vec::new();
    for p in parts {
        if let MultipartReplyBody::Flow(v) = p {
            // The switch filtered by cookie; a switch that ignored the
            // filter must still not make us touch others' flows.
            flows.extend(v.into_iter().filter(|f| f.cookie == cookie));
        }
    }
    Ok(flows)
}

fn delete_strict(f: &FlowStats, cookie: u64) -> FlowMod {
    FlowMod {
        cookie,
        cookie_mask: u64::MAX,
        table_id: f.table_id,
        command: OFPFC_DELETE_STRICT,
        priority: f.priority,
        buffer_id: OFP_NO_BUFFER,
        out_port: OFPP_ANY,
        out_group: OFPG_ANY,
        match_: f.match_.clone(),
        ..FlowMod::default()
    }
}

fn add(p: &PlannedFlow, cookie: u64) -> FlowMod {
    FlowMod {
        cookie,
        cookie_mask: 0,
        command: OFPFC_ADD,
        buffer_id: OFP_NO_BUFFER,
        out_port: OFPP_ANY,
        out_group: OFPG_ANY,
        ..p.flow_mod.clone()
    }
}

/// One convergence round against `desired`.
pub async fn converge<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut OfConn<S>,
    cookie: u64,
    desired: &[PlannedFlow],
    keep: impl Fn(&FlowStats) -> bool,
    started: Instant,
) -> Result<Outcome, ConnError> {
    let current = our_flows(conn, cookie).await?;
    let d = diff(desired, &current, &keep);
    let mut out = Outcome {
        unchanged: d.unchanged,
        ..Outcome::default()
    };
    if d.is_empty() {
        out.took = started.elapsed();
        return Ok(out);
    }
    // xid → what it was, to name a refused flow.
    let mut sent: HashMap<u32, String> = HashMap::new();
    for f in &d.delete {
        let xid = conn
            .feed(Message::FlowMod(delete_strict(f, cookie)))
            .await?;
        sent.insert(
            xid,
            format!(
                "delete table={},{}",
                f.table_id,
                format_match_with_priority(f.priority, &f.match_)
            ),
        );
    }
    for p in &d.add {
        let xid = conn.feed(Message::FlowMod(add(p, cookie))).await?;
        sent.insert(xid, p.text.clone());
    }
    let barrier = conn.feed(Message::BarrierRequest).await?;
    conn.flush().await?;
    let mut refused = 0;
    conn.await_reply_with(barrier, "BARRIER_REPLY", |xid, m| match m {
        Message::Error(e) if sent.contains_key(&xid) => {
            warn!(
                "switch refused flow `{}`: {}",
                sent[&xid],
                describe_error(&e)
            );
            refused += 1;
            None
        }
        m => Some(m),
    })
    .await?;
    out.took = started.elapsed();
    out.added = d.add.len();
    out.deleted = d.delete.len();
    out.replaced = d.replaced;
    out.refused = refused;

    // The check that the next round would find nothing to do.
    let after = our_flows(conn, cookie).await?;
    let again = diff(desired, &after, &keep);
    if !again.is_empty() && refused == 0 {
        for p in &again.add {
            warn!(
                "after convergence the switch still lacks `{}` (it reports our flows in a form not recognized as planned; they will be rewritten each round)",
                p.text
            );
        }
        for f in &again.delete {
            warn!(
                "after convergence the switch still holds unplanned table={},{}",
                f.table_id,
                format_match_with_priority(f.priority, &f.match_)
            );
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::fake_switch::FakeSwitch;
    use super::*;
    use ofproto::consts::OFPMPF_REPLY_MORE;
    use ofproto::multipart::{MultipartReply, MultipartRequest};
    use ofproto::oxm::Match;
    use ofproto::text::{parse_flow, FlowCommand};

    const COOKIE: u64 = 0x7466_0000_0000_0001;

    fn planned(text: &str) -> PlannedFlow {
        let mut flow_mod = parse_flow(text, FlowCommand::Add).unwrap();
        flow_mod.cookie = COOKIE;
        PlannedFlow {
            text: text.into(),
            flow_mod,
        }
    }

    fn on_switch(p: &PlannedFlow) -> FlowStats {
        let fm = &p.flow_mod;
        let mut fields = fm.match_.fields.clone();
        fields.reverse(); // the switch's own order
        FlowStats {
            table_id: fm.table_id,
            priority: fm.priority,
            idle_timeout: fm.idle_timeout,
            hard_timeout: fm.hard_timeout,
            cookie: fm.cookie,
            match_: ofproto::oxm::Match::new(fields),
            instructions: fm.instructions.clone(),
            duration_sec: 100,
            ..FlowStats::default()
        }
    }

    fn texts(d: &Diff) -> Vec<String> {
        d.add.iter().map(|p| p.text.clone()).collect()
    }

    #[test]
    fn nothing_to_do_when_the_switch_holds_the_plan() {
        let plan = vec![
            planned("priority=100,arp,arp_tpa=10.0.0.1 actions=output:1"),
            planned("priority=100,ip,nw_dst=10.0.0.1 actions=output:1"),
            planned("priority=0 actions=drop"),
        ];
        let current: Vec<FlowStats> = plan.iter().map(on_switch).collect();
        let d = diff(&plan, &current, |_| false);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(d.unchanged, 3);
    }

    #[test]
    fn missing_flows_are_added_stale_ones_deleted_unchanged_ones_kept() {
        let old = [
            planned("priority=100,ip,nw_dst=10.0.0.1 actions=output:1"),
            planned("priority=100,ip,nw_dst=10.0.0.9 actions=output:9"),
        ];
        let new = vec![
            planned("priority=100,ip,nw_dst=10.0.0.1 actions=output:1"),
            planned("priority=100,ip,nw_dst=10.0.0.2 actions=output:2"),
        ];
        let current: Vec<FlowStats> = old.iter().map(on_switch).collect();
        let d = diff(&new, &current, |_| false);
        assert_eq!(texts(&d), vec![new[1].text.clone()]);
        assert_eq!(d.delete.len(), 1);
        assert_eq!(d.delete[0], current[1]);
        assert_eq!((d.unchanged, d.replaced), (1, 0));
    }

    #[test]
    fn changed_actions_at_the_same_place_are_replaced_by_the_add_not_deleted() {
        let old = [planned("priority=100,ip,nw_dst=10.0.0.1 actions=output:1")];
        let new = vec![planned("priority=100,ip,nw_dst=10.0.0.1 actions=output:3")];
        let current: Vec<FlowStats> = old.iter().map(on_switch).collect();
        let d = diff(&new, &current, |_| false);
        assert_eq!(texts(&d), vec![new[0].text.clone()]);
        assert!(
            d.delete.is_empty(),
            "deleting it would remove the new flow too"
        );
        assert_eq!(d.replaced, 1);
    }

    #[test]
    fn kept_flows_are_neither_deleted_nor_counted() {
        let learned = planned("priority=1,in_port=1,dl_dst=52:54:00:00:00:02,dl_src=52:54:00:00:00:01 actions=output:2");
        let plan = vec![planned("priority=0 actions=CONTROLLER:65535")];
        let current = vec![on_switch(&learned), on_switch(&plan[0])];
        let d = diff(&plan, &current, |f| f.priority == 1);
        assert!(d.is_empty(), "{d:?}");
        let d = diff(&plan, &current, |_| false);
        assert_eq!(d.delete.len(), 1);
    }

    #[test]
    fn a_plan_listing_a_flow_twice_adds_it_once() {
        let plan = vec![
            planned("priority=5,arp actions=output:1"),
            planned("priority=5,arp actions=output:1"),
        ];
        let d = diff(&plan, &[], |_| false);
        assert_eq!(d.add.len(), 1);
    }

    /// A switch's flow table with OpenFlow's ADD/DELETE_STRICT semantics,
    /// answering FLOW_STATS (cookie-filtered, in parts) and BARRIER; it
    /// reports matches in reverse field order, as a switch with its own
    /// canonical order would. Returns every FLOW_MOD it got.
    async fn serve_table(
        mut sw: FakeSwitch,
        mut table: Vec<FlowStats>,
    ) -> (Vec<FlowMod>, Vec<FlowStats>) {
        let mut mods = Vec::new();
        while let Some((xid, m)) = sw.try_next().await {
            match m {
                Message::MultipartRequest(MultipartRequest {
                    body: MultipartRequestBody::Flow(req),
                    ..
                }) => {
                    let ours: Vec<FlowStats> = table
                        .iter()
                        .filter(|f| f.cookie & req.cookie_mask == req.cookie & req.cookie_mask)
                        .cloned()
                        .collect();
                    // Two parts, the first flagged MORE.
                    let (a, b) = ours.split_at(ours.len() / 2);
                    for (flags, part) in [(OFPMPF_REPLY_MORE, a), (0, b)] {
                        let body = MultipartReplyBody::Flow(part.to_vec());
                        sw.send(xid, Message::MultipartReply(MultipartReply { flags, body }))
                            .await;
                    }
                }
                Message::FlowMod(fm) => {
                    let same_place = |f: &FlowStats| {
                        FlowKey::of_stats(f).place == FlowKey::of_flow_mod(&fm).place
                    };
                    match fm.command {
                        OFPFC_ADD => {
                            table.retain(|f| !same_place(f));
                            let mut fields = fm.match_.fields.clone();
                            fields.reverse();
                            table.push(FlowStats {
                                table_id: fm.table_id,
                                priority: fm.priority,
                                cookie: fm.cookie,
                                match_: Match::new(fields),
                                instructions: fm.instructions.clone(),
                                ..FlowStats::default()
                            });
                        }
                        OFPFC_DELETE_STRICT => table.retain(|f| {
                            !(same_place(f)
                                && f.cookie & fm.cookie_mask == fm.cookie & fm.cookie_mask)
                        }),
                        c => panic!("unexpected flow mod command {c}"),
                    }
                    mods.push(fm);
                }
                Message::BarrierRequest => sw.send(xid, Message::BarrierReply).await,
                m => panic!("unexpected {m:?}"),
            }
        }
        (mods, table)
    }

    #[tokio::test]
    async fn a_round_over_the_wire_touches_only_what_differs_and_a_second_finds_nothing() {
        let (ours, mut sw) = FakeSwitch::pair();
        let keep = planned("priority=100,ip,nw_dst=10.0.0.1 actions=output:1");
        let stale = planned("priority=100,ip,nw_dst=10.0.0.9 actions=output:9");
        let new = planned("table=1,priority=90,dl_vlan=10,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=pop_vlan,output:1,output:2");
        let mut foreign = on_switch(&stale);
        foreign.cookie = 0x1234;
        let table = vec![on_switch(&keep), on_switch(&stale), foreign.clone()];
        let plan = vec![keep.clone(), new.clone()];
        let ctl = tokio::spawn(async move {
            let (mut c, _) = OfConn::handshake(ours).await.unwrap();
            let first = converge(&mut c, COOKIE, &plan, |_| false, Instant::now())
                .await
                .unwrap();
            let second = converge(&mut c, COOKIE, &plan, |_| false, Instant::now())
                .await
                .unwrap();
            (first, second)
        });
        sw.handshake(0xa1).await;
        let served = tokio::spawn(serve_table(sw, table));
        let (first, second) = ctl.await.unwrap();
        let (mods, table) = served.await.unwrap();
        assert_eq!(
            (
                first.unchanged,
                first.added,
                first.deleted,
                first.replaced,
                first.refused
            ),
            (1, 1, 1, 0, 0)
        );
        assert_eq!((second.unchanged, second.added, second.deleted), (2, 0, 0));
        assert_eq!(mods.len(), 2, "one delete, one add: {mods:#?}");
        assert_eq!(mods[0].command, OFPFC_DELETE_STRICT);
        assert_eq!(mods[1], add(&new, COOKIE));
        assert!(
            table.contains(&foreign),
            "another cookie's flow at the same place survives"
        );
        assert_eq!(table.len(), 3);
    }

    #[test]
    fn delete_strict_names_our_cookie_with_a_full_mask() {
        let f = on_switch(&planned("table=1,priority=7,ip actions=drop"));
        let fm = delete_strict(&f, COOKIE);
        assert_eq!(fm.command, OFPFC_DELETE_STRICT);
        assert_eq!((fm.cookie, fm.cookie_mask), (COOKIE, u64::MAX));
        assert_eq!((fm.table_id, fm.priority), (1, 7));
        assert_eq!(fm.match_, f.match_);
        assert_eq!((fm.out_port, fm.out_group), (OFPP_ANY, OFPG_ANY));
    }
}
