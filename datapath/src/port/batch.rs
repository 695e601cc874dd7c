//! Preallocated receive buffers, reused across `recv_batch` calls.

use super::offload::VnetHdr;

/// Bytes reserved in front of every frame: the virtio-net header is read there
/// (so a frame and its header arrive with one read), and later stages can grow
/// the frame at the front (VLAN/MPLS push, tunnel encapsulation) without moving it.
pub const HEADROOM: usize = 128;

/// Default frame capacity: the largest GSO frame the kernel builds with the
/// default `gso_max_size` (64 KiB of IP packet) plus an Ethernet header with
/// two VLAN tags, rounded up. Larger frames (BIG TCP) are dropped as truncated.
pub const DEFAULT_FRAME_CAP: usize = 65536 + 256;

/// Default number of frames per batch.
pub const DEFAULT_BATCH: usize = 32;

/// One frame buffer: `HEADROOM` + capacity bytes, the frame at `start..start+len`.
pub struct PacketBuf {
    buf: Box<[u8]>,
    start: usize,
    len: usize,
    /// Offload state of the frame (all zero: a complete, ordinary frame).
    pub offload: VnetHdr,
}

impl PacketBuf {
    pub fn new(frame_cap: usize) -> PacketBuf {
        PacketBuf {
            buf: vec![0u8; HEADROOM + frame_cap].into_boxed_slice(),
            start: HEADROOM,
            len: 0,
            offload: VnetHdr::NONE,
        }
    }

    pub fn data(&self) -> &[u8] {
        &self.buf[self.start..self.start + self.len]
    }

    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.start..self.start + self.len]
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Free bytes in front of the frame.
    pub fn headroom(&self) -> usize {
        self.start
    }

    /// Free bytes after the frame.
    pub fn tailroom(&self) -> usize {
        self.buf.len() - self.start - self.len
    }

    /// Grows the frame by `n` bytes at the front and returns the new front
    /// (`n` bytes, uninitialised content); `None` if the headroom is too small.
    pub fn push_head(&mut self, n: usize) -> Option<&mut [u8]> {
        if n > self.start {
            return None;
        }
        self.start -= n;
        self.len += n;
        Some(&mut self.buf[self.start..self.start + n])
    }

    /// Removes `n` bytes from the front of the frame.
    pub fn pull_head(&mut self, n: usize) -> bool {
        if n > self.len {
            return false;
        }
        self.start += n;
        self.len -= n;
        true
    }

    /// Sets the frame length (grows into the tailroom or truncates).
    pub fn set_len(&mut self, len: usize) -> bool {
        if self.start + len > self.buf.len() {
            return false;
        }
        self.len = len;
        true
    }

    /// Replaces the frame with a copy of `frame` (tests, injected packets).
    pub fn fill(&mut self, frame: &[u8], offload: VnetHdr) -> bool {
        self.reset();
        if !self.set_len(frame.len()) {
            return false;
        }
        self.data_mut().copy_from_slice(frame);
        self.offload = offload;
        true
    }

    pub(crate) fn reset(&mut self) {
        self.start = HEADROOM;
        self.len = 0;
        self.offload = VnetHdr::NONE;
    }

    /// The receive area: `pre` bytes before the default frame start (for a
    /// header read together with the frame) up to the end of the buffer.
    pub(crate) fn rx_area(&mut self, pre: usize) -> &mut [u8] {
        &mut self.buf[HEADROOM - pre..]
    }

    /// Bytes just before the default frame start (where a vnet header was read).
    pub(crate) fn pre_bytes(&self, pre: usize) -> &[u8] {
        &self.buf[HEADROOM - pre..HEADROOM]
    }

    /// Marks `len` bytes at the default frame start as the received frame.
    pub(crate) fn set_received(&mut self, len: usize, offload: VnetHdr) {
        self.start = HEADROOM;
        self.len = len;
        self.offload = offload;
    }

    /// Puts a VLAN tag (TPID, TCI) back after the MAC addresses — AF_PACKET
    /// hands the tag of an accelerated/untagged skb out of band.
    pub(crate) fn insert_vlan(&mut self, tpid: u16, tci: u16) -> bool {
        if self.len < 12 || self.start < 4 {
            return false;
        }
        let s = self.start;
        self.buf.copy_within(s..s + 12, s - 4);
        self.start -= 4;
        self.len += 4;
        let t = self.start + 12;
        self.buf[t..t + 2].copy_from_slice(&tpid.to_be_bytes());
        self.buf[t + 2..t + 4].copy_from_slice(&tci.to_be_bytes());
        self.offload.shift(4);
        true
    }
}

