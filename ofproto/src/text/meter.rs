//! Meter specs as `ovs-ofctl -O OpenFlow13 add-meter/mod-meter/del-meter`
//! read them and `dump-meters`/`ofp-print` print them:
//! `meter=1,kbps,burst,stats,bands=type=drop rate=10000 burst_size=100`.
//!
//! Everything after `bands=` is bands; each band starts with `type=`.

use super::error::{Span, TextError};
use super::lex::*;
use crate::consts::*;
use crate::meter::{MeterBand, MeterMod};
use crate::multipart::MeterConfig;

/// `add-meter`, `mod-meter`, `del-meter(s)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MeterCommand {
    Add,
    Modify,
    Delete,
}

impl MeterCommand {
    pub fn wire(self) -> u16 {
        match self {
            MeterCommand::Add => OFPMC_ADD,
            MeterCommand::Modify => OFPMC_MODIFY,
            MeterCommand::Delete => OFPMC_DELETE,
        }
    }
}

const FLAGS: [(&str, u16); 4] = [
    ("kbps", OFPMF_KBPS),
    ("pktps", OFPMF_PKTPS),
    ("burst", OFPMF_BURST),
    ("stats", OFPMF_STATS),
];

/// Parses an `add-meter` spec.
pub fn parse_meter(s: &str) -> Result<MeterMod, TextError> {
    parse_meter_cmd(s, MeterCommand::Add)
}

/// A band being read: its `type=` token and fields.
struct BandText<'a> {
    tok: Span<'a>,
    kind: u16,
    rate: Option<u32>,
    burst_size: Option<(u32, Span<'a>)>,
    prec_level: Option<u8>,
}

/// Parses a meter spec for `cmd`; `del-meter` needs only `meter=` (all
/// meters when absent).
pub fn parse_meter_cmd(s: &str, cmd: MeterCommand) -> Result<MeterMod, TextError> {
    let mut mm = MeterMod {
        command: cmd.wire(),
        ..MeterMod::default()
    };
    let mut id = None;
    let mut bands_tok: Option<Span<'_>> = None;
    let mut bands: Vec<BandText<'_>> = Vec::new();
    for kv in split_all(s, 0)? {
        let e = |msg: String| TextError::at(kv.whole, msg);
        if bands_tok.is_some() {
            band_item(&kv, &mut bands)?;
            continue;
        }
        let val = kv.value.map(|v| v.text);
        match kv.key() {
            "meter" => {
                let v = val.ok_or_else(|| e("meter: missing value".into()))?;
                id = Some(match v {
                    "all" => OFPM_ALL,
                    "controller" => OFPM_CONTROLLER,
                    "slowpath" => OFPM_SLOWPATH,
                    _ => parse_uint(v)
                        .filter(|m| (1..=u64::from(OFPM_MAX)).contains(m))
                        .ok_or_else(|| e(format!("meter: invalid value {v:?}")))?
                        as u32,
                });
            }
            "bands" => {
                bands_tok = Some(kv.whole);
                if let Some(inner) = kv.value {
                    for item in split_all(inner.text, inner.pos)? {
                        band_item(&item, &mut bands)?;
                    }
                }
            }
            k => match FLAGS.iter().find(|f| f.0 == k) {
                Some(f) if val.is_none() => mm.flags |= f.1,
                Some(_) => return Err(e(format!("{k}: takes no value"))),
                None => return Err(e(format!("unknown keyword {k}"))),
            },
        }
    }
    let whole = |msg: &str| TextError::new(0, s, msg);
    mm.meter_id = match (id, cmd) {
        (Some(id), _) => id,
        (None, MeterCommand::Delete) => OFPM_ALL,
        (None, _) => return Err(whole("must specify 'meter'")),
    };
    if cmd == MeterCommand::Delete {
        return Ok(mm);
    }
    let rate_flags = mm.flags & (OFPMF_KBPS | OFPMF_PKTPS);
    if rate_flags == 0 || rate_flags == OFPMF_KBPS | OFPMF_PKTPS {
        return Err(whole("meter must specify either 'kbps' or 'pktps'"));
    }
    if bands_tok.is_none() || bands.is_empty() {
        return Err(match bands_tok {
            Some(t) => TextError::at(t, "must specify bands"),
            None => whole("must specify bands"),
        });
    }
    for b in bands {
        let err = |msg: &str| TextError::at(b.tok, msg.to_string());
        // As in ovs-ofctl, a zero rate or burst_size counts as missing.
        let rate = b
            .rate
            .filter(|r| *r != 0)
            .ok_or_else(|| err("band must have 'rate'"))?;
        let burst = mm.flags & OFPMF_BURST != 0;
        let burst_size = match b.burst_size.filter(|(v, _)| *v != 0) {
            Some((_, t)) if !burst => {
                return Err(TextError::at(
                    t,
                    "band may have 'burst_size' only when 'burst' flag is set",
                ))
            }
            Some((v, _)) => v,
            None if burst => {
                return Err(err("band must have 'burst_size' when 'burst' flag is set"))
            }
            None => 0,
        };
        mm.bands.push(match b.kind {
            OFPMBT_DROP => {
                if b.prec_level.is_some() {
                    return Err(err("'drop' band can't have 'prec_level'"));
                }
                MeterBand::Drop { rate, burst_size }
            }
            _ => MeterBand::DscpRemark {
                rate,
                burst_size,
                prec_level: b
                    .prec_level
                    .ok_or_else(|| err("'dscp_remark' band must have 'prec_level'"))?,
            },
        });
    }
    Ok(mm)
}

