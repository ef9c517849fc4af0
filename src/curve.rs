//! CURVE: encrypted, authenticated streams (CurveZMQ, with ZAP for client
//! authentication in bind mode).
//!
//! Fail closed: when any CURVE option is set, either every check passes and
//! the socket is a CURVE socket, or the writer gets an error and sends
//! nothing. It never falls back to plain text. No message contains a secret
//! key.
//!
//! This module resolves the options ([`resolve`]) and sets up a socket
//! ([`apply`]); the ZAP handler of a server with allowed clients is in
//! [`ZapHandler`] (`zap`), which checks keys against an `allow_list` and
//! keeps what to report in `rejections`.

mod allow_list;
mod rejections;
mod zap;

pub use rejections::MAX_REPORTED_KEYS;
pub use zap::ZapHandler;

use crate::keys::{self, Key, SecretKey};
use crate::options::CurveOptions;
use std::fmt;
use std::path::PathBuf;

/// The ZAP domain of every CURVE server socket: the ZAP handler answers
/// requests of this domain only.
pub const ZAP_DOMAIN: &str = "zeek-logs";

/// What a writer's socket does about CURVE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Security {
    Plain,
    /// Connect mode: Zeek is a CURVE client of the subscriber.
    Client {
        server: Key,
        public: Key,
        secret: SecretKey,
    },
    /// Bind mode: Zeek is the CURVE server.
    Server {
        secret: SecretKey,
        allowed: Option<Allowed>,
    },
}

/// The clients a CURVE server accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allowed {
    pub keys: Vec<Key>,
    pub file: Option<PathBuf>,
}

/// A CURVE option. Each front-end has its own name for it: the plugin a
/// script option, `zeek-zmq` a flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CurveOption {
    ServerPublicKey,
    SecretKeyFile,
    PublicKey,
    SecretKey,
    AllowedClients,
    AllowedClientsFile,
}

impl CurveOption {
    /// The plugin's name: the script option without `LogZeroMQ::`.
    pub fn script_name(self) -> &'static str {
        match self {
            CurveOption::ServerPublicKey => "curve_server_public_key",
            CurveOption::SecretKeyFile => "curve_secret_key_file",
            CurveOption::PublicKey => "curve_public_key",
            CurveOption::SecretKey => "curve_secret_key",
            CurveOption::AllowedClients => "curve_allowed_clients",
            CurveOption::AllowedClientsFile => "curve_allowed_clients_file",
        }
    }
}

/// Why the CURVE options cannot be used (so nothing is sent). No variant
/// holds a secret key.
///
/// The [`Display`](fmt::Display) form is the plugin's: it names the
/// `LogZeroMQ::curve_*` options and calls this end Zeek. `zeek-zmq` says
/// the same in terms of its flags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CurveError {
    /// The libzmq in use was built without CURVE.
    Unavailable,
    /// An option holds something that is not a key; `index` counts the
    /// keys of a list from 1. `why` does not repeat the text.
    BadKey {
        option: CurveOption,
        index: Option<usize>,
        why: String,
    },
    /// Both the secret key file and the literal secret key are set.
    TwoSecretKeys,
    /// The public key set is not the secret key's.
    PublicKeyMismatch,
    /// A public key is set, but no secret key.
    PublicKeyWithoutSecretKey,
    /// Binding, this end is the server: the server's key is not an option.
    ServerKeyInBindMode,
    /// Binding, this end is the server: it needs its secret key.
    NoSecretKeyToBind,
    /// Connecting needs the server's public key.
    NoServerKeyToConnect,
    /// Only a server (binding) has allowed clients.
    AllowedClientsInConnectMode,
    /// A key file cannot be used; the message names the file and why.
    KeyFile(String),
    /// libzmq cannot do what CURVE needs (make or derive keys).
    Setup(String),
}

