//! Where a writer's messages go: Zeek's reporter through the shim, or a
//! collector in tests.

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
    pub messages: std::sync::Mutex<Vec<(Level, String)>>,
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

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn counts_agree_with_their_nouns() {
        assert_eq!(count(0, "record"), "0 records");
        assert_eq!(count(1, "record"), "1 record");
        assert_eq!(count(2, "file"), "2 files");
    }
}
