//! The ZAP handler (ZeroMQ RFC 27) of a CURVE server with allowed
//! clients: a thread answering libzmq's authentication requests for the
//! sockets of one context, until dropped.

use super::allow_list::AllowList;
use super::rejections::Rejections;
use super::{Allowed, Security, ZAP_DOMAIN};
use crate::keys::Key;
use crate::report::Level;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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
    ///
    /// A problem that lasts is said again at most every `repeat_every`
    /// (the plugin's `drop_report_interval`): a missing or unusable
    /// allowed-clients file, and rejections beyond the
    /// [`MAX_REPORTED_KEYS`](super::MAX_REPORTED_KEYS) keys reported one by
    /// one.
    pub fn for_security(
        ctx: &zmq::Context,
        security: &Security,
        repeat_every: Duration,
    ) -> Result<Option<ZapHandler>, String> {
        match security {
            Security::Server {
                allowed: Some(allowed),
                ..
            } => ZapHandler::start(ctx, allowed.clone(), repeat_every).map(Some),
            _ => Ok(None),
        }
    }

    /// What to report about rejected clients since the last call (see
    /// [`ZapHandler::for_security`]): the front-end says what the client
    /// was to it (`peer`: "subscriber" to a publisher, "publisher" to a
    /// subscriber).
    pub fn take_reports(&self, peer: &str) -> Vec<(Level, String)> {
        lock(&self.rejections).take_reports(peer, Instant::now())
    }

    /// Binds the ZAP endpoint in `ctx` and serves it on a thread.
    fn start(
        ctx: &zmq::Context,
        allowed: Allowed,
        repeat_every: Duration,
    ) -> Result<ZapHandler, String> {
        let sock = ctx
            .socket(zmq::REP)
            .map_err(|e| format!("cannot create the ZAP socket: {e}"))?;
        sock.set_linger(0)
            .and_then(|_| sock.bind("inproc://zeromq.zap.01"))
            .map_err(|e| format!("cannot bind the ZAP handler: {e}"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let rejections = Arc::new(Mutex::new(Rejections::new(repeat_every)));
        let (stop2, rej2) = (stop.clone(), rejections.clone());
        let thread = std::thread::Builder::new()
            .name("zeromq-zap".into())
            .spawn(move || serve(sock, AllowList::new(allowed), &stop2, &rej2))
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

fn lock(m: &Mutex<Rejections>) -> MutexGuard<'_, Rejections> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Answers ZAP requests until `stop`.
fn serve(
    sock: zmq::Socket,
    mut list: AllowList,
    stop: &AtomicBool,
    rejections: &Mutex<Rejections>,
) {
    while !stop.load(Ordering::Relaxed) {
        match sock.poll(zmq::POLLIN, 100) {
            Ok(n) if n > 0 => {}
            _ => continue,
        }
        let Ok(request) = sock.recv_multipart(0) else {
            continue;
        };
        let (code, text) = answer(&request, &mut list, rejections, Instant::now());
        let request_id = request.get(1).map_or(&[][..], Vec::as_slice);
        let reply: [&[u8]; 6] = [b"1.0", request_id, code, text, b"", b""];
        let _ = sock.send_multipart(reply, 0);
    }
}

/// The status code and text answering one ZAP `request` (version, request
/// id, domain, address, identity, mechanism, credentials...) at `now`:
/// "200" for a CURVE client of [`ZAP_DOMAIN`] with an allowed key, "400"
/// for any other (counted in `rejections`, locked only once the file was
/// read, so that taking messages never waits for the file system).
fn answer(
    request: &[Vec<u8>],
    list: &mut AllowList,
    rejections: &Mutex<Rejections>,
    now: Instant,
) -> (&'static [u8], &'static [u8]) {
    let frame = |i: usize| request.get(i).map_or(&[][..], Vec::as_slice);
    let address = frame(3);
    if frame(0) != b"1.0" || frame(2) != ZAP_DOMAIN.as_bytes() {
        // Not a request of our sockets: refused, counted, no key to report.
        lock(rejections).reject(None, address);
        return (b"400", b"not a request for this ZAP domain");
    }
    let key: Option<&Key> = match frame(5) {
        b"CURVE" => frame(6).try_into().ok(),
        _ => None,
    };
    let allowed = key.is_some_and(|k| list.allows(k));
    let mut rejections = lock(rejections);
    if let Some(problem) = list.file_problem() {
        rejections.file_problem(problem, now);
    }
    if allowed {
        (b"200", b"OK")
    } else {
        rejections.reject(key, address);
        (b"400", b"not an allowed client")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curve::{self, SecretKey};
    use std::path::PathBuf;

    struct Pair {
        public: Key,
        secret: Key,
    }

    fn pair() -> Pair {
        let p = zmq::CurveKeyPair::new().unwrap();
        Pair {
            public: p.public_key,
            secret: p.secret_key,
        }
    }

    fn request(domain: &str, mechanism: &str, key: &Key) -> Vec<Vec<u8>> {
        [
            b"1.0".as_slice(),
            b"7",
            domain.as_bytes(),
            b"10.0.0.1",
            b"",
            mechanism.as_bytes(),
            key,
        ]
        .iter()
        .map(|f| f.to_vec())
        .collect()
    }

    fn fixed(keys: Vec<Key>) -> AllowList {
        AllowList::new(Allowed { keys, file: None })
    }

    #[test]
    fn only_curve_requests_of_our_domain_with_allowed_keys_pass() {
        let (ok, other) = ([1u8; 32], [2u8; 32]);
        let mut list = fixed(vec![ok]);
        let r = Mutex::new(Rejections::new(Duration::from_secs(60)));
        let now = Instant::now();
        let mut code = |req: Vec<Vec<u8>>| answer(&req, &mut list, &r, now).0;
        assert_eq!(code(request(ZAP_DOMAIN, "CURVE", &ok)), b"200");
        assert_eq!(code(request("other", "CURVE", &ok)), b"400");
        assert_eq!(code(request("", "CURVE", &ok)), b"400");
        assert_eq!(code(request(ZAP_DOMAIN, "PLAIN", &ok)), b"400");
        assert_eq!(code(request(ZAP_DOMAIN, "CURVE", &other)), b"400");
        let mut short = request(ZAP_DOMAIN, "CURVE", &ok);
        short[6].pop();
        assert_eq!(code(short), b"400");
        let mut version = request(ZAP_DOMAIN, "CURVE", &ok);
        version[0] = b"2.0".to_vec();
        assert_eq!(code(version), b"400");
        let mut r = lock(&r);
        assert_eq!(r.count(), 6);
        // Only the CURVE key of our domain is reported.
        assert_eq!(r.take_messages("subscriber", now).len(), 1);
    }

    /// A CURVE server socket with `security` in `ctx`, bound to a free
    /// port, and a monitor of its handshakes.
    fn server(ctx: &zmq::Context, security: &Security, domain: &str) -> (zmq::Socket, Monitor) {
        let mut s = ctx.socket(zmq::XPUB).unwrap();
        curve::apply(&mut s, security).unwrap();
        s.set_zap_domain(domain).unwrap();
        let monitor = Monitor::new(ctx, &s);
        s.bind("tcp://127.0.0.1:*").unwrap();
        (s, monitor)
    }

    /// A CURVE client of `server` with `own` keys.
    fn client(
        ctx: &zmq::Context,
        server: &zmq::Socket,
        server_key: &Key,
        own: &Pair,
    ) -> zmq::Socket {
        let c = ctx.socket(zmq::SUB).unwrap();
        c.set_curve_serverkey(server_key).unwrap();
        c.set_curve_publickey(&own.public).unwrap();
        c.set_curve_secretkey(&own.secret).unwrap();
        c.set_linger(0).unwrap();
        c.set_subscribe(b"").unwrap();
        c.connect(&server.get_last_endpoint().unwrap().unwrap())
            .unwrap();
        c
    }

    /// The handshake events of a socket.
    struct Monitor(zmq::Socket);

    impl Monitor {
        fn new(ctx: &zmq::Context, s: &zmq::Socket) -> Monitor {
            static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let at = format!(
                "inproc://zap-test-monitor-{}",
                N.fetch_add(1, Ordering::Relaxed)
            );
            s.monitor(&at, zmq::SocketEvent::ALL as i32).unwrap();
            let m = ctx.socket(zmq::PAIR).unwrap();
            m.connect(&at).unwrap();
            Monitor(m)
        }

        /// The next handshake outcome, waiting at most 10 s.
        fn handshake(&self) -> zmq::SocketEvent {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                assert!(!left.is_zero(), "no handshake within 10 s");
                if self.0.poll(zmq::POLLIN, left.as_millis() as i64).unwrap() == 0 {
                    continue;
                }
                let frames = self.0.recv_multipart(0).unwrap();
                let event =
                    zmq::SocketEvent::from_raw(u16::from_le_bytes([frames[0][0], frames[0][1]]));
                match event {
                    zmq::SocketEvent::HANDSHAKE_SUCCEEDED
                    | zmq::SocketEvent::HANDSHAKE_FAILED_AUTH
                    | zmq::SocketEvent::HANDSHAKE_FAILED_NO_DETAIL
                    | zmq::SocketEvent::HANDSHAKE_FAILED_PROTOCOL => return event,
                    _ => {}
                }
            }
        }
    }

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("zmqwriter-zap-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let f = d.join(name);
        let _ = std::fs::remove_file(&f);
        f
    }

    fn bind_security(server: &Pair, allowed: Option<Allowed>) -> Security {
        Security::Server {
            secret: SecretKey(server.secret),
            allowed,
        }
    }

    /// A server allowing `keys` and those of `file`.
    fn allowing(server: &Pair, keys: Vec<Key>, file: Option<PathBuf>) -> Security {
        bind_security(server, Some(Allowed { keys, file }))
    }

    #[test]
    fn without_its_zap_handler_an_allow_list_server_refuses_everyone() {
        // ZMQ_ZAP_ENFORCE_DOMAIN: with no handler, libzmq would otherwise
        // let any client with the server's key in.
        let (srv, own) = (pair(), pair());
        let ctx = zmq::Context::new();
        let security = allowing(&srv, vec![own.public], None);
        let (s, monitor) = server(&ctx, &security, ZAP_DOMAIN);
        let _c = client(&ctx, &s, &srv.public, &own);
        assert_eq!(
            monitor.handshake(),
            zmq::SocketEvent::HANDSHAKE_FAILED_NO_DETAIL
        );
        // Without an allow list there is no handler to require: anyone
        // with the server's key may subscribe.
        let ctx = zmq::Context::new();
        let (s, monitor) = server(&ctx, &bind_security(&srv, None), ZAP_DOMAIN);
        let _c = client(&ctx, &s, &srv.public, &own);
        assert_eq!(monitor.handshake(), zmq::SocketEvent::HANDSHAKE_SUCCEEDED);
    }

    #[test]
    fn a_socket_of_another_domain_gets_no_client_through() {
        let (srv, own) = (pair(), pair());
        let security = allowing(&srv, vec![own.public], None);
        let ctx = zmq::Context::new();
        let zap = ZapHandler::for_security(&ctx, &security, Duration::from_secs(60))
            .unwrap()
            .unwrap();
        let (ours, ours_monitor) = server(&ctx, &security, ZAP_DOMAIN);
        let (theirs, theirs_monitor) = server(&ctx, &security, "other");
        let _c1 = client(&ctx, &ours, &srv.public, &own);
        assert_eq!(
            ours_monitor.handshake(),
            zmq::SocketEvent::HANDSHAKE_SUCCEEDED
        );
        let _c2 = client(&ctx, &theirs, &srv.public, &own);
        assert_eq!(
            theirs_monitor.handshake(),
            zmq::SocketEvent::HANDSHAKE_FAILED_AUTH
        );
        drop(zap);
    }

    #[test]
    fn a_missing_file_is_one_message_however_many_handshakes() {
        let (srv, own) = (pair(), pair());
        let file = tmp("missing-allowed");
        let security = allowing(&srv, vec![], Some(file.clone()));
        let ctx = zmq::Context::new();
        let zap = ZapHandler::for_security(&ctx, &security, Duration::from_secs(3600))
            .unwrap()
            .unwrap();
        let (s, monitor) = server(&ctx, &security, ZAP_DOMAIN);
        // A client that tries again and again (libzmq's own does not after
        // a refusal; one that wants in makes a new connection).
        let mut messages = Vec::new();
        for _ in 0..20 {
            let _c = client(&ctx, &s, &srv.public, &own);
            assert_eq!(monitor.handshake(), zmq::SocketEvent::HANDSHAKE_FAILED_AUTH);
            messages.extend(zap.take_reports("subscriber").into_iter().map(|(_, m)| m));
        }
        assert_eq!(lock(&zap.rejections).count(), 20);
        let about_file: Vec<_> = messages
            .iter()
            .filter(|m| m.contains("missing-allowed"))
            .collect();
        assert_eq!(about_file.len(), 1, "{messages:#?}");
        assert!(
            about_file[0].starts_with("cannot read key file"),
            "{messages:#?}"
        );
        // The key itself is reported once too.
        assert_eq!(messages.len(), 2, "{messages:#?}");
        // Once the file lists the key, the client gets in.
        std::fs::write(&file, format!("{}\n", crate::keys::to_z85(&own.public))).unwrap();
        let _c = client(&ctx, &s, &srv.public, &own);
        assert_eq!(monitor.handshake(), zmq::SocketEvent::HANDSHAKE_SUCCEEDED);
    }

    #[test]
    fn a_file_problem_that_lasts_is_said_again_after_the_interval() {
        let (srv, own) = (pair(), pair());
        let security = allowing(&srv, vec![], Some(tmp("still-missing")));
        let every = Duration::from_millis(200);
        let ctx = zmq::Context::new();
        let zap = ZapHandler::for_security(&ctx, &security, every)
            .unwrap()
            .unwrap();
        let (s, monitor) = server(&ctx, &security, ZAP_DOMAIN);
        let mut said = Vec::new();
        let start = Instant::now();
        let deadline = start + Duration::from_secs(10);
        while said.len() < 2 {
            assert!(Instant::now() < deadline, "said {} times", said.len());
            let _c = client(&ctx, &s, &srv.public, &own);
            assert_eq!(monitor.handshake(), zmq::SocketEvent::HANDSHAKE_FAILED_AUTH);
            let m = zap.take_reports("subscriber");
            said.extend(
                m.iter()
                    .filter(|(level, m)| *level == Level::Error && m.contains("still-missing"))
                    .map(|_| Instant::now()),
            );
        }
        // Queued one interval after the first, which came after `start`.
        assert!(said[1] - start >= every);
    }
}
