//! The switch's side of an OpenFlow connection, for unit tests that drive
//! [`OfConn`](super::conn::OfConn) and convergence without a real switch.

use futures_core::Stream;
use futures_sink::Sink;
use ofproto::codec::OfpCodec;
use ofproto::message::{FeaturesReply, Hello};
use ofproto::Message;
use std::future::poll_fn;
use std::pin::Pin;
use tokio::io::DuplexStream;
use tokio_util::codec::Framed;

pub struct FakeSwitch(Framed<DuplexStream, OfpCodec>);

impl FakeSwitch {
    /// The controller's end of an in-memory connection and the switch's.
    pub fn pair() -> (DuplexStream, FakeSwitch) {
        let (ours, theirs) = tokio::io::duplex(256 * 1024);
        (ours, FakeSwitch(Framed::new(theirs, OfpCodec)))
    }

    pub async fn next(&mut self) -> (u32, Message) {
        self.try_next().await.expect("connection open")
    }

    /// The next message, or `None` once the controller closed.
    pub async fn try_next(&mut self) -> Option<(u32, Message)> {
        let f = poll_fn(|cx| Pin::new(&mut self.0).poll_next(cx))
            .await?
            .expect("a whole frame");
        Some((
            f.xid(),
            f.decode().expect("the controller's message decodes"),
        ))
    }

    pub async fn send(&mut self, xid: u32, m: Message) {
        poll_fn(|cx| Sink::<(u32, Message)>::poll_ready(Pin::new(&mut self.0), cx))
            .await
            .unwrap();
        Pin::new(&mut self.0).start_send((xid, m)).unwrap();
        poll_fn(|cx| Sink::<(u32, Message)>::poll_flush(Pin::new(&mut self.0), cx))
            .await
            .unwrap();
    }

    /// The switch's half of the handshake: HELLO, FEATURES_REPLY with
    /// `dpid`, then the controller's SET_ASYNC.
    pub async fn handshake(&mut self, dpid: u64) {
        assert!(matches!(self.next().await.1, Message::Hello(_)));
        self.send(1, Message::Hello(Hello::with_versions(&[4])))
            .await;
        let (xid, m) = self.next().await;
        assert_eq!(m, Message::FeaturesRequest);
        let f = FeaturesReply {
            datapath_id: dpid,
            n_tables: 254,
            ..FeaturesReply::default()
        };
        self.send(xid, Message::FeaturesReply(f)).await;
        assert!(matches!(self.next().await.1, Message::SetAsync(_)));
    }
}