fn band_item<'a>(kv: &Kv<'a>, bands: &mut Vec<BandText<'a>>) -> Result<(), TextError> {
    let e = |msg: String| TextError::at(kv.whole, msg);
    let key = kv.key();
    let v = kv
        .value
        .map(|v| v.text)
        .ok_or_else(|| e(format!("{key}: missing value")))?;
    if key == "type" {
        let kind = match v {
            "drop" => OFPMBT_DROP,
            "dscp_remark" => OFPMBT_DSCP_REMARK,
            _ => {
                return Err(e(format!(
                    "type: unknown band type {v:?} (drop, dscp_remark)"
                )))
            }
        };
        bands.push(BandText {
            tok: kv.whole,
            kind,
            rate: None,
            burst_size: None,
            prec_level: None,
        });
        return Ok(());
    }
    let b = bands
        .last_mut()
        .ok_or_else(|| e("band must start with the 'type' keyword".into()))?;
    match key {
        "rate" => b.rate = Some(uint_max(key, v, u64::from(u32::MAX)).map_err(e)? as u32),
        "burst_size" => {
            b.burst_size = Some((
                uint_max(key, v, u64::from(u32::MAX)).map_err(e)? as u32,
                kv.whole,
            ))
        }
        "prec_level" => b.prec_level = Some(uint_max(key, v, 0xff).map_err(e)? as u8),
        _ => return Err(e(format!("unknown band field {key}"))),
    }
    Ok(())
}

/// ovs-ofctl's meter id: a number, or `all`/`controller`/`slowpath`.
fn meter_id(id: u32) -> String {
    match id {
        0..=OFPM_MAX => id.to_string(),
        OFPM_SLOWPATH => "slowpath".into(),
        OFPM_CONTROLLER => "controller".into(),
        OFPM_ALL => "all".into(),
        _ => "unknown".into(),
    }
}

fn format_meter_body(flags: u16, id: u32, bands: &[MeterBand]) -> String {
    let mut s = format!("meter={}", meter_id(id));
    for (name, bit) in FLAGS {
        if flags & bit != 0 {
            s.push(' ');
            s += name;
        }
    }
    s += " bands=";
    let burst = flags & OFPMF_BURST != 0;
    for b in bands {
        let (ty, rate, bs) = match b {
            MeterBand::Drop { rate, burst_size } => ("drop".to_string(), rate, burst_size),
            MeterBand::DscpRemark {
                rate, burst_size, ..
            } => ("dscp_remark".to_string(), rate, burst_size),
            MeterBand::Experimenter {
                rate,
                burst_size,
                experimenter,
                ..
            } => (format!("experimenter({experimenter:#x})"), rate, burst_size),
        };
        s += &format!("\ntype={ty} rate={rate}");
        if burst {
            s += &format!(" burst_size={bs}");
        }
        if let MeterBand::DscpRemark { prec_level, .. } = b {
            s += &format!(" prec_level={prec_level}");
        }
    }
    s
}

/// A meter as ovs-ofctl prints it (one line, then one line per band), which
/// [`parse_meter_cmd`] reads back:
/// `meter=1 kbps burst stats bands=\ntype=drop rate=10000 burst_size=100`.
pub fn format_meter(mm: &MeterMod) -> String {
    format_meter_body(mm.flags, mm.meter_id, &mm.bands)
}

/// A METER_MOD as `ovs-ofctl ofp-print` prints it after the header:
/// `ADD meter=1 kbps bands=\ntype=drop rate=10`.
pub fn format_meter_mod(mm: &MeterMod) -> String {
    let cmd = match mm.command {
        OFPMC_ADD => "ADD".to_string(),
        OFPMC_MODIFY => "MOD".to_string(),
        OFPMC_DELETE => "DEL".to_string(),
        c => format!("cmd:{c}"),
    };
    format!("{cmd} {}", format_meter(mm))
}

