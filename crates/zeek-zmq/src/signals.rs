//! SIGINT and SIGTERM as a flag the command's loop checks: the first one
//! asks for a clean shutdown (flush, close, report); a second one exits
//! at once.

use std::os::raw::c_int;
use std::sync::atomic::{AtomicU32, Ordering};

const SIGINT: c_int = 2;
const SIGTERM: c_int = 15;

static RECEIVED: AtomicU32 = AtomicU32::new(0);

extern "C" {
    fn signal(signum: c_int, handler: extern "C" fn(c_int)) -> usize;
    fn _exit(status: c_int) -> !;
}

extern "C" fn on_signal(signum: c_int) {
    // Only async-signal-safe work here: an atomic and _exit.
    if RECEIVED.fetch_add(1, Ordering::SeqCst) >= 1 {
        // SAFETY: _exit(2) is async-signal-safe and takes any status.
        unsafe { _exit(128 + signum) }
    }
}

/// Installs the handlers for SIGINT and SIGTERM.
pub fn install() {
    // SAFETY: `on_signal` only touches an atomic and calls _exit, both
    // async-signal-safe.
    unsafe {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
    }
}

/// Whether a shutdown was asked for.
pub fn received() -> bool {
    RECEIVED.load(Ordering::Relaxed) > 0
}
