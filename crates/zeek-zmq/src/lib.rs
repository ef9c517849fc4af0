//! `zeek-zmq`, the plugin's command-line companion (`src/main.rs` only
//! calls [`main`]); the Zeek plugin itself is the `zeek-zeromq-writer`
//! crate at the workspace root, whose publisher, encoder and CURVE code
//! this crate uses.
//!
//! - [`sub`]: receive `[path, json]` messages into JSON lines or log files
//!   ([`rotate`]), with [`stats`] reports and, for numbered messages,
//!   [`gaps`] reports;
//! - [`replay`]: publish Zeek logs read by [`logfile`] (TSV ones through
//!   [`tsv`]) through the writer's [`zeek_zeromq_writer::publisher`];
//! - [`keygen`]: CURVE key files ([`zeek_zeromq_writer::keys`]);
//!   [`curve_args`]: the `--curve-*` flags of `sub` and `replay`.

pub mod curve_args;
pub mod gaps;
pub mod keygen;
pub mod logfile;
pub mod progress;
pub mod replay;
pub mod rotate;
pub mod signals;
pub mod stats;
pub mod sub;
pub mod tsv;
pub mod units;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "zeek-zmq",
    version = zeek_zeromq_writer::VERSION,
    about = "Receive, replay and secure the [path, json] streams of Zeek's ZeroMQ log writer"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Receive records: JSON lines on stdout, or one log file per path.
    Sub(sub::SubArgs),
    /// Publish Zeek logs (TSV or JSON, plain or gzip) as the plugin would.
    Replay(replay::ReplayArgs),
    /// Write a CURVE key pair: NAME.key (secret, 0600) and NAME.pub.
    Keygen(keygen::KeygenArgs),
}

/// Parses the command line and runs the command.
pub fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Sub(a) => sub::run(a),
        Command::Replay(a) => replay::run(a),
        Command::Keygen(a) => keygen::run(a),
    }
}