/// One meter of `ovs-ofctl -O OpenFlow13 dump-meters` (meters are separated
/// by an empty line there).
pub fn format_meter_config(mc: &MeterConfig) -> String {
    format_meter_body(mc.flags, mc.meter_id, &mc.bands)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str, cmd: MeterCommand) -> (MeterMod, String) {
        let mm = parse_meter_cmd(s, cmd).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(
            parse_meter_cmd(&format_meter(&mm), cmd).unwrap(),
            mm,
            "{}",
            format_meter(&mm)
        );
        let p = format_meter_mod(&mm);
        (mm, p)
    }

    // Expected: what `ovs-ofctl -O OpenFlow13 add-meter` sent (decoded) and
    // what `ovs-ofctl ofp-print` printed for it.
    #[test]
    fn meter_specs_parse_like_ovs_ofctl() {
        let (mm, p) = m(
            "meter=1,kbps,burst,stats,bands=type=drop rate=10000 burst_size=100",
            MeterCommand::Add,
        );
        assert_eq!(
            mm,
            MeterMod {
                command: OFPMC_ADD,
                flags: OFPMF_KBPS | OFPMF_BURST | OFPMF_STATS,
                meter_id: 1,
                bands: vec![MeterBand::Drop {
                    rate: 10000,
                    burst_size: 100
                }],
            }
        );
        assert_eq!(
            p,
            "ADD meter=1 kbps burst stats bands=\ntype=drop rate=10000 burst_size=100"
        );
        let (mm, p) = m("meter=2,pktps,bands=type=drop,rate=100", MeterCommand::Add);
        assert_eq!(
            (mm.flags, mm.bands.clone()),
            (
                OFPMF_PKTPS,
                vec![MeterBand::Drop {
                    rate: 100,
                    burst_size: 0
                }]
            )
        );
        assert_eq!(p, "ADD meter=2 pktps bands=\ntype=drop rate=100");
        let (mm, p) = m(
            "meter=3 kbps bands=type=dscp_remark rate=100 prec_level=2 type=drop rate=200",
            MeterCommand::Add,
        );
        assert_eq!(
            mm.bands,
            vec![
                MeterBand::DscpRemark {
                    rate: 100,
                    burst_size: 0,
                    prec_level: 2
                },
                MeterBand::Drop {
                    rate: 200,
                    burst_size: 0
                }
            ]
        );
        assert_eq!(
            p,
            "ADD meter=3 kbps bands=\ntype=dscp_remark rate=100 prec_level=2\ntype=drop rate=200"
        );
        assert_eq!(
            m("meter=all,kbps,bands=type=drop,rate=100", MeterCommand::Add)
                .0
                .meter_id,
            OFPM_ALL
        );
        assert_eq!(
            m(
                "meter=controller,kbps,bands=type=drop,rate=100",
                MeterCommand::Add
            )
            .1,
            "ADD meter=controller kbps bands=\ntype=drop rate=100"
        );
        assert_eq!(
            m(
                "meter=slowpath,kbps,bands=type=drop,rate=100",
                MeterCommand::Add
            )
            .0
            .meter_id,
            OFPM_SLOWPATH
        );
        assert_eq!(
            m("meter=1,kbps,bands=type=drop,rate=5", MeterCommand::Modify).1,
            "MOD meter=1 kbps bands=\ntype=drop rate=5"
        );
        let (mm, p) = m("meter=1", MeterCommand::Delete);
        assert_eq!(
            (mm.command, mm.flags, mm.meter_id, mm.bands.len()),
            (OFPMC_DELETE, 0, 1, 0)
        );
        assert_eq!(p, "DEL meter=1 bands=");
        assert_eq!(m("", MeterCommand::Delete).0.meter_id, OFPM_ALL);
    }

    #[test]
    fn meter_print_of_hand_built_mods_and_configs() {
        let mm = MeterMod {
            command: OFPMC_ADD,
            flags: OFPMF_KBPS,
            meter_id: 1,
            bands: vec![MeterBand::Drop {
                rate: 10,
                burst_size: 5,
            }],
        };
        assert_eq!(
            format_meter_mod(&mm),
            "ADD meter=1 kbps bands=\ntype=drop rate=10"
        );
        let mm = MeterMod {
            command: OFPMC_ADD,
            flags: OFPMF_PKTPS | OFPMF_BURST | OFPMF_STATS,
            meter_id: 1,
            bands: vec![
                MeterBand::Drop {
                    rate: 10,
                    burst_size: 0,
                },
                MeterBand::DscpRemark {
                    rate: 10,
                    burst_size: 3,
                    prec_level: 5,
                },
            ],
        };
        assert_eq!(format_meter_mod(&mm), "ADD meter=1 pktps burst stats bands=\ntype=drop rate=10 burst_size=0\ntype=dscp_remark rate=10 burst_size=3 prec_level=5");
        let mm = MeterMod {
            command: OFPMC_ADD,
            flags: OFPMF_KBPS,
            meter_id: 0xffff_0001,
            bands: vec![],
        };
        assert_eq!(format_meter_mod(&mm), "ADD meter=unknown kbps bands=");
        // `ovs-ofctl -O OpenFlow13 dump-meters` against a fake switch.
        let mc = MeterConfig {
            flags: 0xd,
            meter_id: 1,
            bands: vec![MeterBand::Drop {
                rate: 10000,
                burst_size: 100,
            }],
        };
        assert_eq!(
            format_meter_config(&mc),
            "meter=1 kbps burst stats bands=\ntype=drop rate=10000 burst_size=100"
        );
        let mc = MeterConfig {
            flags: OFPMF_PKTPS,
            meter_id: 2,
            bands: vec![
                MeterBand::Drop {
                    rate: 10,
                    burst_size: 0,
                },
                MeterBand::DscpRemark {
                    rate: 20,
                    burst_size: 0,
                    prec_level: 2,
                },
            ],
        };
        assert_eq!(
            format_meter_config(&mc),
            "meter=2 pktps bands=\ntype=drop rate=10\ntype=dscp_remark rate=20 prec_level=2"
        );
    }

    #[test]
    fn meter_errors_name_the_token() {
        for (s, cmd, msg) in [
            ("meter=4,kbps", MeterCommand::Add, "must specify bands"),
            (
                "meter=4,kbps,bands=",
                MeterCommand::Add,
                "must specify bands",
            ),
            (
                "meter=5,bands=type=drop,rate=100",
                MeterCommand::Add,
                "either 'kbps' or 'pktps'",
            ),
            (
                "meter=11,kbps,pktps,bands=type=drop,rate=1",
                MeterCommand::Add,
                "either 'kbps' or 'pktps'",
            ),
            (
                "meter=6,kbps,bands=type=drop,rate=100,burst_size=5",
                MeterCommand::Add,
                "only when 'burst' flag is set",
            ),
            (
                "meter=7,pktps,burst,bands=type=dscp_remark,rate=100,burst_size=10",
                MeterCommand::Add,
                "must have 'prec_level'",
            ),
            (
                "meter=7,pktps,bands=type=drop,rate=1,prec_level=1",
                MeterCommand::Add,
                "can't have 'prec_level'",
            ),
            (
                "meter=8,kbps,bands=type=foo,rate=100",
                MeterCommand::Add,
                "unknown band type",
            ),
            (
                "meter=9,kbps,bands=rate=100",
                MeterCommand::Add,
                "must start with the 'type' keyword",
            ),
            (
                "meter=10,kbps,bands=type=drop",
                MeterCommand::Add,
                "must have 'rate'",
            ),
            (
                "meter=10,kbps,bands=type=drop,rate=0",
                MeterCommand::Add,
                "must have 'rate'",
            ),
            (
                "meter=1,kbps,burst,bands=type=drop,rate=100",
                MeterCommand::Add,
                "must have 'burst_size' when 'burst' flag is set",
            ),
            (
                "meter=1,kbps,burst,bands=type=drop,rate=100,burst_size=0",
                MeterCommand::Add,
                "must have 'burst_size' when 'burst' flag is set",
            ),
            (
                "meter=0,kbps,bands=type=drop,rate=1",
                MeterCommand::Add,
                "meter: invalid value",
            ),
            (
                "kbps,bands=type=drop,rate=1",
                MeterCommand::Add,
                "must specify 'meter'",
            ),
            (
                "meter=1,kbps,bogus,bands=type=drop,rate=1",
                MeterCommand::Add,
                "unknown keyword bogus",
            ),
            (
                "meter=1,kbps,bands=type=drop,rate=1,color=red",
                MeterCommand::Add,
                "unknown band field color",
            ),
            (
                "meter=1,kbps,bands=type=drop,rate=x",
                MeterCommand::Add,
                "invalid number",
            ),
        ] {
            let e = parse_meter_cmd(s, cmd).expect_err(s);
            assert!(e.msg.contains(msg), "{s}: {e}");
            assert!(s[e.pos..].starts_with(&e.token), "{s}: {e:?}");
        }
    }
}
