//! Blocking OpenFlow 1.3 sessions for the benchmark clients in `src/bin/`.
//!
//! The clients talk to any switch (tapflowd, OVS) over `tcp:HOST:PORT` or
//! `unix:PATH`, or accept one switch on `ptcp:PORT` as its controller. They
//! are deliberately plain: one socket, whole messages written in big
//! buffers, a reader that answers ECHO so a long run is not cut off.

pub mod flows;

use bytes::BytesMut;
use ofproto::message::{Hello, Message};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// A byte stream to a switch.
pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    /// `tcp:HOST:PORT`, `unix:PATH`, or `ptcp:PORT` (waits for one switch).
    pub fn open(target: &str) -> io::Result<Stream> {
        if let Some(a) = target.strip_prefix("tcp:") {
            let s = TcpStream::connect(a)?;
            s.set_nodelay(true)?;
            Ok(Stream::Tcp(s))
        } else if let Some(p) = target.strip_prefix("unix:") {
            Ok(Stream::Unix(UnixStream::connect(p)?))
        } else if let Some(p) = target.strip_prefix("ptcp:") {
            let l = TcpListener::bind(("127.0.0.1", p.parse::<u16>().map_err(bad)?))?;
            let (s, _) = l.accept()?;
            s.set_nodelay(true)?;
            Ok(Stream::Tcp(s))
        } else {
            Err(bad(format!(
                "target {target:?}: expected tcp:HOST:PORT, unix:PATH or ptcp:PORT"
            )))
        }
    }

    pub fn try_clone(&self) -> io::Result<Stream> {
        Ok(match self {
            Stream::Tcp(s) => Stream::Tcp(s.try_clone()?),
            Stream::Unix(s) => Stream::Unix(s.try_clone()?),
        })
    }

    pub fn set_read_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_read_timeout(d),
            Stream::Unix(s) => s.set_read_timeout(d),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(b),
            Stream::Unix(s) => s.read(b),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(b),
            Stream::Unix(s) => s.write(b),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn bad(e: impl ToString) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, e.to_string())
}

/// Reads whole OpenFlow messages from a stream, buffering partial ones.
pub struct Reader {
    s: Stream,
    buf: Vec<u8>,
    start: usize,
}

impl Reader {
    pub fn new(s: Stream) -> Reader {
        Reader {
            s,
            buf: Vec::with_capacity(1 << 20),
            start: 0,
        }
    }

    /// The next message's raw bytes (header included).
    pub fn next_raw(&mut self) -> io::Result<&[u8]> {
        loop {
            let avail = &self.buf[self.start..];
            if avail.len() >= 8 {
                let len = usize::from(u16::from_be_bytes([avail[2], avail[3]]));
                if len < 8 {
                    return Err(bad(format!("message length {len} < 8")));
                }
                if avail.len() >= len {
                    let at = self.start;
                    self.start += len;
                    return Ok(&self.buf[at..at + len]);
                }
            }
            if self.start > 0 {
                self.buf.drain(..self.start);
                self.start = 0;
            }
            let old = self.buf.len();
            self.buf.resize(old + 65536, 0);
            let n = self.s.read(&mut self.buf[old..]);
            match n {
                Ok(0) => {
                    self.buf.truncate(old);
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the switch closed the connection",
                    ));
                }
                Ok(n) => self.buf.truncate(old + n),
                Err(e) => {
                    self.buf.truncate(old);
                    return Err(e);
                }
            }
        }
    }
}

/// Message type of a raw message.
pub fn msg_type(raw: &[u8]) -> u8 {
    raw[1]
}

/// Appends `m` with `xid` to `out`.
pub fn encode(m: &Message, xid: u32, out: &mut BytesMut) {
    m.encode(xid, out);
}

/// Answers `raw` if it is an ECHO_REQUEST (a long run must not be cut off
/// by the switch's inactivity probe); true when it was one.
pub fn answer_echo(w: &mut Stream, raw: &[u8]) -> io::Result<bool> {
    if msg_type(raw) != 2 {
        return Ok(false);
    }
    if let Ok((xid, Message::EchoRequest(d))) = Message::decode(raw) {
        let mut o = BytesMut::new();
        encode(&Message::EchoReply(d), xid, &mut o);
        w.write_all(&o)?;
    }
    Ok(true)
}

/// HELLO (OF1.3) both ways and FEATURES_REQUEST; returns the datapath id.
/// `w` and `r` are the two halves of one connection.
pub fn handshake(w: &mut Stream, r: &mut Reader) -> io::Result<u64> {
    let mut out = BytesMut::new();
    encode(&Message::Hello(Hello::with_versions(&[4])), 1, &mut out);
    encode(&Message::FeaturesRequest, 2, &mut out);
    w.write_all(&out)?;
    loop {
        let raw = r.next_raw()?;
        if answer_echo(w, raw)? {
            continue;
        }
        match Message::decode(raw) {
            Ok((_, Message::FeaturesReply(f))) => return Ok(f.datapath_id),
            Ok((_, Message::Error(e))) => {
                return Err(io::Error::other(format!(
                    "switch error during handshake: {e:?}"
                )))
            }
            _ => {}
        }
    }
}

/// Median of a list (sorted copy); `NaN` for an empty one.
pub fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_lists() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn open_refuses_unknown_schemes() {
        let e = Stream::open("ssl:1.2.3.4:6653").err().expect("refused");
        assert!(e.to_string().contains("expected tcp:"), "{e}");
    }

    #[test]
    fn reader_splits_messages_across_reads() {
        let (a, mut b) = UnixStream::pair().unwrap();
        let mut out = BytesMut::new();
        encode(&Message::BarrierRequest, 7, &mut out);
        encode(
            &Message::EchoRequest(bytes::Bytes::from_static(b"abc")),
            8,
            &mut out,
        );
        let bytes = out.to_vec();
        std::thread::spawn(move || {
            for c in bytes.chunks(3) {
                b.write_all(c).unwrap();
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        let mut r = Reader::new(Stream::Unix(a));
        assert_eq!(msg_type(r.next_raw().unwrap()), 20);
        let raw = r.next_raw().unwrap().to_vec();
        assert_eq!(Message::decode(&raw).unwrap().0, 8);
    }
}
