//! `zeek-zmq`, the plugin's command-line companion (`src/main.rs` only
//! calls [`main`]); the Zeek plugin itself is the `zeek-zeromq-writer`
//! crate at the workspace root, whose publisher, encoder and CURVE code
//! this crate uses.
//!
//! - [`sub`]: receive `[path, json]` messages into JSON lines or log files
//!   ([`rotate`]), with [`stats`] reports;
//! - [`replay`]: publish Zeek logs read by [`logfile`] (TSV ones through
//!   [`tsv`]) through the writer's [`zeek_zeromq_writer::publisher`];
//! - [`keygen`]: CURVE key files ([`zeek_zeromq_writer::keys`]).

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

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use zeek_zeromq_writer::keys;
use zeek_zeromq_writer::options::CurveOptions;

#[derive(Parser, Debug)]
#[command(
    name = "zeek-zmq",
    version,
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

/// CURVE: the same key files as the plugin's `LogZeroMQ::curve_*` options.
/// The end that binds is the CURVE server, the one that connects the
/// client.
#[derive(Args, Debug, Default)]
pub struct CurveArgs {
    /// This end's secret key file (NAME.key from `zeek-zmq keygen`).
    /// Binding, it makes this end a CURVE server.
    #[arg(long, value_name = "FILE")]
    pub curve_secret_key_file: Option<PathBuf>,
    /// Connecting: the CURVE server's public key, as Z85 text or a file
    /// (NAME.pub). Without --curve-secret-key-file, this end uses a
    /// temporary key pair.
    // A Z85 key may start with '-'.
    #[arg(long, value_name = "KEY|FILE", allow_hyphen_values = true)]
    pub curve_server_key: Option<String>,
    /// Binding: accept only CURVE clients whose public keys this file lists
    /// (one per line, # comments; re-read when it changes).
    #[arg(long, value_name = "FILE")]
    pub curve_allowed_clients: Option<PathBuf>,
}

impl CurveArgs {
    /// As the plugin's options, for [`zeek_zeromq_writer::curve::resolve`].
    pub fn options(&self) -> Result<CurveOptions, String> {
        let server_public_key = match &self.curve_server_key {
            None => String::new(),
            Some(k) if std::path::Path::new(k).is_file() => {
                match keys::read_public_keys_file(k.as_ref())?.as_slice() {
                    [key] => keys::to_z85(key),
                    _ => return Err(format!("--curve-server-key: {k} must hold exactly one key")),
                }
            }
            Some(k) => k.clone(),
        };
        let text = |p: &Option<PathBuf>| {
            p.as_ref()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        Ok(CurveOptions {
            server_public_key,
            secret_key_file: text(&self.curve_secret_key_file),
            allowed_clients_file: text(&self.curve_allowed_clients),
            ..CurveOptions::default()
        })
    }

    /// Rewrites a message of [`zeek_zeromq_writer::curve`] (which speaks of the
    /// plugin's options) in terms of these arguments.
    pub fn explain(message: &str) -> String {
        [
            ("LogZeroMQ::curve_server_public_key", "--curve-server-key"),
            (
                "LogZeroMQ::curve_secret_key_file",
                "--curve-secret-key-file",
            ),
            (
                "LogZeroMQ::curve_allowed_clients_file",
                "--curve-allowed-clients",
            ),
            (
                "LogZeroMQ::curve_allowed_clients(_file)",
                "--curve-allowed-clients",
            ),
            (
                "the subscriber's public key",
                "the CURVE server's public key",
            ),
            ("Zeek's secret key", "this end's secret key"),
            ("Zeek is the CURVE server", "this end is the CURVE server"),
        ]
        .iter()
        .fold(message.to_string(), |m, (from, to)| m.replace(from, to))
    }
}

/// Parses the command line and runs the command.
pub fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Sub(a) => sub::run(a),
        Command::Replay(a) => replay::run(a),
        Command::Keygen(a) => keygen::run(a),
    }
}
