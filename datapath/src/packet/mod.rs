//! Packets on the data plane: one pass over a frame builds a [`FlowKey`]
//! holding every OF1.3 match field the packet has (`parse.rs`); a flow's
//! `Match` compiles to the same layout as a (key, mask) pair (`key.rs`), so
//! classification is `(packet_key & mask) == flow_key`. Actions rewrite the
//! frame in place and keep the key in step (`rewrite.rs`).
//!
//! A [`Packet`] bundles the three: the [`Frame`] (bytes with headroom, so
//! pushing a tag moves only the 12 address bytes), its [`FlowKey`] and the
//! [`ParseInfo`] header offsets.

pub mod key;
pub mod parse;
pub mod rewrite;

#[cfg(test)]
mod frames;
#[cfg(test)]
mod mpls_pbb_tests;
#[cfg(test)]
mod tests;

pub use key::{compile_match, FieldBytes, FlowKey, FlowKeyBuildHasher, FLOW_KEY_WORDS};
pub use parse::{parse_frame, ParseInfo, L3};
pub use rewrite::RewriteOutcome;

/// A frame buffer the rewrite code can work on in place: the frame bytes,
/// room to grow at the front (pushing a header moves only the bytes in
/// front of it) and, for frames received with virtio-net offloads, where a
/// partial L4 checksum is.
pub trait FrameBuf {
    fn data(&self) -> &[u8];
    fn data_mut(&mut self) -> &mut [u8];
    /// Grows the frame by `n` bytes at the front (content unspecified);
    /// false, with nothing changed, if the buffer has no room.
    fn grow_front(&mut self, n: usize) -> bool;
    /// Shrinks the frame by `n` (≤ len) bytes at the front.
    fn shrink_front(&mut self, n: usize);
    /// Frame offset of the L4 checksum field when it holds only the
    /// pseudo-header sum, to be completed on transmit (virtio-net
    /// `NEEDS_CSUM`: `csum_start + csum_offset`). Rewrites then update it
    /// for pseudo-header changes only, uncomplemented.
    fn partial_csum_at(&self) -> Option<usize> {
        None
    }
    /// `delta` bytes of headers were inserted (> 0) or removed (< 0) at
    /// frame offset `at`, in front of every L4 header: offload offsets move.
    fn headers_moved(&mut self, _at: usize, _delta: isize) {}
}

impl<T: FrameBuf + ?Sized> FrameBuf for &mut T {
    #[inline]
    fn data(&self) -> &[u8] {
        (**self).data()
    }
    #[inline]
    fn data_mut(&mut self) -> &mut [u8] {
        (**self).data_mut()
    }
    #[inline]
    fn grow_front(&mut self, n: usize) -> bool {
        (**self).grow_front(n)
    }
    #[inline]
    fn shrink_front(&mut self, n: usize) {
        (**self).shrink_front(n)
    }
    #[inline]
    fn partial_csum_at(&self) -> Option<usize> {
        (**self).partial_csum_at()
    }
    #[inline]
    fn headers_moved(&mut self, at: usize, delta: isize) {
        (**self).headers_moved(at, delta)
    }
}

/// The port layer's receive buffers: actions run on them in place (128
/// bytes of headroom); offload offsets follow header pushes and pops.
impl FrameBuf for crate::port::PacketBuf {
    #[inline]
    fn data(&self) -> &[u8] {
        crate::port::PacketBuf::data(self)
    }
    #[inline]
    fn data_mut(&mut self) -> &mut [u8] {
        crate::port::PacketBuf::data_mut(self)
    }
    #[inline]
    fn grow_front(&mut self, n: usize) -> bool {
        self.push_head(n).is_some()
    }
    #[inline]
    fn shrink_front(&mut self, n: usize) {
        self.pull_head(n);
    }
    #[inline]
    fn partial_csum_at(&self) -> Option<usize> {
        let o = &self.offload;
        o.needs_csum()
            .then(|| usize::from(o.csum_start) + usize::from(o.csum_offset))
    }
    #[inline]
    fn headers_moved(&mut self, _at: usize, delta: isize) {
        // Two's complement: a negative delta wraps to a subtraction.
        self.offload.shift(delta as i16 as u16);
    }
}

/// Frame bytes with headroom in front: `buf[start..]` is the frame. For
/// frames that don't come from a port's receive buffer (PACKET_OUT,
/// copies for the controller). Grows by reallocating when the headroom
/// runs out, so pushes never fail.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    buf: Vec<u8>,
    start: usize,
}

impl Frame {
    /// Headroom [`Frame::new`] leaves: room for 3 PBB pushes or 16 tags.
    pub const DEFAULT_HEADROOM: usize = 64;

