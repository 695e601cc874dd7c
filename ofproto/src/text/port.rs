//! Port numbers and names as ovs-ofctl reads and prints them.
//!
//! Reserved ports go by name (case-insensitive on input, upper case on
//! output). Numbers are decimal only (`in_port=0x10` is an error in
//! ovs-ofctl too). OpenFlow 1.0's 16-bit reserved numbers (0xff00–0xffff) are
//! translated to their 32-bit OpenFlow 1.1+ values, and ovs-ofctl prints the
//! 32-bit range 0xffffff00–0xfffffff7 back as those 16-bit numbers.

use super::lex::parse_dec;
use crate::consts::*;

const NAMES: [(&str, u32); 9] = [
    ("IN_PORT", OFPP_IN_PORT),
    ("TABLE", OFPP_TABLE),
    ("NORMAL", OFPP_NORMAL),
    ("FLOOD", OFPP_FLOOD),
    ("ALL", OFPP_ALL),
    ("CONTROLLER", OFPP_CONTROLLER),
    ("LOCAL", OFPP_LOCAL),
    ("ANY", OFPP_ANY),
    ("NONE", OFPP_ANY),
];

/// Parses a port name or number; `None` if it is neither.
pub fn parse_port(s: &str) -> Option<u32> {
    if let Some(&(_, p)) = NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(s)) {
        return Some(p);
    }
    let n = parse_dec(s)?;
    match n {
        0..=0xfeff => Some(n as u32),
        // OpenFlow 1.0 reserved numbers.
        0xff00..=0xffff => Some(0xffff_0000 | n as u32),
        // A 32-bit number outside OpenFlow 1.0's range (ovs-ofctl itself only
        // takes 16-bit numbers; our switch numbers ports in 32 bits).
        0x1_0000..=0xffff_ffff => Some(n as u32),
        _ => None,
    }
}

/// Formats a port as ovs-ofctl does (`2`, `LOCAL`, `CONTROLLER`, `65280`).
pub fn format_port(p: u32) -> String {
    match p {
        OFPP_ANY => "ANY".to_string(),
        OFPP_IN_PORT..=OFPP_LOCAL => reserved_port_name(p).unwrap_or("?").to_string(),
        OFPP_MAX..=0xffff_fff7 => (p - 0xffff_0000).to_string(),
        _ => p.to_string(),
    }
}

/// Whether `output:p` is legal: not ANY and not in the unnamed reserved range.
pub(crate) fn valid_output_port(p: u32) -> bool {
    p < OFPP_MAX || (OFPP_IN_PORT..=OFPP_LOCAL).contains(&p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_parse_names_numbers_and_of10_reserved_values() {
        assert_eq!(parse_port("LOCAL"), Some(OFPP_LOCAL));
        assert_eq!(parse_port("local"), Some(OFPP_LOCAL));
        assert_eq!(parse_port("in_port"), Some(OFPP_IN_PORT));
        assert_eq!(parse_port("NONE"), Some(OFPP_ANY));
        assert_eq!(parse_port("01"), Some(1));
        assert_eq!(parse_port("65534"), Some(OFPP_LOCAL));
        assert_eq!(parse_port("65535"), Some(OFPP_ANY));
        assert_eq!(parse_port("65280"), Some(OFPP_MAX));
        assert_eq!(parse_port("4294967040"), Some(OFPP_MAX));
        assert_eq!(parse_port("0x10"), None);
        assert_eq!(parse_port("-1"), None);
        assert_eq!(parse_port("foo"), None);
        assert_eq!(parse_port(""), None);
    }

    #[test]
    fn ports_format_like_ovs_ofctl() {
        assert_eq!(format_port(2), "2");
        assert_eq!(format_port(OFPP_CONTROLLER), "CONTROLLER");
        assert_eq!(format_port(OFPP_ANY), "ANY");
        assert_eq!(format_port(OFPP_MAX), "65280");
        for p in [
            0,
            7,
            0xfeff,
            70000,
            OFPP_MAX,
            0xffff_fff7,
            OFPP_IN_PORT,
            OFPP_LOCAL,
            OFPP_ANY,
        ] {
            assert_eq!(parse_port(&format_port(p)), Some(p), "{p:#x}");
        }
    }
}
