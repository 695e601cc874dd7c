//! `OFPT_HELLO`: a list of `ofp_hello_elem_*` TLVs.
//!
//! Each element is `type u16, length u16` (length counts the 4-byte TLV header
//! and the body, not the padding) followed by its body and zero padding to a
//! multiple of 8. A HELLO without elements (OpenFlow 1.0 style) is valid.
//!
//! Leniency: the padding of the *last* element may be missing or short (some
//! peers stop at `length`); padding bytes are not checked for zero. An element
//! whose `length` is below 4 or past the end of the message is
//! `OFPBRC_BAD_LEN`, and so is a VERSIONBITMAP whose body is not whole u32 words.

use crate::consts::OFPHET_VERSIONBITMAP;
use crate::error::{WireError, OFPBRC_BAD_LEN};
use crate::wire::{fail, pad8, patch_len, put_zeros, take_exact, take_struct, PResult};
use bytes::{BufMut, Bytes, BytesMut};
use nom::number::complete::be_u16;

/// Size of `ofp_hello_elem_header`.
pub const OFP_HELLO_ELEM_HEADER_LEN: usize = 4;

/// `OFPT_HELLO` elements.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct Hello {
    pub elements: Vec<HelloElem>,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum HelloElem {
    /// `OFPHET_VERSIONBITMAP`: bit n of word n/32 set = version n supported.
    VersionBitmap(Vec<u32>),
    /// Unknown element types are kept (body without the 4-byte TLV header).
    Unknown { ty: u16, data: Bytes },
}

impl HelloElem {
    /// One element including its padding (a short final padding is accepted).
    pub fn parse(i: &[u8]) -> PResult<'_, HelloElem> {
        let (_, h) = take_exact(
            i,
            OFP_HELLO_ELEM_HEADER_LEN,
            OFPBRC_BAD_LEN,
            "ofp_hello_elem_header",
        )?;
        let (h, ty) = be_u16(h)?;
        let (_, len) = be_u16(h)?;
        let len = usize::from(len);
        let (rest, e) = take_struct(
            i,
            len,
            OFP_HELLO_ELEM_HEADER_LEN,
            OFPBRC_BAD_LEN,
            "ofp_hello_elem",
        )?;
        let body = &e[OFP_HELLO_ELEM_HEADER_LEN..];
        let rest = &rest[pad8(len).min(rest.len())..];
        let elem = match ty {
            OFPHET_VERSIONBITMAP => {
                if body.len() % 4 != 0 {
                    return Err(fail(
                        OFPBRC_BAD_LEN,
                        format!("hello version bitmap length {len} is not 4 + a multiple of 4"),
                    ));
                }
                let words = body
                    .chunks_exact(4)
                    .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
                    .collect();
                HelloElem::VersionBitmap(words)
            }
            _ => HelloElem::Unknown {
                ty,
                data: Bytes::copy_from_slice(body),
            },
        };
        Ok((rest, elem))
    }

    /// Appends the element and its padding.
    pub fn emit(&self, buf: &mut BytesMut) {
        let start = buf.len();
        let ty = match self {
            HelloElem::VersionBitmap(_) => OFPHET_VERSIONBITMAP,
            HelloElem::Unknown { ty, .. } => *ty,
        };
        buf.put_u16(ty);
        buf.put_u16(0); // length, patched below
        match self {
            HelloElem::VersionBitmap(words) => {
                for w in words {
                    buf.put_u32(*w);
                }
            }
            HelloElem::Unknown { data, .. } => buf.put_slice(data),
        }
        patch_len(buf, start + 2, start);
        put_zeros(buf, pad8(buf.len() - start));
    }

    /// Bytes on the wire including padding.
    pub fn wire_len(&self) -> usize {
        let len = OFP_HELLO_ELEM_HEADER_LEN
            + match self {
                HelloElem::VersionBitmap(w) => 4 * w.len(),
                HelloElem::Unknown { data, .. } => data.len(),
            };
        len + pad8(len)
    }
}

impl Hello {
    /// `body` is the message after the 8-byte OpenFlow header.
    pub fn parse_body(mut body: &[u8]) -> Result<Self, WireError> {
        let mut elements = Vec::new();
        while !body.is_empty() {
            // Every successful parse consumes at least 4 bytes.
            let (rest, e) = HelloElem::parse(body)?;
            elements.push(e);
            body = rest;
        }
        Ok(Hello { elements })
    }