    /// A copy of `data` with [`Frame::DEFAULT_HEADROOM`].
    pub fn new(data: &[u8]) -> Frame {
        Frame::with_headroom(data, Frame::DEFAULT_HEADROOM)
    }

    /// A copy of `data` with `headroom` free bytes in front.
    pub fn with_headroom(data: &[u8], headroom: usize) -> Frame {
        let mut buf = Vec::with_capacity(headroom + data.len());
        buf.resize(headroom, 0);
        buf.extend_from_slice(data);
        Frame {
            buf,
            start: headroom,
        }
    }

    /// Takes over a buffer whose frame starts at `start` (e.g. a receive
    /// buffer read into at an offset). `start` is capped at `buf.len()`.
    pub fn from_vec(buf: Vec<u8>, start: usize) -> Frame {
        let start = start.min(buf.len());
        Frame { buf, start }
    }

    /// The buffer and where the frame starts in it.
    pub fn into_parts(self) -> (Vec<u8>, usize) {
        (self.buf, self.start)
    }

    /// The frame bytes as a vector of their own (drops the headroom).
    pub fn into_vec(mut self) -> Vec<u8> {
        self.buf.drain(..self.start);
        self.buf
    }

    #[inline]
    pub fn data(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    #[inline]
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.start..]
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.buf.len() - self.start
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    pub fn headroom(&self) -> usize {
        self.start
    }

    /// Cuts the frame to `len` bytes (no-op if shorter).
    pub fn truncate(&mut self, len: usize) {
        self.buf.truncate(self.start + len);
    }
}

impl FrameBuf for Frame {
    #[inline]
    fn data(&self) -> &[u8] {
        Frame::data(self)
    }
    #[inline]
    fn data_mut(&mut self) -> &mut [u8] {
        Frame::data_mut(self)
    }
    fn grow_front(&mut self, n: usize) -> bool {
        if self.start < n {
            // Out of headroom: reallocate with fresh headroom (allocation;
            // only after more pushes than DEFAULT_HEADROOM allows).
            let grow = n + Frame::DEFAULT_HEADROOM;
            let mut nb = Vec::with_capacity(self.len() + grow);
            nb.resize(grow, 0);
            nb.extend_from_slice(&self.buf[self.start..]);
            self.buf = nb;
            self.start = grow;
        }
        self.start -= n;
        true
    }
    #[inline]
    fn shrink_front(&mut self, n: usize) {
        self.start = (self.start + n).min(self.buf.len());
    }
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Frame({} bytes, headroom {}): ", self.len(), self.start)?;
        for b in self.data() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// A frame in the pipeline: bytes, key and header offsets, kept consistent
/// by every rewrite (`key` equals what [`parse_frame`] would make of
/// `frame`, plus the pipeline fields `metadata` and `tunnel_id`). `B` is
/// any [`FrameBuf`]: a [`Frame`], or `&mut PacketBuf` to work on a receive
/// buffer in place.
#[derive(Clone, Debug)]
pub struct Packet<B = Frame> {
    pub frame: B,
    pub key: FlowKey,
    pub info: ParseInfo,
}

impl<B: FrameBuf> Packet<B> {
    /// Parses `frame` received on `in_port` (`metadata`, `tunnel_id` 0).
    pub fn parse(frame: B, in_port: u32) -> Packet<B> {
        let mut key = FlowKey::ZERO;
        let info = parse_frame(frame.data(), in_port, &mut key);
        Packet { frame, key, info }
    }

    /// Re-parses after a structural change, keeping the pipeline fields.
    pub(crate) fn reparse(&mut self) {
        let (meta, tun, port) = (
            self.key.metadata(),
            self.key.tunnel_id(),
            self.key.in_port(),
        );
        self.info = parse_frame(self.frame.data(), port, &mut self.key);
        self.key.set_metadata(meta);
        self.key.set_tunnel_id(tun);
    }

    /// Opens a gap of `n` bytes at frame offset `at` by moving the `at`
    /// bytes before it to the front; false if the buffer has no room.
    pub(crate) fn open(&mut self, at: usize, n: usize) -> bool {
        if !self.frame.grow_front(n) {
            return false;
        }
        self.frame.data_mut().copy_within(n..n + at, 0);
        self.frame.headers_moved(at, n as isize);
        true
    }

    /// Removes the `n` bytes at frame offset `at` (`at + n` ≤ len).
    pub(crate) fn close(&mut self, at: usize, n: usize) {
        self.frame.data_mut().copy_within(0..at, n);
        self.frame.shrink_front(n);
        self.frame.headers_moved(at, -(n as isize));
    }
}
