//! `NCSA::ZeroMQWriter`: a Zeek log writer that publishes every log record as
//! a two-frame ZeroMQ message `[path, json]`, the JSON byte-identical to
//! Zeek's own JSON logs.
//!
//! The data path, top to bottom: the C++ shim (`shim/`) -> [`bridge`] ->
//! [`writer`] -> [`encoder`] -> [`publisher`] -> [`channel`] (the socket);
//! the publisher hands the encoder a buffer from [`frames`], which libzmq
//! sends without a copy. A record is the [`record`] model's slot list, the
//! bottom of the crate: no module imports one above it. [`options`]
//! resolves script options and a filter's `$config`; [`endpoint`] checks
//! endpoints before libzmq sees them; [`curve`] (with [`keys`]) sets up
//! CURVE, and [`monitor`] says which peers a socket cannot talk to;
//! [`context`] is the connected writers' libzmq context. [`dump`] reads the conformance corpus into records, for the
//! tests and benchmarks. `ARCHITECTURE.md` follows one record through them.
//!
//! The `zeek-zmq` CLI (`crates/zeek-zmq`) uses this crate as a library.

pub mod acks;
pub mod bridge;
pub mod channel;
pub mod context;
pub mod curve;
pub mod dump;
pub mod encoder;
pub mod endpoint;
pub mod frames;
pub mod keys;
pub mod monitor;
pub mod options;
pub mod publisher;
pub mod record;
pub mod report;
pub mod sequence;
pub mod stop;
pub mod writer;

/// The plugin's version (`major.minor.patch`), from the `VERSION` file
/// (`build.rs`): what `zeek -N` and `zeek-zmq --version` print.
pub const VERSION: &str = env!("PLUGIN_VERSION");

pub use record::{FieldSpec, Kind, Slot};
pub use writer::Writer;
