//! Verbs that need no switch: decoding and encoding only.

use super::CliError;
use bytes::BytesMut;
use ofproto::codec::OfpCodec;
use ofproto::print::{format_message, hex_dump, ofp_print as print_one, parse_hex};
use ofproto::text::{self, FlowCommand};
use ofproto::{Message, OFP_VERSION};
use std::io::Read;
use tokio_util::codec::Decoder;

/// `ofp-print HEX|FILE`: every message in the input, one after another,
/// each as `ofproto::print` (ovs-ofctl's `ofp-print` text) prints it.
pub fn ofp_print(input: &str) -> Result<String, CliError> {
    let bytes = match std::fs::read(input) {
        Ok(b) => match std::str::from_utf8(&b) {
            // A file of hex text (as ovs-ofctl users keep them) or raw bytes.
            Ok(t)
                if t.trim()
                    .bytes()
                    .all(|c| c.is_ascii_hexdigit() || c.is_ascii_whitespace() || c == b':')
                    && !t.trim().is_empty() =>
            {
                parse_hex(t).map_err(|e| CliError::Usage(format!("{input}: {e}")))?
            }
            _ => b,
        },
        Err(_) => parse_hex(input).map_err(|e| {
            CliError::Usage(format!("'{input}' is neither a readable file nor hex: {e}"))
        })?,
    };
    if bytes.is_empty() {
        return Err(CliError::Usage("no bytes to decode".into()));
    }
    let mut out = String::new();
    let mut buf = BytesMut::from(&bytes[..]);
    let mut codec = OfpCodec;
    loop {
        match codec.decode(&mut buf) {
            Ok(Some(frame)) => {
                out += &print_one(&frame.raw);
                out.push('\n');
            }
            Ok(None) => break,
            Err(e) => {
                out += &format!("{e}\n{}", hex_dump(&buf));
                buf.clear();
                break;
            }
        }
    }
    if !buf.is_empty() {
        // Whatever is left is shorter than its header says: printed as
        // ovs-ofctl does, `(***truncated to N bytes from M***)` and a dump.
        out += &print_one(&buf);
        out.push('\n');
    }
    Ok(out)
}

fn flow_mod_text(fm: ofproto::message::FlowMod) -> String {
    let msg = Message::FlowMod(fm);
    let wire = msg.encode_to_vec(1);
    format!(
        "{}\n{}",
        format_message(OFP_VERSION, 1, &msg),
        hex_dump(&wire)
    )
}

/// `parse-flow FLOW`: the FLOW_MOD ovs-ofctl would send for it.
pub fn parse_flow(flow: &str) -> Result<String, CliError> {
    let fm =
        text::parse_flow(flow, FlowCommand::Add).map_err(|e| CliError::Usage(format!("{e}")))?;
    Ok(flow_mod_text(fm))
}

/// `parse-flows FILE|-`: every flow of an `add-flows` file.
pub fn parse_flows(file: &str) -> Result<String, CliError> {
    let mut content = String::new();
    if file == "-" {
        std::io::stdin()
            .read_to_string(&mut content)
            .map_err(|e| CliError::Failed(format!("stdin: {e}")))?;
    } else {
        content = std::fs::read_to_string(file)
            .map_err(|e| CliError::Usage(format!("cannot read {file}: {e}")))?;
    }
    let flows =
        text::parse_flows_file(&content).map_err(|e| CliError::Usage(format!("{file}: {e}")))?;
    Ok(flows.into_iter().map(flow_mod_text).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ofp_print_shows_stats_replies_as_ovs_ofctl() {
        // OFPST_TABLE reply, one table; `ovs-ofctl ofp-print` of the same hex.
        let out = ofp_print(
            "04130028000000020003000000000000000000000000000100000000000000020000000000000003",
        )
        .unwrap();
        assert_eq!(
            out,
            "OFPST_TABLE reply (OF1.3) (xid=0x2):\n  table 0:\n    active=1, lookup=2, matched=3\n"
        );
        // Everything else still goes through ofproto::print.
        assert_eq!(
            ofp_print("0414000800000007").unwrap(),
            "OFPT_BARRIER_REQUEST (OF1.3) (xid=0x7):\n"
        );
    }
}
