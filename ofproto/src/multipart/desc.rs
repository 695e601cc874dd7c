//! `OFPMP_DESC` reply: `ofp_desc`, five NUL-padded strings.

use crate::consts::{DESC_STR_LEN, SERIAL_NUM_LEN};
use crate::error::OFPBRC_BAD_LEN;
use crate::wire::{cstr, put_cstr, take_exact, PResult};
use bytes::BytesMut;

/// `sizeof(struct ofp_desc)`.
pub const OFP_DESC_LEN: usize = 4 * DESC_STR_LEN + SERIAL_NUM_LEN;

/// `ofp_desc`. Strings are decoded up to the first NUL (invalid UTF-8 is
/// replaced); on emit they are NUL-padded and cut to leave at least one NUL.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct Desc {
    pub mfr_desc: String,
    pub hw_desc: String,
    pub sw_desc: String,
    pub serial_num: String,
    pub dp_desc: String,
}

impl Desc {
    pub fn parse(i: &[u8]) -> PResult<'_, Desc> {
        let (rest, b) = take_exact(i, OFP_DESC_LEN, OFPBRC_BAD_LEN, "ofp_desc")?;
        let (mfr, b) = b.split_at(DESC_STR_LEN);
        let (hw, b) = b.split_at(DESC_STR_LEN);
        let (sw, b) = b.split_at(DESC_STR_LEN);
        let (serial, dp) = b.split_at(SERIAL_NUM_LEN);
        Ok((
            rest,
            Desc {
                mfr_desc: cstr(mfr),
                hw_desc: cstr(hw),
                sw_desc: cstr(sw),
                serial_num: cstr(serial),
                dp_desc: cstr(dp),
            },
        ))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        put_cstr(buf, &self.mfr_desc, DESC_STR_LEN);
        put_cstr(buf, &self.hw_desc, DESC_STR_LEN);
        put_cstr(buf, &self.sw_desc, DESC_STR_LEN);
        put_cstr(buf, &self.serial_num, SERIAL_NUM_LEN);
        put_cstr(buf, &self.dp_desc, DESC_STR_LEN);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn desc_round_trips_and_is_1056_bytes() {
        let d = Desc {
            mfr_desc: "tapflow project".into(),
            hw_desc: "software".into(),
            sw_desc: "0.1.0".into(),
            serial_num: "none".into(),
            dp_desc: "br0".into(),
        };
        let mut buf = BytesMut::new();
        d.emit(&mut buf);
        assert_eq!(buf.len(), OFP_DESC_LEN);
        assert_eq!(OFP_DESC_LEN, 1056);
        let (rest, back) = Desc::parse(&buf).unwrap();
        assert!(rest.is_empty());
        assert_eq!(back, d);
    }

    #[test]
    fn desc_too_short_is_bad_len() {
        let e = Desc::parse(&[0u8; OFP_DESC_LEN - 1]).unwrap_err();
        assert_eq!(crate::error::WireError::from(e).code, OFPBRC_BAD_LEN);
    }

    #[test]
    fn desc_string_filling_its_field_is_cut_to_leave_a_nul() {
        let d = Desc {
            serial_num: "x".repeat(40),
            ..Desc::default()
        };
        let mut buf = BytesMut::new();
        d.emit(&mut buf);
        let (_, back) = Desc::parse(&buf).unwrap();
        assert_eq!(back.serial_num, "x".repeat(SERIAL_NUM_LEN - 1));
    }
}
