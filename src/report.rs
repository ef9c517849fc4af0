//! Where a writer's messages go: Zeek's reporter through the shim, or a
//! collector in tests; and how a value given by the operator appears in
//! them ([`quoted`], [`escaped`]).

use std::collections::BTreeSet;
use std::sync::Mutex;

/// The three reporter levels a writer thread may use.
pub trait Report {
    fn error(&self, msg: &str);
    fn warning(&self, msg: &str);
    fn info(&self, msg: &str);

    /// `msg` at `level`.
    fn at(&self, level: Level, msg: &str) {
        match level {
            Level::Error => self.error(msg),
            Level::Warning => self.warning(msg),
            Level::Info => self.info(msg),
        }
    }
}

/// Collects messages; for tests and tools.
#[derive(Default)]
pub struct Collected {
    pub messages: Mutex<Vec<(Level, String)>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Info,
}

impl Collected {
    pub fn take(&self) -> Vec<(Level, String)> {
        std::mem::take(&mut *self.messages.lock().unwrap())
    }
    fn push(&self, level: Level, msg: &str) {
        self.messages.lock().unwrap().push((level, msg.to_string()));
    }
}

impl Report for Collected {
    fn error(&self, msg: &str) {
        self.push(Level::Error, msg);
    }
    fn warning(&self, msg: &str) {
        self.push(Level::Warning, msg);
    }
    fn info(&self, msg: &str) {
        self.push(Level::Info, msg);
    }
}

/// `n` and `noun`, plural unless `n` is 1: "1 record", "2 records",
/// "0 records" (for every count a message gives).
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Whether `msg` is said for the first time in this process; it counts as
/// said from now on. For messages that are the same in every writer (about
/// a script-level option), of which a process has few.
pub fn first_in_process(msg: &str) -> bool {
    static SAID: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let mut said = SAID.lock().unwrap_or_else(|e| e.into_inner());
    if said.contains(msg) {
        return false;
    }
    said.insert(msg.to_string())
}

/// The most characters of one value a message shows; the rest is left
/// out, and its length said.
const MAX_SHOWN_CHARS: usize = 200;

/// `text` as a message shows a value: in double quotes, escaped as by
/// [`escaped`].
pub fn quoted(text: &str) -> String {
    format!("\"{}\"", escaped(text))
}

/// `text` as a message shows it without quotes: control characters, NUL
/// bytes, double quotes and backslashes escaped the way Rust writes them
/// (`\0`, `\n`, `\u{1b}`, `\"`, `\\`), and cut after 200 characters
/// (saying how long it was). So a value can neither end a message early
/// (Zeek's reporter takes C strings) nor hide in it, nor flood it.
pub fn escaped(text: &str) -> String {
    let cut = text
        .char_indices()
        .nth(MAX_SHOWN_CHARS)
        .map_or(text.len(), |(i, _)| i);
    let debug = format!("{:?}", &text[..cut]);
    let inner = &debug[1..debug.len() - 1];
    if cut == text.len() {
        inner.to_string()
    } else {
        format!("{inner}... ({} bytes in all)", text.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_agree_with_their_nouns() {
        assert_eq!(count(0, "record"), "0 records");
        assert_eq!(count(1, "record"), "1 record");
        assert_eq!(count(2, "file"), "2 files");
    }

    #[test]
    fn a_message_is_first_once_per_process() {
        let msg = "report::tests: said once";
        let firsts = (0..4)
            .map(|_| std::thread::spawn(move || first_in_process(msg)))
            .map(|t| t.join().unwrap())
            .filter(|first| *first)
            .count();
        assert_eq!(firsts, 1);
        assert!(first_in_process("report::tests: another"));
    }

    #[test]
    fn values_are_shown_escaped_and_bounded() {
        assert_eq!(quoted("tcp://a:1"), "\"tcp://a:1\"");
        assert_eq!(
            quoted("tcp://127.0.0.1:30020\0junk"),
            "\"tcp://127.0.0.1:30020\\0junk\""
        );
        assert_eq!(
            escaped("a\nb\tc\u{1b}[31m\"\\"),
            "a\\nb\\tc\\u{1b}[31m\\\"\\\\"
        );
        // Printable text, non-ASCII included, is as it was.
        assert_eq!(escaped("/etc/zeek/clé.key"), "/etc/zeek/clé.key");
        let long = "é".repeat(5000);
        let shown = escaped(&long);
        assert!(shown.starts_with(&"é".repeat(MAX_SHOWN_CHARS)));
        assert!(shown.ends_with("... (10000 bytes in all)"), "{shown}");
        assert!(!shown.contains('\0'));
    }
}