/// A batch of frame buffers, allocated once and reused: `recv_batch` fills
/// `0..len()` and the caller consumes them before the next call.
pub struct PacketBatch {
    slots: Vec<PacketBuf>,
    len: usize,
}

impl Default for PacketBatch {
    fn default() -> Self {
        PacketBatch::new(DEFAULT_BATCH, DEFAULT_FRAME_CAP)
    }
}

impl PacketBatch {
    /// `count` buffers of `frame_cap` bytes each (plus [`HEADROOM`]).
    pub fn new(count: usize, frame_cap: usize) -> PacketBatch {
        assert!(count > 0, "a batch needs at least one buffer");
        PacketBatch {
            slots: (0..count).map(|_| PacketBuf::new(frame_cap)).collect(),
            len: 0,
        }
    }

    /// Number of frames received.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of buffers (the most frames one call can return).
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }

    pub fn frame(&self, i: usize) -> &[u8] {
        self.get(i).data()
    }

    pub fn frame_mut(&mut self, i: usize) -> &mut [u8] {
        self.get_mut(i).data_mut()
    }

    pub fn offload(&self, i: usize) -> &VnetHdr {
        &self.get(i).offload
    }

    pub fn get(&self, i: usize) -> &PacketBuf {
        assert!(i < self.len, "frame {i} of a batch of {}", self.len);
        &self.slots[i]
    }

    pub fn get_mut(&mut self, i: usize) -> &mut PacketBuf {
        assert!(i < self.len, "frame {i} of a batch of {}", self.len);
        &mut self.slots[i]
    }

    pub fn iter(&self) -> impl Iterator<Item = &PacketBuf> {
        self.slots[..self.len].iter()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut PacketBuf> {
        self.slots[..self.len].iter_mut()
    }

    /// Appends a copy of `frame` (tests, injected packets); false when full or
    /// too big.
    pub fn push(&mut self, frame: &[u8], offload: VnetHdr) -> bool {
        if self.len == self.slots.len() || !self.slots[self.len].fill(frame, offload) {
            return false;
        }
        self.len += 1;
        true
    }

    /// For port implementations: all buffers, to be filled from index 0.
    pub(crate) fn slots_mut(&mut self) -> &mut [PacketBuf] {
        &mut self.slots
    }

    pub(crate) fn set_len(&mut self, n: usize) {
        debug_assert!(n <= self.slots.len());
        self.len = n;
    }

    /// Moves buffer `from` to position `to` (dropping a bad frame from the
    /// middle of a batch costs a pointer swap, not a copy).
    pub(crate) fn swap(&mut self, a: usize, b: usize) {
        self.slots.swap(a, b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_buf_grows_and_shrinks_at_the_front_within_headroom() {
        let mut b = PacketBuf::new(100);
        assert!(b.fill(&[1, 2, 3], VnetHdr::NONE));
        b.push_head(2).unwrap().copy_from_slice(&[9, 8]);
        assert_eq!(b.data(), &[9, 8, 1, 2, 3]);
        assert!(b.pull_head(3));
        assert_eq!(b.data(), &[2, 3]);
        assert!(b.push_head(HEADROOM + 100).is_none());
        assert!(!b.set_len(101 + HEADROOM));
    }

    #[test]
    fn insert_vlan_puts_the_tag_after_the_mac_addresses_and_shifts_csum_start() {
        let mut b = PacketBuf::new(100);
        let frame: Vec<u8> = (0..20).collect();
        b.fill(&frame, VnetHdr::NONE.with_csum(34, 6));
        assert!(b.insert_vlan(0x8100, 0x2064));
        let d = b.data();
        assert_eq!(&d[..12], &frame[..12]);
        assert_eq!(&d[12..16], &[0x81, 0x00, 0x20, 0x64]);
        assert_eq!(&d[16..], &frame[12..]);
        assert_eq!(b.offload.csum_start, 38);
    }

    #[test]
    fn batch_push_stops_at_capacity() {
        let mut batch = PacketBatch::new(2, 64);
        assert!(batch.push(&[1; 60], VnetHdr::NONE));
        assert!(!batch.push(&[1; 65], VnetHdr::NONE));
        assert!(batch.push(&[2; 64], VnetHdr::NONE));
        assert!(!batch.push(&[3; 10], VnetHdr::NONE));
        assert_eq!(batch.len(), 2);
        assert_eq!(batch.frame(1), &[2; 64]);
    }
}
