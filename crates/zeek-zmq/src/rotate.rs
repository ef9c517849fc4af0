//! `zeek-zmq sub --dir`: one Zeek-style JSON log per path, `DIR/<path>.log`,
//! rotated by size and/or interval, rotated files optionally gzipped.
//!
//! - A file is opened (appending, so a restart continues it) with the first
//!   record of its path, and closed at exit without being rotated.
//! - `--rotate-size`: a record that would take the file past the size
//!   rotates it first, so a file exceeds the size only if one record does.
//! - `--rotate`: files rotate when the interval they were opened in ends;
//!   intervals are aligned to the epoch (hourly at the full hour, UTC).
//! - A rotated file is renamed `<path>.<YYYY-MM-DD-HH-MM-SS>.log` after the
//!   time it was opened, UTC (`-1`, `-2`, ... before `.log` if that name is
//!   taken); with `--gzip` a background thread compresses it to `.log.gz`
//!   and removes the uncompressed file. Exit waits for it.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Clone, Copy, Debug, Default)]
pub struct Rotation {
    pub interval: Option<Duration>,
    pub max_size: Option<u64>,
    pub gzip: bool,
}

struct OpenLog {
    file: BufWriter<File>,
    name: PathBuf,
    path: Vec<u8>,
    size: u64,
    opened: SystemTime,
    rotate_at: Option<SystemTime>,
}

pub struct LogDir {
    dir: PathBuf,
    rotation: Rotation,
    open: HashMap<Vec<u8>, OpenLog>,
    gzip: Option<(mpsc::Sender<PathBuf>, JoinHandle<()>)>,
    /// Problems of the gzip thread, reported by `take_errors`.
    gzip_errors: mpsc::Receiver<String>,
}

/// Whether frame 1 can name a file in the output directory.
pub fn usable_path(path: &[u8]) -> bool {
    !path.is_empty() && path != b"." && path != b".." && !path.contains(&b'/') && !path.contains(&0)
}

