//! OFPT_ERROR as ovs-ofctl 3.1 prints it: the code's name, then what the
//! error carries — the offending request as `ofp_to_string` prints any
//! message (decoded when whole, else marked truncated or over-long and
//! dumped in hex), or for `OFPET_HELLO_FAILED` the switch's explanation.

use super::{error_name, push_dump, write_raw};
use crate::error::{OFPHFC_EPERM, OFPHFC_INCOMPATIBLE};
use crate::message::ErrorMsg;
use std::fmt::{self, Write};

pub(super) fn write_error(s: &mut String, e: &ErrorMsg) -> fmt::Result {
    match e {
        ErrorMsg::Standard { code, data } => {
            write!(s, " {}", error_name(*code))?;
            if *code == OFPHFC_INCOMPATIBLE || *code == OFPHFC_EPERM {
                // Text, not a message.
                if !data.is_empty() {
                    s.push('\n');
                    push_printable(s, data);
                }
            } else {
                s.push('\n');
                write_raw(s, data, false);
            }
        }
        ErrorMsg::Experimenter {
            exp_type,
            experimenter,
            data,
        } => {
            write!(s, " experimenter={experimenter:#x} exp_type={exp_type}")?;
            if !data.is_empty() {
                push_dump(s, data);
            }
        }
    }
    Ok(())
}

/// ovs's `ds_put_printable`: printable ASCII as is, other bytes and `\`
/// and `"` as a backslash and three octal digits.
fn push_printable(s: &mut String, data: &[u8]) {
    for &b in data {
        if (0x20..0x7f).contains(&b) && b != b'\\' && b != b'"' {
            s.push(b as char);
        } else {
            let _ = write!(s, "\\{b:03o}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_failed_text_escapes_like_ovs() {
        let mut s = String::new();
        push_printable(&mut s, b"a\"b\\c\x00\x01\xff");
        assert_eq!(s, "a\\042b\\134c\\000\\001\\377");
    }
}
