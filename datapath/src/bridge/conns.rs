//! Per-connection state the owner task keeps: role, asynchronous-message
//! configuration, `miss_send_len`; and the bridge-wide role election
//! (generation_id).
//!
//! Roles (OF1.3.5 §6.3.7, ROLE_REQUEST §7.3.9): every primary connection
//! starts EQUAL. A MASTER or SLAVE request carries a generation_id; one
//! older than the newest seen (compared as a wrapping signed distance) is
//! refused with `OFPRRFC_STALE`; EQUAL and NOCHANGE ignore it; any other
//! role value is `OFPRRFC_BAD_ROLE`. A new MASTER turns the previous master
//! (not EQUAL connections) into a SLAVE. The ROLE_REPLY carries the newest
//! generation_id, all ones while none was seen (as OVS). Slaves may not send
//! packets or change the switch: FLOW_MOD, GROUP_MOD, METER_MOD, PORT_MOD,
//! TABLE_MOD, PACKET_OUT and a TABLE_FEATURES request with a body get
//! `OFPBRC_IS_SLAVE` (the spec's list, plus METER_MOD as OVS); queries,
//! ROLE_REQUEST, SET_ASYNC/GET_ASYNC and SET_CONFIG's per-connection
//! `miss_send_len` are served (a slave's fragment flags are ignored, as OVS).
//!
//! Asynchronous messages go to a connection when its mask for its role (one
//! half for master/equal, one for slave; SET_ASYNC sets both) has the
//! message's reason bit set. Defaults (§7.3.10, same as OVS for OF1.3):
//! master/equal get PACKET_IN for NO_MATCH and ACTION (not INVALID_TTL),
//! every PORT_STATUS and every FLOW_REMOVED; slaves get PORT_STATUS only.
//! Service connections (the `.mgmt` socket) get none until they ask, as in
//! OVS: SET_CONFIG with a non-zero `miss_send_len`, or SET_ASYNC.

use super::event::{ConnHandle, ConnKind};
use ofproto::consts::*;
use ofproto::error::{ErrorCode, OFPRRFC_BAD_ROLE, OFPRRFC_STALE, OFPRRFC_UNSUP};
use ofproto::message::AsyncConfig;

/// Which kind of asynchronous message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsyncKind {
    PacketIn,
    PortStatus,
    FlowRemoved,
}

/// The spec's default masks (index 0: master/equal, 1: slave).
pub fn default_async_config() -> AsyncConfig {
    AsyncConfig {
        packet_in_mask: [(1 << OFPR_NO_MATCH) | (1 << OFPR_ACTION), 0],
        port_status_mask: [
            (1 << OFPPR_ADD) | (1 << OFPPR_DELETE) | (1 << OFPPR_MODIFY),
            (1 << OFPPR_ADD) | (1 << OFPPR_DELETE) | (1 << OFPPR_MODIFY),
        ],
        flow_removed_mask: [
            (1 << OFPRR_IDLE_TIMEOUT)
                | (1 << OFPRR_HARD_TIMEOUT)
                | (1 << OFPRR_DELETE)
                | (1 << OFPRR_GROUP_DELETE),
            0,
        ],
    }
}

/// One connection as the owner task tracks it.
#[derive(Debug)]
pub struct Conn {
    pub handle: ConnHandle,
    /// `OFPCR_ROLE_EQUAL`, `_MASTER` or `_SLAVE`.
    pub role: u32,
    pub async_cfg: AsyncConfig,
    /// From SET_CONFIG (OFP_DEFAULT_MISS_SEND_LEN for primary connections,
    /// 0 for service ones, as in OVS).
    pub miss_send_len: u16,
    /// A service connection that asked for asynchronous messages.
    pub async_requested: bool,
}

impl Conn {
    pub fn new(handle: ConnHandle) -> Conn {
        let miss_send_len = match handle.kind {
            ConnKind::Primary => OFP_DEFAULT_MISS_SEND_LEN,
            ConnKind::Service => 0,
        };
        Conn {
            handle,
            role: OFPCR_ROLE_EQUAL,
            async_cfg: default_async_config(),
            miss_send_len,
            async_requested: false,
        }
    }

    pub fn is_slave(&self) -> bool {
        self.role == OFPCR_ROLE_SLAVE
    }

    pub fn is_primary(&self) -> bool {
        self.handle.kind == ConnKind::Primary
    }

    /// Whether asynchronous messages reach this connection at all.
    pub fn gets_async(&self) -> bool {
        self.is_primary() || self.async_requested || self.miss_send_len != 0
    }

    /// Whether this connection wants an asynchronous message of `kind` with
    /// `reason`.
    pub fn wants(&self, kind: AsyncKind, reason: u8) -> bool {
        if !self.gets_async() || reason >= 32 {
            return false;
        }
        let i = usize::from(self.is_slave());
        let mask = match kind {
            AsyncKind::PacketIn => self.async_cfg.packet_in_mask[i],
            AsyncKind::PortStatus => self.async_cfg.port_status_mask[i],
            AsyncKind::FlowRemoved => self.async_cfg.flow_removed_mask[i],
        };
        mask & (1 << reason) != 0
    }
}

/// Bridge-wide role state.
#[derive(Debug, Default)]
pub struct Roles {
    /// The newest generation_id seen in a MASTER/SLAVE request.
    pub generation_id: Option<u64>,
}