/// `YYYY-MM-DD-HH-MM-SS` (UTC) for `t`.
pub fn utc_stamp(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}-{:02}-{:02}-{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The end of the interval `t` falls in, intervals aligned to the epoch.
fn interval_end(t: SystemTime, interval: Duration) -> SystemTime {
    let i = interval.as_nanos().max(1);
    let now = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
    let end = (now / i + 1) * i;
    UNIX_EPOCH + Duration::from_nanos(end.min(u64::MAX as u128) as u64)
}

fn gzip_file(src: &Path) -> io::Result<()> {
    let mut gz_name = src.as_os_str().to_owned();
    gz_name.push(".gz");
    let mut tmp_name = gz_name.clone();
    tmp_name.push(".tmp");
    let mut input = File::open(src)?;
    let out = File::create(&tmp_name)?;
    let mut enc =
        flate2::write::GzEncoder::new(BufWriter::new(out), flate2::Compression::default());
    io::copy(&mut input, &mut enc)?;
    enc.finish()?
        .into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()?;
    fs::rename(&tmp_name, &gz_name)?;
    fs::remove_file(src)
}

impl LogDir {
    /// Creates `dir` if needed.
    pub fn new(dir: &Path, rotation: Rotation) -> io::Result<LogDir> {
        fs::create_dir_all(dir)?;
        let (err_tx, gzip_errors) = mpsc::channel();
        let gzip = if rotation.gzip {
            let (tx, rx) = mpsc::channel::<PathBuf>();
            let thread = std::thread::Builder::new()
                .name("gzip".into())
                .spawn(move || {
                    for f in rx {
                        if let Err(e) = gzip_file(&f) {
                            let _ = err_tx.send(format!("cannot gzip {}: {e}", f.display()));
                        }
                    }
                })?;
            Some((tx, thread))
        } else {
            None
        };
        Ok(LogDir {
            dir: dir.to_path_buf(),
            rotation,
            open: HashMap::new(),
            gzip,
            gzip_errors,
        })
    }

    fn open_log(&self, path: &[u8], now: SystemTime) -> io::Result<OpenLog> {
        let mut file_name = path.to_vec();
        file_name.extend_from_slice(b".log");
        let name = self.dir.join(std::ffi::OsStr::from_bytes(&file_name));
        let file = OpenOptions::new().create(true).append(true).open(&name)?;
        let size = file.metadata()?.len();
        Ok(OpenLog {
            file: BufWriter::with_capacity(1 << 16, file),
            name,
            path: path.to_vec(),
            size,
            opened: now,
            rotate_at: self.rotation.interval.map(|i| interval_end(now, i)),
        })
    }

    /// Appends one record (a line without its newline) to `path`'s file;
    /// `path` must be [`usable_path`].
    pub fn write(&mut self, path: &[u8], line: &[u8]) -> io::Result<()> {
        let len = line.len() as u64 + 1;
        if let (Some(max), Some(log)) = (self.rotation.max_size, self.open.get(path)) {
            if log.size > 0 && log.size + len > max {
                let log = self.open.remove(path).expect("just found");
                self.rotate(log)?;
            }
        }
        let log = match self.open.get_mut(path) {
            Some(log) => log,
            None => {
                let log = self.open_log(path, SystemTime::now())?;
                self.open.entry(path.to_vec()).or_insert(log)
            }
        };
        log.file.write_all(line)?;
        log.file.write_all(b"\n")?;
        log.size += len;
        Ok(())
    }

    /// Closes `log`, renames it after the time it was opened, queues it
    /// for gzip.
    fn rotate(&mut self, mut log: OpenLog) -> io::Result<()> {
        log.file.flush()?;
        drop(log.file);
        let stamp = utc_stamp(log.opened);
        let taken = |p: &Path| {
            let mut gz = p.as_os_str().to_owned();
            gz.push(".gz");
            p.exists() || Path::new(&gz).exists()
        };
        let mut n = 0;
        let target = loop {
            let mut name = log.path.clone();
            name.extend_from_slice(format!(".{stamp}").as_bytes());
            if n > 0 {
                name.extend_from_slice(format!("-{n}").as_bytes());
            }
            name.extend_from_slice(b".log");
            let p = self.dir.join(std::ffi::OsStr::from_bytes(&name));
            if !taken(&p) {
                break p;
            }
            n += 1;
        };
        fs::rename(&log.name, &target)?;
        if let Some((tx, _)) = &self.gzip {
            let _ = tx.send(target);
        }
        Ok(())
    }

    /// Rotates the files whose interval ended by `now`.
    pub fn tick(&mut self, now: SystemTime) -> io::Result<()> {
        let due: Vec<Vec<u8>> = self
            .open
            .iter()
            .filter(|(_, l)| l.rotate_at.is_some_and(|t| t <= now))
            .map(|(p, _)| p.clone())
            .collect();
        for p in due {
            let log = self.open.remove(&p).expect("listed above");
            self.rotate(log)?;
        }
        Ok(())
    }

    /// When the next interval rotation is due.
    pub fn next_rotation(&self) -> Option<SystemTime> {
        self.open.values().filter_map(|l| l.rotate_at).min()
    }

    pub fn flush(&mut self) -> io::Result<()> {
        for log in self.open.values_mut() {
            log.file.flush()?;
        }
        Ok(())
    }

    /// Problems the gzip thread had since the last call.
    pub fn take_errors(&mut self) -> Vec<String> {
        self.gzip_errors.try_iter().collect()
    }

    /// Flushes and closes every file, and waits for the gzip thread.
    pub fn close(mut self) -> io::Result<()> {
        let mut result = Ok(());
        for (_, mut log) in self.open.drain() {
            if let Err(e) = log.file.flush() {
                result = result.and(Err(e));
            }
        }
        if let Some((tx, thread)) = self.gzip.take() {
            drop(tx);
            let _ = thread.join();
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("zmqwriter-rotate-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn stamps() {
        assert_eq!(utc_stamp(UNIX_EPOCH), "1970-01-01-00-00-00");
        let t = UNIX_EPOCH + Duration::from_secs(1_709_251_199); // 2024-02-29T23:59:59Z
        assert_eq!(utc_stamp(t), "2024-02-29-23-59-59");
        let t = UNIX_EPOCH + Duration::from_secs(4_102_444_800); // 2100-01-01
        assert_eq!(utc_stamp(t), "2100-01-01-00-00-00");
        let h = Duration::from_secs(3600);
        assert_eq!(
            interval_end(UNIX_EPOCH + Duration::from_secs(7300), h),
            UNIX_EPOCH + Duration::from_secs(10800)
        );
    }

    #[test]
    fn size_rotation_and_gzip() {
        let dir = tmp("size");
        let mut d = LogDir::new(
            &dir,
            Rotation {
                max_size: Some(25),
                gzip: true,
                ..Rotation::default()
            },
        )
        .unwrap();
        for i in 0..5 {
            d.write(b"conn", format!("{{\"n\":{i}}}").as_bytes())
                .unwrap(); // 8 bytes a line
        }
        d.write(b"dns", &[b'x'; 40]).unwrap();
        d.close().unwrap();
        let n = names(&dir);
        assert_eq!(n.len(), 3, "{n:?}");
        assert!(n.iter().any(|f| f == "conn.log"));
        assert!(n.iter().any(|f| f == "dns.log"));
        let rotated = n.iter().find(|f| f.ends_with(".log.gz")).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(File::open(dir.join(rotated)).unwrap()),
            &mut text,
        )
        .unwrap();
        assert_eq!(text, "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n");
        assert_eq!(
            fs::read_to_string(dir.join("conn.log")).unwrap(),
            "{\"n\":3}\n{\"n\":4}\n"
        );
        assert!(usable_path(b"conn-2") && !usable_path(b"../x") && !usable_path(b".."));
    }

    #[test]
    fn interval_rotation() {
        let dir = tmp("interval");
        let mut d = LogDir::new(
            &dir,
            Rotation {
                interval: Some(Duration::from_secs(3600)),
                ..Rotation::default()
            },
        )
        .unwrap();
        d.write(b"conn", b"{}").unwrap();
        let due = d.next_rotation().unwrap();
        d.tick(due - Duration::from_secs(1)).unwrap();
        assert_eq!(names(&dir), ["conn.log"]);
        d.tick(due).unwrap();
        assert!(d.next_rotation().is_none());
        d.write(b"conn", b"{}").unwrap();
        d.tick(SystemTime::now() + Duration::from_secs(7200))
            .unwrap();
        d.close().unwrap();
        let n = names(&dir);
        assert_eq!(n.len(), 2, "{n:?}");
        assert!(n
            .iter()
            .all(|f| f.starts_with("conn.20") && f.ends_with(".log")));
    }
}
