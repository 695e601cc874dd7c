//! What the controller does with PACKET_IN, per app: the router's ARP/ND
//! answers (app `vm-flows`) and reactive MAC learning (app `l2-learning`).
//! Both are pure: a packet in, the messages to send out; the switch task
//! does the I/O.

pub mod ether;
pub mod l2_learning;
pub mod router_arp;
