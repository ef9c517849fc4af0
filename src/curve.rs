//! CURVE: encrypted, authenticated streams (CurveZMQ, with ZAP for client
//! authentication in bind mode).
//!
//! Fail closed: when any CURVE option is set, either every check passes and
//! the socket is a CURVE socket, or the writer gets an error and sends
//! nothing. It never falls back to plain text. No message contains a secret
//! key.

use crate::keys::{self, Key, SecretKey};
use crate::options::CurveOptions;
use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::SystemTime;

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
pub fn apply(socket: &zmq::Socket, security: &Security) -> Result<(), String> {
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
            // Lets the ZAP handler see a domain.
            .and_then(|_| socket.set_zap_domain("zeek-logs")),
    };
    r.map_err(|e| format!("cannot set up CURVE on the socket: {e}"))
}

/// Client keys rejected by a ZAP handler, each to be reported once.
#[derive(Default)]
struct Rejections {
    /// Connection attempts rejected in all.
    count: u64,
    reported: HashSet<Key>,
    /// Not yet reported: (client key, peer address).
    pending: Vec<(Key, String)>,
    /// Problems with the allowed-clients file, not yet reported.
    file_errors: Vec<String>,
}

impl Rejections {
    /// Messages to report now (each rejected key once), calling the
    /// rejected client a `peer`.
    fn take_messages(&mut self, peer: &str) -> Vec<String> {
        let count = self.count;
        let mut out: Vec<String> = self
            .pending
            .drain(..)
            .map(|(key, addr)| {
                format!(
                    "rejected a {peer} with CURVE public key {} from {addr}: not an allowed \
                     client ({count} rejected connection attempts so far)",
                    keys::to_z85(&key)
                )
            })
            .collect();
        out.append(&mut self.file_errors);
        out
    }
}

/// A ZAP handler: authenticates CURVE clients of the sockets in one
/// context against the allowed keys, until dropped.
pub struct ZapHandler {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    rejections: Arc<Mutex<Rejections>>,
}

impl ZapHandler {
    /// The ZAP handler a socket with `security` needs, started in `ctx`:
    /// one for a CURVE server that accepts only the allowed clients, none
    /// otherwise. Call it before any CURVE server socket in `ctx` binds.
    pub fn for_security(
        ctx: &zmq::Context,
        security: &Security,
    ) -> Result<Option<ZapHandler>, String> {
        match security {
            Security::Server {
                allowed: Some(allowed),
                ..
            } => ZapHandler::start(ctx, allowed.clone()).map(Some),
            _ => Ok(None),
        }
    }

    /// What to report about rejected clients since the last call, each
    /// rejected key once: the front-end says what the client was to it
    /// (`peer`: "subscriber" to a publisher, "publisher" to a subscriber).
    pub fn take_messages(&self, peer: &str) -> Vec<String> {
        lock(&self.rejections).take_messages(peer)
    }

    /// Binds the ZAP endpoint in `ctx` and serves it on a thread.
    fn start(ctx: &zmq::Context, allowed: Allowed) -> Result<ZapHandler, String> {
        let sock = ctx
            .socket(zmq::REP)
            .map_err(|e| format!("cannot create the ZAP socket: {e}"))?;
        sock.set_linger(0)
            .and_then(|_| sock.bind("inproc://zeromq.zap.01"))
            .map_err(|e| format!("cannot bind the ZAP handler: {e}"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let rejections = Arc::new(Mutex::new(Rejections::default()));
        let (stop2, rej2) = (stop.clone(), rejections.clone());
        let thread = std::thread::Builder::new()
            .name("zeromq-zap".into())
            .spawn(move || serve(sock, allowed, &stop2, &rej2))
            .map_err(|e| format!("cannot start the ZAP handler: {e}"))?;
        Ok(ZapHandler {
            stop,
            thread: Some(thread),
            rejections,
        })
    }
}

impl Drop for ZapHandler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The allowed keys, with the file re-read whenever it changes.
struct AllowList {
    fixed: Vec<Key>,
    file: Option<PathBuf>,
    file_keys: Vec<Key>,
    file_stamp: Option<SystemTime>,
}

impl AllowList {
    fn allows(&mut self, key: &Key, rejections: &Mutex<Rejections>) -> bool {
        if let Some(f) = &self.file {
            let stamp = std::fs::metadata(f).and_then(|m| m.modified()).ok();
            if stamp.is_none() || stamp != self.file_stamp {
                self.file_stamp = stamp;
                match keys::read_public_keys_file(f) {
                    Ok(k) => self.file_keys = k,
                    Err(e) => {
                        // Fail closed: no key from a file we cannot read.
                        self.file_keys.clear();
                        lock(rejections)
                            .file_errors
                            .push(format!("{e}; allowing no client from that file"));
                    }
                }
            }
        }
        self.fixed.contains(key) || self.file_keys.contains(key)
    }
}

fn lock(m: &Mutex<Rejections>) -> std::sync::MutexGuard<'_, Rejections> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Answers ZAP requests (RFC 27) until `stop`.
fn serve(sock: zmq::Socket, allowed: Allowed, stop: &AtomicBool, rejections: &Mutex<Rejections>) {
    let mut list = AllowList {
        fixed: allowed.keys,
        file: allowed.file,
        file_keys: Vec::new(),
        file_stamp: None,
    };
    while !stop.load(Ordering::Relaxed) {
        match sock.poll(zmq::POLLIN, 100) {
            Ok(n) if n > 0 => {}
            _ => continue,
        }
        let Ok(frames) = sock.recv_multipart(0) else {
            continue;
        };
        // version, request id, domain, address, identity, mechanism, key...
        let request_id = frames.get(1).cloned().unwrap_or_default();
        let address = frames
            .get(3)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .unwrap_or_default();
        let key: Option<Key> = match frames.get(5).map(Vec::as_slice) {
            Some(b"CURVE") => frames.get(6).and_then(|k| k.as_slice().try_into().ok()),
            _ => None,
        };
        let ok = key.is_some_and(|k| list.allows(&k, rejections));
        if !ok {
            let mut r = lock(rejections);
            r.count += 1;
            if let Some(k) = key {
                if r.reported.insert(k) {
                    r.pending.push((k, address));
                }
            }
        }
        let (code, text): (&[u8], &[u8]) = if ok {
            (b"200", b"OK")
        } else {
            (b"400", b"not an allowed client")
        };
        let reply: [&[u8]; 6] = [b"1.0", &request_id, code, text, b"", b""];
        let _ = sock.send_multipart(reply, 0);
    }
}
