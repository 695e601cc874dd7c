//! What the controller knows of one switch's ports: filled from the
//! PORT_DESC reply, kept current by PORT_STATUS, turned into the
//! [`PortView`] the plan is computed from.

use crate::plan::PortView;
use ofproto::consts::{OFPPC_PORT_DOWN, OFPPR_DELETE, OFPPS_LINK_DOWN};
use ofproto::message::PortStatus;
use ofproto::port::PortDesc;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ports {
    by_no: BTreeMap<u32, PortDesc>,
}

/// A port carries traffic unless the administrator took it down
/// (OFPPC_PORT_DOWN) or it has no link (OFPPS_LINK_DOWN).
pub fn is_up(p: &PortDesc) -> bool {
    p.config & OFPPC_PORT_DOWN == 0 && p.state & OFPPS_LINK_DOWN == 0
}

impl Ports {
    pub fn from_desc(ports: impl IntoIterator<Item = PortDesc>) -> Ports {
        Ports {
            by_no: ports.into_iter().map(|p| (p.port_no, p)).collect(),
        }
    }

    /// Applies a PORT_STATUS; true if what the plan depends on (a name, a
    /// number, up/down) changed. Counters and speeds changing are not news.
    pub fn apply(&mut self, ps: &PortStatus) -> bool {
        let before = self.key();
        if ps.reason == OFPPR_DELETE {
            self.by_no.remove(&ps.desc.port_no);
        } else {
            self.by_no.insert(ps.desc.port_no, ps.desc.clone());
        }
        self.key() != before
    }

    /// (number, name, up) of every port: all the plan looks at.
    fn key(&self) -> Vec<(u32, String, bool)> {
        self.by_no
            .values()
            .map(|p| (p.port_no, p.name.clone(), is_up(p)))
            .collect()
    }

    pub fn view(&self) -> PortView {
        PortView {
            by_name: self
                .by_no
                .values()
                .map(|p| (p.name.clone(), p.port_no))
                .collect(),
            up: self
                .by_no
                .values()
                .filter(|p| is_up(p))
                .map(|p| p.port_no)
                .collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.by_no.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_no.is_empty()
    }

    /// `name(no)` for a log line.
    pub fn describe(&self, no: u32) -> String {
        match self.by_no.get(&no) {
            Some(p) => format!("{}({no})", p.name),
            None => no.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ofproto::consts::{OFPPR_ADD, OFPPR_MODIFY};

    fn port(no: u32, name: &str, config: u32, state: u32) -> PortDesc {
        PortDesc {
            port_no: no,
            name: name.into(),
            config,
            state,
            ..PortDesc::default()
        }
    }

    #[test]
    fn up_means_neither_admin_down_nor_link_down() {
        let p = Ports::from_desc([
            port(1, "a", 0, 0),
            port(2, "b", OFPPC_PORT_DOWN, 0),
            port(3, "c", 0, OFPPS_LINK_DOWN),
        ]);
        let v = p.view();
        assert_eq!(v.by_name.len(), 3);
        assert_eq!(v.by_name["b"], 2);
        assert!(v.up.contains(&1) && !v.up.contains(&2) && !v.up.contains(&3));
    }

    #[test]
    fn port_status_changes_only_count_when_the_plan_would_see_them() {
        let mut p = Ports::from_desc([port(1, "a", 0, 0)]);
        let mut ps = PortStatus {
            reason: OFPPR_MODIFY,
            desc: port(1, "a", 0, 0),
        };
        ps.desc.curr_speed = 10_000;
        assert!(!p.apply(&ps), "a speed change is not news");
        ps.desc.state = OFPPS_LINK_DOWN;
        assert!(p.apply(&ps), "link down is");
        assert!(!p.view().up.contains(&1));
        assert!(p.apply(&PortStatus {
            reason: OFPPR_ADD,
            desc: port(2, "b", 0, 0)
        }));
        assert!(p.apply(&PortStatus {
            reason: OFPPR_DELETE,
            desc: port(2, "b", 0, 0)
        }));
        assert_eq!(p.len(), 1);
    }
}
