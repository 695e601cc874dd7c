//! `OFPMP_EXPERIMENTER` (both directions): `ofp_experimenter_multipart_header`
//! followed by opaque experimenter-defined data.

use crate::message::{emit_experimenter, parse_experimenter};
use crate::wire::PResult;
use bytes::{Bytes, BytesMut};

/// `sizeof(struct ofp_experimenter_multipart_header)`.
pub const OFP_EXPERIMENTER_MULTIPART_HEADER_LEN: usize = 8;

/// An experimenter multipart body, kept opaque (e.g. ONF flow monitor).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct ExperimenterMultipart {
    pub experimenter: u32,
    pub exp_type: u32,
    /// Everything after `exp_type`.
    pub data: Bytes,
}

impl ExperimenterMultipart {
    /// Consumes all of `i`.
    pub fn parse(i: &[u8]) -> PResult<'_, ExperimenterMultipart> {
        let (rest, (experimenter, exp_type, data)) = parse_experimenter(
            i,
            OFP_EXPERIMENTER_MULTIPART_HEADER_LEN,
            "experimenter multipart header",
        )?;
        Ok((
            rest,
            ExperimenterMultipart {
                experimenter,
                exp_type,
                data,
            },
        ))
    }

    pub fn emit(&self, buf: &mut BytesMut) {
        emit_experimenter(buf, self.experimenter, self.exp_type, &self.data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{WireError, OFPBRC_BAD_LEN};

    #[test]
    fn experimenter_round_trips() {
        let e = ExperimenterMultipart {
            experimenter: 0xdeadbeaf,
            exp_type: 0xcafe8888,
            data: Bytes::from_static(b"hogehoge"),
        };
        let mut buf = BytesMut::new();
        e.emit(&mut buf);
        assert_eq!(buf.len(), 16);
        assert_eq!(ExperimenterMultipart::parse(&buf).unwrap(), (&[][..], e));
    }

    #[test]
    fn experimenter_header_short_is_bad_len() {
        let e = ExperimenterMultipart::parse(&[0u8; 7]).unwrap_err();
        assert_eq!(WireError::from(e).code, OFPBRC_BAD_LEN);
    }
}