impl fmt::Display for CurveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = |o: &CurveOption| format!("LogZeroMQ::{}", o.script_name());
        match self {
            CurveError::Unavailable => {
                f.write_str("CURVE options are set but this libzmq was built without CURVE")
            }
            CurveError::BadKey {
                option,
                index: None,
                why,
            } => write!(f, "{}: {why}", name(option)),
            CurveError::BadKey {
                option,
                index: Some(i),
                why,
            } => write!(f, "{}, key {i}: {why}", name(option)),
            CurveError::TwoSecretKeys => f.write_str(
                "set either LogZeroMQ::curve_secret_key_file or LogZeroMQ::curve_secret_key, \
                 not both",
            ),
            CurveError::PublicKeyMismatch => {
                f.write_str("LogZeroMQ::curve_public_key does not belong to the secret key")
            }
            CurveError::PublicKeyWithoutSecretKey => f.write_str(
                "LogZeroMQ::curve_public_key is set but no secret key \
                 (LogZeroMQ::curve_secret_key_file)",
            ),
            CurveError::ServerKeyInBindMode => f.write_str(
                "LogZeroMQ::curve_server_public_key is for connect mode; \
                 in bind mode Zeek is the CURVE server",
            ),
            CurveError::NoSecretKeyToBind => f.write_str(
                "CURVE in bind mode needs Zeek's secret key: \
                 set LogZeroMQ::curve_secret_key_file",
            ),
            CurveError::NoServerKeyToConnect => f.write_str(
                "CURVE in connect mode needs the subscriber's public key: \
                 set LogZeroMQ::curve_server_public_key",
            ),
            CurveError::AllowedClientsInConnectMode => {
                f.write_str("LogZeroMQ::curve_allowed_clients(_file) are for bind mode")
            }
            CurveError::KeyFile(why) | CurveError::Setup(why) => f.write_str(why),
        }
    }
}

/// Checks the CURVE options for a socket that binds (`bind`) or connects.
pub fn resolve(c: &CurveOptions, bind: bool) -> Result<Security, CurveError> {
    if !c.any() {
        return Ok(Security::Plain);
    }
    if !keys::curve_available() {
        return Err(CurveError::Unavailable);
    }
    let secret = own_secret(c)?;
    if bind {
        server(c, secret)
    } else {
        client(c, secret)
    }
}

/// This end's secret key, if one is set, checked against its public key
/// if that is set too.
fn own_secret(c: &CurveOptions) -> Result<Option<SecretKey>, CurveError> {
    let secret = match (c.secret_key_file.is_empty(), c.secret_key.is_empty()) {
        (true, true) => None,
        (false, false) => return Err(CurveError::TwoSecretKeys),
        (false, true) => Some(
            keys::read_secret_key_file(c.secret_key_file.as_ref()).map_err(CurveError::KeyFile)?,
        ),
        (true, false) => Some(SecretKey(parse_key(&c.secret_key, CurveOption::SecretKey)?)),
    };
    match &secret {
        Some(secret) if !c.public_key.is_empty() => {
            let public = parse_key(&c.public_key, CurveOption::PublicKey)?;
            if keys::public_of(secret).map_err(CurveError::Setup)? != public {
                return Err(CurveError::PublicKeyMismatch);
            }
        }
        None if !c.public_key.is_empty() => return Err(CurveError::PublicKeyWithoutSecretKey),
        _ => {}
    }
    Ok(secret)
}

/// Binding: this end is the CURVE server, with its own secret key.
fn server(c: &CurveOptions, secret: Option<SecretKey>) -> Result<Security, CurveError> {
    if !c.server_public_key.is_empty() {
        return Err(CurveError::ServerKeyInBindMode);
    }
    let secret = secret.ok_or(CurveError::NoSecretKeyToBind)?;
    let mut keys = Vec::new();
    for (i, k) in c
        .allowed_clients
        .split(|ch: char| ch.is_whitespace() || ch == ',')
        .filter(|k| !k.is_empty())
        .enumerate()
    {
        keys.push(keys::parse_z85(k).map_err(|why| CurveError::BadKey {
            option: CurveOption::AllowedClients,
            index: Some(i + 1),
            why,
        })?);
    }
    let file = (!c.allowed_clients_file.is_empty()).then(|| PathBuf::from(&c.allowed_clients_file));
    if let Some(f) = &file {
        keys::read_public_keys_file(f).map_err(CurveError::KeyFile)?;
    }
    let allowed = (!keys.is_empty() || file.is_some()).then_some(Allowed { keys, file });
    Ok(Security::Server { secret, allowed })
}

