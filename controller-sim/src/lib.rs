//! tapflow-controller: the bundled OpenFlow 1.3 controller.
//!
//! - [`desc`]: the network description file; [`plan`]: the flows it implies
//!   on a switch; [`check`]: `tapflow-controller check`.
//! - [`run`]: the `run` command, wiring together [`listen`] (switch
//!   listeners and dialers, one [`switch`] task per connection), [`reload`]
//!   (SIGHUP / `--watch`) and [`metrics`] (`/metrics`).
//! - [`switch`]: one task per switch: handshake and I/O (`conn`), port state
//!   (`ports`), convergence to the plan by cookie (`converge`, `flowkey`).
//! - [`apps`]: PACKET_IN handling: the router's ARP/ND answers and L2
//!   learning.

pub mod apps;
pub mod check;
pub mod desc;
pub mod listen;
pub mod metrics;
pub mod plan;
pub mod reload;
pub mod run;
pub mod switch;
