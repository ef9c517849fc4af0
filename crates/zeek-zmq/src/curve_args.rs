//! The `--curve-*` flags of `sub` and `replay`: the plugin's CURVE code
//! ([`zeek_zeromq_writer::curve`]) with the same key files, and its errors
//! said in terms of these flags.

use clap::Args;
use std::path::{Path, PathBuf};
use zeek_zeromq_writer::curve::{self, CurveError, CurveOption, Security};
use zeek_zeromq_writer::keys;
use zeek_zeromq_writer::options::CurveOptions;

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
    /// What a socket that binds (`bind`) or connects does about CURVE, as
    /// the plugin would decide it with the same keys.
    pub fn security(&self, bind: bool) -> Result<Security, String> {
        curve::resolve(&self.options()?, bind).map_err(|e| explain(&e))
    }

    /// As the plugin's options.
    fn options(&self) -> Result<CurveOptions, String> {
        let server_public_key = match &self.curve_server_key {
            None => String::new(),
            Some(k) if Path::new(k).is_file() => {
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
}

/// `e` in zeek-zmq's words: its flags, and "this end" where the plugin
/// says Zeek.
fn explain(e: &CurveError) -> String {
    match e {
        CurveError::BadKey {
            option: CurveOption::ServerPublicKey,
            index: None,
            why,
        } => format!("--curve-server-key: {why}"),
        CurveError::ServerKeyInBindMode => "--curve-server-key is for connect mode; \
                                            in bind mode this end is the CURVE server"
            .into(),
        CurveError::NoSecretKeyToBind => {
            "CURVE in bind mode needs this end's secret key: set --curve-secret-key-file".into()
        }
        CurveError::NoServerKeyToConnect => "CURVE in connect mode needs the CURVE server's \
                                             public key: set --curve-server-key"
            .into(),
        CurveError::AllowedClientsInConnectMode => {
            "--curve-allowed-clients is for bind mode".into()
        }
        // The rest name no flag: either none at all (a key file, libzmq),
        // or options zeek-zmq does not have (a public key, a literal
        // secret key, a list of allowed keys), which it never sets.
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_flags() {
        let args = CurveArgs {
            curve_allowed_clients: Some("clients.pub".into()),
            ..CurveArgs::default()
        };
        assert_eq!(
            args.security(false).unwrap_err(),
            "CURVE in connect mode needs the CURVE server's public key: set --curve-server-key"
        );
        assert_eq!(
            args.security(true).unwrap_err(),
            "CURVE in bind mode needs this end's secret key: set --curve-secret-key-file"
        );
        let args = CurveArgs {
            curve_server_key: Some("not-a-key".into()),
            ..CurveArgs::default()
        };
        let e = args.security(false).unwrap_err();
        assert!(e.starts_with("--curve-server-key: a key is 40 Z85"), "{e}");
        let e = args.security(true).unwrap_err();
        assert!(
            e.starts_with("--curve-server-key is for connect mode"),
            "{e}"
        );
    }
}