/// Connecting: this end is a CURVE client of the server whose public key
/// is set, with its own key pair or a temporary one.
fn client(c: &CurveOptions, secret: Option<SecretKey>) -> Result<Security, CurveError> {
    if c.server_public_key.is_empty() {
        return Err(CurveError::NoServerKeyToConnect);
    }
    if !c.allowed_clients.is_empty() || !c.allowed_clients_file.is_empty() {
        return Err(CurveError::AllowedClientsInConnectMode);
    }
    let server = parse_key(&c.server_public_key, CurveOption::ServerPublicKey)?;
    let secret = match secret {
        Some(s) => s,
        None => {
            // No identity of our own: a temporary key pair.
            let pair = zmq::CurveKeyPair::new()
                .map_err(|e| CurveError::Setup(format!("cannot generate a CURVE key pair: {e}")))?;
            SecretKey(pair.secret_key)
        }
    };
    let public = keys::public_of(&secret).map_err(CurveError::Setup)?;
    Ok(Security::Client {
        server,
        public,
        secret,
    })
}

/// The key `text` of `option`.
fn parse_key(text: &str, option: CurveOption) -> Result<Key, CurveError> {
    keys::parse_z85(text).map_err(|why| CurveError::BadKey {
        option,
        index: None,
        why,
    })
}

/// Applies `security` to a socket before it connects or binds.
pub fn apply(socket: &mut zmq::Socket, security: &Security) -> Result<(), String> {
    let r = match security {
        Security::Plain => Ok(()),
        Security::Client {
            server,
            public,
            secret,
        } => socket
            .set_curve_serverkey(server)
            .and_then(|_| socket.set_curve_publickey(public))
            .and_then(|_| socket.set_curve_secretkey(&secret.0)),
        Security::Server { secret, .. } => socket
            .set_curve_server(true)
            .and_then(|_| socket.set_curve_secretkey(&secret.0))
            // The domain of the ZAP handler's requests.
            .and_then(|_| socket.set_zap_domain(ZAP_DOMAIN)),
    };
    r.map_err(|e| format!("cannot set up CURVE on the socket: {e}"))?;
    // With allowed clients, a missing ZAP handler refuses every client
    // instead of accepting all. Without, there is no handler: any client
    // with the server's public key may connect.
    if let Security::Server {
        allowed: Some(_), ..
    } = security
    {
        enforce_zap_domain(socket).map_err(|e| {
            format!(
                "cannot set up CURVE on the socket: ZMQ_ZAP_ENFORCE_DOMAIN \
                 (libzmq 4.3 or newer): {e}"
            )
        })?;
    }
    Ok(())
}

/// `ZMQ_ZAP_ENFORCE_DOMAIN` (libzmq >= 4.3; not in zmq-sys 0.12's
/// constants): a CURVE server whose ZAP domain is set refuses clients when
/// no ZAP handler answers, where libzmq would otherwise let them in.
fn enforce_zap_domain(socket: &mut zmq::Socket) -> zmq::Result<()> {
    const ZMQ_ZAP_ENFORCE_DOMAIN: std::os::raw::c_int = 93;
    let on: std::os::raw::c_int = 1;
    // SAFETY: a valid socket and a pointer to an int of the given size, as
    // zmq_setsockopt(3) requires for this option.
    let rc = unsafe {
        zmq_sys::zmq_setsockopt(
            socket.as_mut_ptr(),
            ZMQ_ZAP_ENFORCE_DOMAIN,
            &on as *const _ as *const std::os::raw::c_void,
            std::mem::size_of_val(&on),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(crate::frames::last_errno())
    }
}
