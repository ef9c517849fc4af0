//! The client keys a ZAP handler allows: the fixed ones, and those of the
//! allowed-clients file, re-read when it changes.
//!
//! # When the file is read again
//!
//! Before each check the file is `stat`ed; it is read again unless its
//! stamp (device, inode, size, modification and change times to the
//! nanosecond) is the one recorded at the last complete read. The stamp is
//! taken before reading, and taken again after: if the two differ, the
//! file changed while being read, and no stamp is recorded, so the next
//! check reads it again. A file that cannot be `stat`ed or read gives no
//! key at all (fail closed) and is tried again at the next check.
//!
//! What this proves: a recorded stamp that matches means no rename onto
//! the name (the inode changes), no write that changes the size, and no
//! write or `chmod` on a clock tick after the read (the change time
//! moves, and unlike the modification time no user can set it back).
//! What it cannot: a rewrite in place that keeps the size within the same
//! tick of the filesystem's clock (a few milliseconds on Linux) as the
//! read, since the stamp does not change. Writing the new list to a new
//! file and renaming it over the old one (as editors and `install` do)
//! gives it a new inode, so it is always seen, and never half-written.

use super::Allowed;
use crate::keys::{self, Key};
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

pub(super) struct AllowList {
    fixed: Vec<Key>,
    file: Option<KeyFile>,
}

/// The allowed-clients file and the keys it held when last read.
struct KeyFile {
    path: PathBuf,
    keys: Vec<Key>,
    /// The stamp of the file `keys` were read from completely; `None`:
    /// read it at the next check.
    read: Option<Stamp>,
    /// Why the file gives no keys, if it does not.
    problem: Option<String>,
}

/// What changes when a file is replaced, rewritten or touched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
    fn of(path: &Path) -> io::Result<Stamp> {
        let m = fs::metadata(path)?;
        Ok(Stamp {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        })
    }
}

impl AllowList {
    pub(super) fn new(allowed: Allowed) -> AllowList {
        AllowList {
            fixed: allowed.keys,
            file: allowed.file.map(|path| KeyFile {
                path,
                keys: Vec::new(),
                read: None,
                problem: None,
            }),
        }
    }

    /// Whether `key` is allowed, the file read again first if it changed.
    pub(super) fn allows(&mut self, key: &Key) -> bool {
        if let Some(f) = &mut self.file {
            f.refresh_with(keys::read_public_keys_text);
        }
        self.fixed.contains(key) || self.file.as_ref().is_some_and(|f| f.keys.contains(key))
    }

    /// Why the allowed-clients file gives no keys now, if it does not.
    pub(super) fn file_problem(&self) -> Option<&str> {
        self.file.as_ref().and_then(|f| f.problem.as_deref())
    }
}

impl KeyFile {
    /// Reads the file with `read` (which says why it cannot) unless it is
    /// the one last read whole.
    fn refresh_with(&mut self, read: impl FnOnce(&Path) -> Result<String, String>) {
        let before = match Stamp::of(&self.path) {
            Ok(s) if Some(s) == self.read => return,
            Ok(s) => s,
            Err(e) => return self.fail(keys::cannot_read_key_file(&self.path, &e)),
        };
        let text = match read(&self.path) {
            Ok(t) => t,
            Err(why) => return self.fail(why),
        };
        match keys::public_keys_in(&text, &self.path) {
            Ok(k) => {
                self.keys = k;
                self.problem = None;
            }
            Err(e) => self.fail(e),
        }
        // Recorded only if the file did not change while it was read.
        let after = Stamp::of(&self.path).ok();
        self.read = (after == Some(before)).then_some(before);
    }