    pub fn emit_body(&self, buf: &mut BytesMut) {
        for e in &self.elements {
            e.emit(buf);
        }
    }

    /// A HELLO announcing exactly `versions` (wire version numbers) in one
    /// VERSIONBITMAP element; an empty list gives a HELLO without elements.
    pub fn with_versions(versions: &[u8]) -> Hello {
        let Some(&max) = versions.iter().max() else {
            return Hello::default();
        };
        let mut words = vec![0u32; usize::from(max) / 32 + 1];
        for &v in versions {
            words[usize::from(v) / 32] |= 1 << (v % 32);
        }
        Hello {
            elements: vec![HelloElem::VersionBitmap(words)],
        }
    }

    /// The versions of the first VERSIONBITMAP element, ascending; `None` if
    /// the HELLO carries no bitmap (then only the header's version counts).
    pub fn versions(&self) -> Option<Vec<u8>> {
        self.elements.iter().find_map(|e| match e {
            HelloElem::VersionBitmap(words) => Some(
                words
                    .iter()
                    .enumerate()
                    .take(8) // versions are u8: at most 256 bits matter
                    .flat_map(|(i, w)| {
                        (0..32u32)
                            .filter(move |b| w & (1 << b) != 0)
                            .map(move |b| (i as u32 * 32 + b) as u8)
                    })
                    .collect(),
            ),
            HelloElem::Unknown { .. } => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_with_bitmap_is_byte_exact() {
        let h = Hello::with_versions(&[1, 4]);
        let mut buf = BytesMut::new();
        h.emit_body(&mut buf);
        assert_eq!(&buf[..], &[0, 1, 0, 8, 0, 0, 0, 0x12]);
        assert_eq!(Hello::parse_body(&buf).unwrap(), h);
        assert_eq!(h.versions(), Some(vec![1, 4]));
    }

    #[test]
    fn empty_hello_is_valid() {
        assert_eq!(Hello::parse_body(&[]).unwrap(), Hello::default());
        assert_eq!(Hello::default().versions(), None);
        assert_eq!(Hello::with_versions(&[]), Hello::default());
    }

    #[test]
    fn unknown_elements_are_kept_and_padded() {
        let h = Hello {
            elements: vec![
                HelloElem::Unknown {
                    ty: 9,
                    data: Bytes::from_static(&[1, 2, 3]),
                },
                HelloElem::VersionBitmap(vec![0x10, 0x1]),
            ],
        };
        let mut buf = BytesMut::new();
        h.emit_body(&mut buf);
        #[rustfmt::skip]
        let want = [
            0, 9, 0, 7, 1, 2, 3, 0,
            0, 1, 0, 12, 0, 0, 0, 0x10, 0, 0, 0, 1, 0, 0, 0, 0,
        ];
        assert_eq!(&buf[..], &want[..]);
        assert_eq!(
            h.elements.iter().map(HelloElem::wire_len).sum::<usize>(),
            24
        );
        assert_eq!(Hello::parse_body(&want).unwrap(), h);
        assert_eq!(h.versions(), Some(vec![4, 32]));
    }

    #[test]
    fn missing_final_padding_is_accepted() {
        let v = [0, 9, 0, 5, 0xaa];
        assert_eq!(
            Hello::parse_body(&v).unwrap().elements,
            vec![HelloElem::Unknown {
                ty: 9,
                data: Bytes::from_static(&[0xaa])
            }]
        );
    }

    #[test]
    fn bad_element_lengths_are_bad_len() {
        for v in [
            &[0u8, 1, 0, 3, 0, 0, 0, 0][..], // length below header
            &[0, 1, 0, 16, 0, 0, 0, 0],      // past the end
            &[0, 1, 0, 6, 0, 0, 0, 0],       // bitmap not whole words
            &[0, 1, 0],                      // truncated header
        ] {
            assert_eq!(
                Hello::parse_body(v).unwrap_err().code,
                OFPBRC_BAD_LEN,
                "{v:?}"
            );
        }
    }

    #[test]
    fn hello_never_panics_on_noise() {
        let mut rng = crate::message::tests_util::Rng(3);
        for _ in 0..5000 {
            let mut v = rng.bytes(40);
            if v.len() >= 4 {
                v[2] = 0;
                v[3] %= 48;
            }
            let _ = Hello::parse_body(&v);
        }
    }
}
