//! `NCSA::ZeroMQWriter`: a Zeek log writer that publishes every log record as
//! a two-frame ZeroMQ message `[path, json]`, the JSON byte-identical to
//! Zeek's own JSON logs.
//!
//! The data path, top to bottom: the C++ shim (`shim/`) -> [`bridge`] ->
//! [`writer`] -> [`encoder`] -> [`publisher`] -> [`channel`] (the socket);
//! the encoder writes into [`frames`], buffers libzmq sends without copies.
//! [`options`] resolves script options and a filter's `$config`;
//! [`endpoint`] validates endpoints before libzmq sees them.

pub mod bridge;
pub mod channel;
pub mod curve;
pub mod dump;
pub mod encoder;
pub mod endpoint;
pub mod frames;
pub mod keys;
pub mod options;
pub mod publisher;
pub mod record;
pub mod report;
pub mod writer;

pub use record::{FieldSpec, Kind, Slot};
pub use writer::Writer;