    /// Fail closed: no key from a file that cannot be used.
    fn fail(&mut self, problem: String) {
        self.keys.clear();
        self.read = None;
        self.problem = Some(problem);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;
    use std::io::Write;
    use std::time::{Duration, Instant, SystemTime};

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("zmqwriter-allow-{}", std::process::id()));
        fs::create_dir_all(&d).unwrap();
        let f = d.join(name);
        let _ = fs::remove_file(&f);
        f
    }

    fn key(n: u8) -> Key {
        [n; 32]
    }

    fn line(n: u8) -> String {
        format!("{}\n", keys::to_z85(&key(n)))
    }

    fn list(path: &Path) -> AllowList {
        AllowList::new(Allowed {
            keys: vec![key(9)],
            file: Some(path.to_path_buf()),
        })
    }

    /// Sets the modification time to `mtime`, once the change time shows
    /// a later tick than `ctime` (the filesystem's clock may be coarse).
    fn touch_back(path: &Path, mtime: SystemTime, ctime: (i64, i64)) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            File::options()
                .write(true)
                .open(path)
                .unwrap()
                .set_modified(mtime)
                .unwrap();
            let m = fs::metadata(path).unwrap();
            if (m.ctime(), m.ctime_nsec()) != ctime {
                return;
            }
            assert!(Instant::now() < deadline, "the change time does not move");
            std::thread::yield_now();
        }
    }

    #[test]
    fn a_missing_file_allows_only_the_fixed_keys_until_it_is_there() {
        let f = tmp("missing");
        let mut l = list(&f);
        assert!(!l.allows(&key(1)) && l.allows(&key(9)));
        let problem = l.file_problem().unwrap().to_string();
        assert!(problem.starts_with("cannot read key file") && problem.contains("missing"));
        fs::write(&f, line(1)).unwrap();
        assert!(l.allows(&key(1)));
        assert_eq!(l.file_problem(), None);
        fs::remove_file(&f).unwrap();
        assert!(!l.allows(&key(1)), "a deleted file still allows its keys");
        assert!(l.file_problem().is_some());
    }

    #[test]
    fn a_rewrite_with_the_same_size_and_modification_time_is_read() {
        let f = tmp("same-second");
        fs::write(&f, line(1)).unwrap();
        let mut l = list(&f);
        assert!(l.allows(&key(1)));
        let m = fs::metadata(&f).unwrap();
        let (mtime, ctime) = (m.modified().unwrap(), (m.ctime(), m.ctime_nsec()));
        // Another key, same length, and the modification time set back:
        // only the change time tells.
        fs::write(&f, line(2)).unwrap();
        touch_back(&f, mtime, ctime);
        let now = fs::metadata(&f).unwrap();
        assert_eq!((now.modified().unwrap(), now.len()), (mtime, m.len()));
        assert!(l.allows(&key(2)), "the rewritten file was not read again");
        assert!(!l.allows(&key(1)));
    }

    #[test]
    fn a_half_written_file_is_read_again_when_complete() {
        let f = tmp("half");
        let mut out = File::create(&f).unwrap();
        let mut l = list(&f);
        // Written line by line: each state is read, none kept as final.
        out.write_all(format!("# clients\n{}", line(1)).as_bytes())
            .unwrap();
        assert!(l.allows(&key(1)) && !l.allows(&key(2)));
        let second = line(2);
        let (half, rest) = second.split_at(16);
        out.write_all(half.as_bytes()).unwrap();
        // Half a key: no key from the file (fail closed), and why.
        assert!(!l.allows(&key(1)));
        assert!(
            l.file_problem().unwrap().contains("line 3"),
            "{:?}",
            l.file_problem()
        );
        out.write_all(rest.as_bytes()).unwrap();
        assert!(l.allows(&key(1)) && l.allows(&key(2)));
        assert_eq!(l.file_problem(), None);
    }

    #[test]
    fn a_file_that_changes_while_read_is_read_again() {
        let f = tmp("changing");
        fs::write(&f, line(1)).unwrap();
        let mut l = list(&f);
        let file = l.file.as_mut().unwrap();
        // The writer finishes just after the read: what was read is used,
        // but not recorded as the file's content.
        file.refresh_with(|p| {
            let text = keys::read_public_keys_text(p);
            let mut out = File::options().append(true).open(p).unwrap();
            out.write_all(line(2).as_bytes()).unwrap();
            text
        });
        assert_eq!(file.keys, vec![key(1)]);
        assert_eq!(file.read, None);
        assert!(l.allows(&key(2)));
        assert!(l.file.as_ref().unwrap().read.is_some());
    }

    #[test]
    fn an_unchanged_file_is_not_read_again() {
        let f = tmp("unchanged");
        fs::write(&f, line(1)).unwrap();
        let mut l = list(&f);
        assert!(l.allows(&key(1)));
        let file = l.file.as_mut().unwrap();
        file.refresh_with(|_| panic!("read again"));
        assert_eq!(file.keys, vec![key(1)]);
    }
}
