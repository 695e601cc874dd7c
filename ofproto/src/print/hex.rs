//! Hex in and out: ovs-ofctl's hex dump (`ds_put_hex_dump` with its ASCII
//! column), and the hex `tapflow ofp-print` reads.

use std::fmt::Write;

/// Hex dump in ovs-ofctl's layout, one line per 16 bytes, each ending with
/// a newline: the offset, two spaces, each byte followed by a space (a `-`
/// after the 8th), then the bytes as ASCII (`.` for the unprintable)
/// between bars. A short last line is padded to full width, bars included:
///
/// ```text
/// 00000000  41 42 43 44 45 46 47 48-49 4a 4b 4c 4d 4e 4f 50 |ABCDEFGHIJKLMNOP|
/// 00000010  51                                              |Q               |
/// ```
pub fn hex_dump(data: &[u8]) -> String {
    let mut s = String::with_capacity(data.len().div_ceil(16) * 78);
    for (i, chunk) in data.chunks(16).enumerate() {
        let _ = write!(s, "{:08x}  ", i * 16);
        for j in 0..16 {
            match chunk.get(j) {
                Some(b) => {
                    let _ = write!(s, "{b:02x}{}", if j == 7 { '-' } else { ' ' });
                }
                None => s.push_str("   "),
            }
        }
        s.push('|');
        s.extend((0..16).map(|j| match chunk.get(j) {
            Some(&b) if (0x20..0x7f).contains(&b) => b as char,
            Some(_) => '.',
            None => ' ',
        }));
        s.push_str("|\n");
    }
    s
}

/// Parses the hex `tapflow ofp-print` accepts: digits with optional
/// whitespace, `0x` prefix, and `:`/`-` separators.
pub fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let s = s.trim();
    let s = s.strip_prefix("0x").unwrap_or(s);
    let digits: Vec<u8> = s
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b':' && *c != b'-')
        .collect();
    if digits.len() % 2 != 0 {
        return Err(format!(
            "odd number of hex digits ({}): each byte needs two",
            digits.len()
        ));
    }
    digits
        .chunks(2)
        .enumerate()
        .map(|(i, p)| {
            std::str::from_utf8(p)
                .ok()
                .and_then(|t| u8::from_str_radix(t, 16).ok())
                .ok_or_else(|| {
                    format!(
                        "invalid hex byte '{}' at byte {i}",
                        String::from_utf8_lossy(p)
                    )
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // The expected dumps are ovs-ofctl 3.1's (`ofp-print` of ECHO_REQUESTs
    // carrying these payloads).
    #[test]
    fn hex_dump_pads_a_short_last_line_as_ovs_ofctl() {
        assert_eq!(hex_dump(&[]), "");
        assert_eq!(
            hex_dump(b"A"),
            "00000000  41                                              |A               |\n"
        );
        assert_eq!(
            hex_dump(b"ABCDEFGH"),
            "00000000  41 42 43 44 45 46 47 48-                        |ABCDEFGH        |\n"
        );
        assert_eq!(
            hex_dump(b"ABCDEFGHIJKLMNOPQ"),
            "00000000  41 42 43 44 45 46 47 48-49 4a 4b 4c 4d 4e 4f 50 |ABCDEFGHIJKLMNOP|\n\
             00000010  51                                              |Q               |\n"
        );
        let all: Vec<u8> = (0..33).collect();
        assert_eq!(
            hex_dump(&all),
            "00000000  00 01 02 03 04 05 06 07-08 09 0a 0b 0c 0d 0e 0f |................|\n\
             00000010  10 11 12 13 14 15 16 17-18 19 1a 1b 1c 1d 1e 1f |................|\n\
             00000020  20                                              |                |\n"
        );
        assert_eq!(
            hex_dump(b"\x7e\x7f\x80 "),
            "00000000  7e 7f 80 20                                     |~..             |\n"
        );
    }

    #[test]
    fn hex_input_forms() {
        assert_eq!(
            parse_hex("0x0400 0008:0000-0001").unwrap(),
            vec![4, 0, 0, 8, 0, 0, 0, 1]
        );
        assert!(parse_hex("040").unwrap_err().contains("odd"));
        assert!(parse_hex("zz").unwrap_err().contains("'zz'"));
    }
}
