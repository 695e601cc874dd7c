//! Group and meter verbs, as `ovs-ofctl -O OpenFlow13` spells and prints
//! them: `add-group`, `mod-group`, `del-groups`, `dump-groups`,
//! `dump-group-stats`, `dump-group-features`, `add-meter`, `mod-meter`,
//! `del-meters`, `dump-meters`, `meter-stats`, `meter-features`.
//!
//! Mods print nothing on success (one BARRIER after the mod collects the
//! switch's error, printed as ovs-ofctl prints it, exit 1); dumps print
//! every reply as ofp-print does.

use super::openflow::{emit_all, mp, print_multipart, Session};
use super::{CliError, Options};
use ofproto::consts::*;
use ofproto::multipart::{
    GroupStatsRequest, MeterConfigRequest, MeterStatsRequest, MultipartReply,
    MultipartReplyBody as Rep, MultipartRequestBody as Req,
};
use ofproto::text::{self, GroupCommand, MeterCommand};
use ofproto::Message;
use std::io::Write;

fn one_mod(o: &Options, target: &str, msg: Message) -> Result<(), CliError> {
    let mut s = Session::open(o, target)?;
    s.send(msg)?;
    s.barrier()
}

/// `add-group`/`mod-group`/`del-groups TARGET [GROUP]`.
pub fn group_mod(
    o: &Options,
    target: &str,
    spec: Option<&str>,
    cmd: GroupCommand,
) -> Result<(), CliError> {
    let spec = spec.unwrap_or("");
    let gm = text::parse_group_cmd(spec, cmd)
        .map_err(|e| CliError::Usage(format!("bad group {spec:?}: {e}")))?;
    one_mod(o, target, Message::GroupMod(gm))
}

/// `add-meter`/`mod-meter`/`del-meters TARGET [METER]`.
pub fn meter_mod(
    o: &Options,
    target: &str,
    spec: Option<&str>,
    cmd: MeterCommand,
) -> Result<(), CliError> {
    let spec = spec.unwrap_or("");
    let mut mm = if spec.is_empty() && cmd == MeterCommand::Delete {
        ofproto::meter::MeterMod {
            command: OFPMC_DELETE,
            meter_id: OFPM_ALL,
            ..Default::default()
        }
    } else {
        text::parse_meter_cmd(spec, cmd)
            .map_err(|e| CliError::Usage(format!("bad meter {spec:?}: {e}")))?
    };
    mm.command = cmd.wire();
    one_mod(o, target, Message::MeterMod(mm))
}

/// `N`, `KEY=N`, `KEY=all` (or nothing: all) → an id.
fn id_arg(arg: Option<&str>, key: &str, all: u32, max: u32) -> Result<u32, CliError> {
    let Some(a) = arg.map(str::trim).filter(|a| !a.is_empty()) else {
        return Ok(all);
    };
    let v = a
        .strip_prefix(key)
        .and_then(|r| r.strip_prefix('='))
        .unwrap_or(a);
    if v.eq_ignore_ascii_case("all") {
        return Ok(all);
    }
    let n = if let Some(h) = v.strip_prefix("0x") {
        u32::from_str_radix(h, 16).ok()
    } else {
        v.parse::<u32>().ok()
    };
    match n {
        Some(n) if n <= max => Ok(n),
        _ => Err(CliError::Usage(format!(
            "{a:?}: expected {key}=N (N at most {max:#x}) or {key}=all"
        ))),
    }
}

/// `dump-groups TARGET [GROUP]`: GROUP_DESC (one group: only its entry).
pub fn dump_groups(
    o: &Options,
    target: &str,
    group: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let id = id_arg(group, "group_id", OFPG_ALL, OFPG_MAX)?;
    let mut s = Session::open(o, target)?;
    let (xid, mut r) = s.transact(mp(Req::GroupDesc))?;
    if id != OFPG_ALL {
        for m in &mut r {
            if let Message::MultipartReply(MultipartReply {
                body: Rep::GroupDesc(v),
                ..
            }) = m
            {
                v.retain(|g| g.group_id == id);
            }
        }
    }
    emit_all(out, xid, &r)
}

/// `dump-group-stats TARGET [GROUP]`.
pub fn dump_group_stats(
    o: &Options,
    target: &str,
    group: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let group_id = id_arg(group, "group_id", OFPG_ALL, OFPG_MAX)?;
    print_multipart(o, target, Req::Group(GroupStatsRequest { group_id }), out)
}

/// `dump-group-features TARGET`.
pub fn dump_group_features(o: &Options, target: &str, out: &mut dyn Write) -> Result<(), CliError> {
    print_multipart(o, target, Req::GroupFeatures, out)
}

/// `dump-meters TARGET [METER]`: METER_CONFIG.
pub fn dump_meters(
    o: &Options,
    target: &str,
    meter: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let meter_id = id_arg(meter, "meter", OFPM_ALL, OFPM_MAX)?;
    print_multipart(
        o,
        target,
        Req::MeterConfig(MeterConfigRequest { meter_id }),
        out,
    )
}

/// `meter-stats TARGET [METER]`.
pub fn meter_stats(
    o: &Options,
    target: &str,
    meter: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let meter_id = id_arg(meter, "meter", OFPM_ALL, OFPM_MAX)?;
    print_multipart(o, target, Req::Meter(MeterStatsRequest { meter_id }), out)
}

/// `meter-features TARGET`.
pub fn meter_features(o: &Options, target: &str, out: &mut dyn Write) -> Result<(), CliError> {
    print_multipart(o, target, Req::MeterFeatures, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_arguments() {
        let g = |a| id_arg(a, "group_id", OFPG_ALL, OFPG_MAX);
        assert_eq!(g(None), Ok(OFPG_ALL));
        assert_eq!(g(Some("group_id=7")), Ok(7));
        assert_eq!(g(Some("7")), Ok(7));
        assert_eq!(g(Some("group_id=all")), Ok(OFPG_ALL));
        assert_eq!(g(Some("0x10")), Ok(16));
        assert!(matches!(g(Some("group_id=x")), Err(CliError::Usage(_))));
        assert!(matches!(g(Some("4294967295")), Err(CliError::Usage(_))));
        let m = |a| id_arg(a, "meter", OFPM_ALL, OFPM_MAX);
        assert_eq!(m(Some("meter=3")), Ok(3));
        assert_eq!(m(Some("meter=all")), Ok(OFPM_ALL));
    }
}