/// What a ROLE_REQUEST does.
#[derive(Debug, PartialEq, Eq)]
pub struct RoleChange {
    /// The requester's role afterwards.
    pub role: u32,
    /// Whether other masters must be demoted to slave.
    pub demote_others: bool,
}

impl Roles {
    /// Decides a ROLE_REQUEST from a connection of `kind` whose role is
    /// `current`; updates the generation on success.
    pub fn request(
        &mut self,
        kind: ConnKind,
        current: u32,
        role: u32,
        generation_id: u64,
    ) -> Result<RoleChange, ErrorCode> {
        if kind == ConnKind::Service {
            return Err(OFPRRFC_UNSUP);
        }
        match role {
            OFPCR_ROLE_NOCHANGE => Ok(RoleChange {
                role: current,
                demote_others: false,
            }),
            OFPCR_ROLE_EQUAL => Ok(RoleChange {
                role,
                demote_others: false,
            }),
            OFPCR_ROLE_MASTER | OFPCR_ROLE_SLAVE => {
                if let Some(g) = self.generation_id {
                    if (generation_id.wrapping_sub(g) as i64) < 0 {
                        return Err(OFPRRFC_STALE);
                    }
                }
                self.generation_id = Some(generation_id);
                Ok(RoleChange {
                    role,
                    demote_others: role == OFPCR_ROLE_MASTER,
                })
            }
            _ => Err(OFPRRFC_BAD_ROLE),
        }
    }

    /// The generation_id a ROLE_REPLY carries (all ones while undefined).
    pub fn reply_generation(&self) -> u64 {
        self.generation_id.unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc;

    fn conn(kind: ConnKind) -> Conn {
        let (tx, _rx) = mpsc::channel(1);
        Conn::new(ConnHandle {
            id: 1,
            kind,
            peer: "test".into(),
            tx,
        })
    }

    #[test]
    fn primary_defaults_follow_the_spec() {
        let c = conn(ConnKind::Primary);
        assert!(c.wants(AsyncKind::PacketIn, OFPR_NO_MATCH));
        assert!(c.wants(AsyncKind::PacketIn, OFPR_ACTION));
        assert!(!c.wants(AsyncKind::PacketIn, OFPR_INVALID_TTL));
        assert!(c.wants(AsyncKind::PortStatus, OFPPR_MODIFY));
        assert!(c.wants(AsyncKind::FlowRemoved, OFPRR_DELETE));
        assert_eq!(c.miss_send_len, 128);
    }

    #[test]
    fn slave_gets_only_port_status_by_default() {
        let mut c = conn(ConnKind::Primary);
        c.role = OFPCR_ROLE_SLAVE;
        assert!(!c.wants(AsyncKind::PacketIn, OFPR_NO_MATCH));
        assert!(c.wants(AsyncKind::PortStatus, OFPPR_ADD));
        assert!(!c.wants(AsyncKind::FlowRemoved, OFPRR_IDLE_TIMEOUT));
    }

    #[test]
    fn service_connection_gets_async_only_after_asking() {
        let mut c = conn(ConnKind::Service);
        assert!(!c.wants(AsyncKind::PortStatus, OFPPR_ADD));
        c.miss_send_len = 128;
        assert!(c.wants(AsyncKind::PortStatus, OFPPR_ADD));
        c.miss_send_len = 0;
        c.async_requested = true;
        assert!(c.wants(AsyncKind::PacketIn, OFPR_ACTION));
    }

    #[test]
    fn stale_generation_is_refused_and_master_demotes() {
        let mut r = Roles::default();
        let p = ConnKind::Primary;
        assert_eq!(r.reply_generation(), u64::MAX);
        let ch = r
            .request(p, OFPCR_ROLE_EQUAL, OFPCR_ROLE_MASTER, 10)
            .unwrap();
        assert_eq!(
            ch,
            RoleChange {
                role: OFPCR_ROLE_MASTER,
                demote_others: true
            }
        );
        assert_eq!(
            r.request(p, OFPCR_ROLE_EQUAL, OFPCR_ROLE_SLAVE, 9),
            Err(OFPRRFC_STALE)
        );
        assert_eq!(r.generation_id, Some(10));
        // Same generation is not stale.
        assert!(r.request(p, OFPCR_ROLE_EQUAL, OFPCR_ROLE_SLAVE, 10).is_ok());
        // Equal ignores the generation.
        assert!(r.request(p, OFPCR_ROLE_SLAVE, OFPCR_ROLE_EQUAL, 0).is_ok());
        // Wrapping comparison: u64::MAX is older than 1 after a wrap.
        r.generation_id = Some(u64::MAX);
        assert!(r.request(p, OFPCR_ROLE_EQUAL, OFPCR_ROLE_MASTER, 1).is_ok());
        // NOCHANGE keeps the role.
        let ch = r
            .request(p, OFPCR_ROLE_SLAVE, OFPCR_ROLE_NOCHANGE, 0)
            .unwrap();
        assert_eq!(ch.role, OFPCR_ROLE_SLAVE);
        assert_eq!(r.request(p, OFPCR_ROLE_EQUAL, 7, 0), Err(OFPRRFC_BAD_ROLE));
        assert_eq!(
            r.request(ConnKind::Service, OFPCR_ROLE_EQUAL, OFPCR_ROLE_MASTER, 99),
            Err(OFPRRFC_UNSUP)
        );
    }
}
