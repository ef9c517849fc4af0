//! CURVE keys: the Z85 text form, key files, and key generation.
//!
//! A key file holds one key as 40 Z85 characters on a line of its own;
//! empty lines and lines starting with `#` are ignored. `NAME.key` holds a
//! secret key and must not be readable by group or others; `NAME.pub` holds
//! the matching public key. An allowed-clients file holds any number of
//! public keys, one per line. No error message ever contains a secret key.
//!
//! A key file is read only if it is a regular file, of at most 64 KiB for
//! a secret key file and 4 MiB for a file of public keys; it is opened
//! without blocking and checked before a byte is read (see
//! `open_regular`), so a FIFO or a device named as a key file gives an
//! error instead of hanging or filling memory.

use crate::report::escaped;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// A 32-byte CURVE key.
pub type Key = [u8; 32];

/// A secret key; its `Debug` form does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(pub Key);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// Whether the libzmq in use was built with CURVE.
pub fn curve_available() -> bool {
    zmq::has("curve").unwrap_or(false)
}

/// Decodes a key from its 40-character Z85 form. The error describes the
/// problem without repeating the text (which may be a secret key).
pub fn parse_z85(text: &str) -> Result<Key, String> {
    let text = text.trim();
    if text.len() != 40 {
        return Err(format!(
            "a key is 40 Z85 characters, this one has {}",
            text.chars().count()
        ));
    }
    const Z85: &str =
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
    if !text.chars().all(|c| Z85.contains(c)) {
        return Err("not a Z85 key (characters outside the Z85 alphabet)".into());
    }
    let bytes = zmq::z85_decode(text).map_err(|_| "not a Z85 key".to_string())?;
    bytes
        .try_into()
        .map_err(|_| "not a Z85 key (wrong length)".to_string())
}

/// The Z85 form of `key`.
pub fn to_z85(key: &Key) -> String {
    zmq::z85_encode(key).expect("32 bytes encode")
}

extern "C" {
    // libzmq >= 4.2; not bound by zmq-sys 0.12.
    fn zmq_curve_public(
        z85_public_key: *mut std::os::raw::c_char,
        z85_secret_key: *const std::os::raw::c_char,
    ) -> std::os::raw::c_int;
}

/// The public key that belongs to `secret`.
pub fn public_of(secret: &SecretKey) -> Result<Key, String> {
    let secret_z85 = std::ffi::CString::new(to_z85(&secret.0)).expect("no NUL in Z85");
    let mut public = [0u8; 41];
    // SAFETY: zmq_curve_public(3) writes 40 characters and a NUL into a
    // 41-byte buffer and reads a NUL-terminated 40-character secret.
    let rc = unsafe { zmq_curve_public(public.as_mut_ptr() as *mut _, secret_z85.as_ptr()) };
    if rc != 0 {
        return Err("libzmq cannot derive a public key (built without CURVE?)".into());
    }
    parse_z85(std::str::from_utf8(&public[..40]).map_err(|_| "bad public key")?)
}

/// The keys in `text`: one per non-empty, non-comment line.
fn keys_in(text: &str) -> Vec<(usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// The largest secret key file read: it holds one key (a line of 41
/// bytes), with room for comments.
pub const MAX_SECRET_KEY_FILE_BYTES: u64 = 64 * 1024;

/// The largest public keys file read (an allowed-clients file): about
/// 100,000 keys of 41 bytes a line.
pub const MAX_PUBLIC_KEYS_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Reads a secret key file; refuses one that group or others can read.
pub fn read_secret_key_file(path: &Path) -> Result<SecretKey, String> {
    const WHAT: &str = "secret key file";
    let shown = escaped(&path.to_string_lossy());
    let (file, meta) = open_regular(path, MAX_SECRET_KEY_FILE_BYTES, WHAT)?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "secret key file {shown} is readable by group or others (mode {mode:03o}); \
             chmod 600 it"
        ));
    }
    let text = read_limited(file, path, MAX_SECRET_KEY_FILE_BYTES, WHAT)?;
    match keys_in(&text).as_slice() {
        [(line, key)] => parse_z85(key)
            .map(SecretKey)
            .map_err(|e| format!("secret key file {shown}, line {line}: {e}")),
        [] => Err(format!("secret key file {shown} holds no key")),
        _ => Err(format!("secret key file {shown} holds more than one key")),
    }
}

/// Reads a file of public keys (one or more).
pub fn read_public_keys_file(path: &Path) -> Result<Vec<Key>, String> {
    public_keys_in(&read_public_keys_text(path)?, path)
}

/// The text of a file of public keys, read as [`open_regular`] says.
pub fn read_public_keys_text(path: &Path) -> Result<String, String> {
    const WHAT: &str = "key file";
    let (file, _) = open_regular(path, MAX_PUBLIC_KEYS_FILE_BYTES, WHAT)?;
    read_limited(file, path, MAX_PUBLIC_KEYS_FILE_BYTES, WHAT)
}

/// The public keys in `text`, read from the key file `path`.
pub fn public_keys_in(text: &str, path: &Path) -> Result<Vec<Key>, String> {
    keys_in(text)
        .into_iter()
        .map(|(line, key)| {
            parse_z85(key).map_err(|e| {
                format!(
                    "key file {}, line {line}: {e}",
                    escaped(&path.to_string_lossy())
                )
            })
        })
        .collect()
}

/// Why the key file `path` cannot be read.
pub fn cannot_read_key_file(path: &Path, e: &std::io::Error) -> String {
    cannot_read("key file", path, e)
}

/// `cannot read WHAT PATH: WHY`.
fn cannot_read(what: &str, path: &Path, why: impl std::fmt::Display) -> String {
    format!(
        "cannot read {what} {}: {why}",
        escaped(&path.to_string_lossy())
    )
}

/// Opens the file `what` (named so in messages) at `path` for reading, if
/// it is a regular file of at most `limit` bytes; with its metadata.
///
/// What the name leads to is opened without waiting (`O_NONBLOCK`: a FIFO
/// would otherwise block until something writes to it) and without
/// becoming the process's terminal (`O_NOCTTY`), and is then checked
/// through the opened descriptor (`fstat`), so that nothing can replace it
/// between the check and the read: a FIFO, a device (`/dev/zero` would
/// fill memory), a directory or a socket is refused before a byte is read.
/// (A symbolic link is followed: key files behind links, as Kubernetes
/// mounts secrets, are common, and the checks apply to the file the link
/// leads to.)
fn open_regular(path: &Path, limit: u64, what: &str) -> Result<(fs::File, fs::Metadata), String> {
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| cannot_read(what, path, e))?;
    let meta = file.metadata().map_err(|e| cannot_read(what, path, e))?;
    let kind = meta.file_type();
    if !kind.is_file() {
        let is = if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_char_device() {
            "a character device"
        } else if kind.is_block_device() {
            "a block device"
        } else if kind.is_dir() {
            "a directory"
        } else if kind.is_socket() {
            "a socket"
        } else {
            "something else"
        };
        return Err(cannot_read(
            what,
            path,
            format!("it is {is}, not a regular file"),
        ));
    }
    if meta.len() > limit {
        return Err(too_large(what, path, limit));
    }
    Ok((file, meta))
}

/// The text of `file` (opened from `path` by [`open_regular`]): at most
/// `limit` bytes, even if it grew since it was checked.
fn read_limited(file: fs::File, path: &Path, limit: u64, what: &str) -> Result<String, String> {
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| cannot_read(what, path, e))?;
    if bytes.len() as u64 > limit {
        return Err(too_large(what, path, limit));
    }
    String::from_utf8(bytes).map_err(|_| cannot_read(what, path, "it is not UTF-8 text"))
}

fn too_large(what: &str, path: &Path, limit: u64) -> String {
    cannot_read(
        what,
        path,
        format!(
            "it is larger than {} KiB, the most a {what} may hold",
            limit / 1024
        ),
    )
}

/// The mode of a secret key file: its owner's only.
const SECRET_MODE: u32 = 0o600;
/// The mode of a public key file.
const PUBLIC_MODE: u32 = 0o644;

/// Generates a key pair and writes `NAME.key` (the secret key, mode 0600)
/// and `NAME.pub` (the public key, mode 0644). Refuses to overwrite either
/// unless `force`. Returns the two paths.
///
/// Neither file is ever written through a symbolic link, and the secret key
/// file never has a mode wider than 0600, not even for a moment (each file
/// is created with its mode, see [`create_exclusive`]):
/// - without `force`, each name is created anew (`O_CREAT|O_EXCL`), which
///   fails if anything has that name, a dangling link included: there is no
///   window between a check and the open in which a file could appear;
/// - with `force`, each file is written whole under a new name in the same
///   directory, synced, and renamed over `NAME.key`/`NAME.pub`: rename(2)
///   replaces a link itself, never its target, and readers see the old file
///   or the new one, never part of one.
pub fn write_keypair(name: &Path, force: bool) -> Result<(PathBuf, PathBuf), String> {
    if !curve_available() {
        return Err("libzmq was built without CURVE".into());
    }
    let pair = zmq::CurveKeyPair::new().map_err(|e| format!("cannot generate keys: {e}"))?;
    let with_ext = |ext: &str| {
        let mut p = name.as_os_str().to_owned();
        p.push(ext);
        PathBuf::from(p)
    };
    let (secret_path, public_path) = (with_ext(".key"), with_ext(".pub"));
    if !force {
        // Only to refuse before writing either file; `create_exclusive` is
        // what keeps an existing file (or link) from being written to.
        for p in [&secret_path, &public_path] {
            if p.symlink_metadata().is_ok() {
                return Err(exists(p));
            }
        }
    }
    let file_text =
        |what: &str, key: &Key| format!("# ZeroMQ CURVE {what} key (Z85)\n{}\n", to_z85(key));
    write_key_file(
        &secret_path,
        SECRET_MODE,
        &file_text("secret", &pair.secret_key),
        force,
    )?;
    write_key_file(
        &public_path,
        PUBLIC_MODE,
        &file_text("public", &pair.public_key),
        force,
    )
    .map_err(|e| {
        format!(
            "{e}; {} holds a new secret key without its public key: run again",
            secret_path.display()
        )
    })?;
    Ok((secret_path, public_path))
}

fn exists(path: &Path) -> String {
    format!("{} exists (use --force to overwrite)", path.display())
}

/// Writes `text` into a new file `path` with `mode`; with `replace`, in
/// place of whatever has that name (a file or a link, which is replaced,
/// not followed).
fn write_key_file(path: &Path, mode: u32, text: &str, replace: bool) -> Result<(), String> {
    let cannot = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    if !replace {
        let file = create_exclusive(path, mode).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => exists(path),
            _ => cannot(e),
        })?;
        return fill(file, mode, text).map_err(|e| {
            // Not left half-written; the file is the one created above.
            let _ = fs::remove_file(path);
            cannot(e)
        });
    }
    let (temporary, file) = create_beside(path, mode).map_err(cannot)?;
    fill(file, mode, text)
        .and_then(|()| fs::rename(&temporary, path))
        .map_err(|e| {
            let _ = fs::remove_file(&temporary);
            cannot(e)
        })
}

/// Creates `path` for writing if nothing has that name: `O_CREAT|O_EXCL`
/// (which never follows a link, not even a dangling one) and `O_NOFOLLOW`
/// besides. It is created with `mode` narrowed by the umask, never wider.
fn create_exclusive(path: &Path, mode: u32) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(mode)
        .open(path)
}

/// A new file with `mode` in the directory of `path`, under a name of its
/// own (`.NAME.PID-N.tmp`), to be renamed over `path`.
fn create_beside(path: &Path, mode: u32) -> std::io::Result<(PathBuf, fs::File)> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?;
    for _ in 0..1000 {
        let mut name = std::ffi::OsString::from(".");
        name.push(base);
        name.push(format!(
            ".{}-{}.tmp",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let temporary = path.with_file_name(name);
        match create_exclusive(&temporary, mode) {
            // Left over by a process with our id that died: try the next.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            r => return r.map(|f| (temporary, f)),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        "no free temporary name beside it",
    ))
}

/// Sets the mode exactly (the umask may have narrowed it), writes `text`
/// and syncs it to disk.
fn fill(mut file: fs::File, mode: u32, text: &str) -> std::io::Result<()> {
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("zmqwriter-keys-{}", std::process::id()));
        fs::create_dir_all(&d).unwrap();
        d.join(name)
    }

    #[test]
    fn keygen_round_trip() {
        let name = tmp("sensor");
        let (k, p) = write_keypair(&name, false).unwrap();
        assert_eq!(
            fs::metadata(&k).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let secret = read_secret_key_file(&k).unwrap();
        let public = read_public_keys_file(&p).unwrap();
        assert_eq!(public, vec![public_of(&secret).unwrap()]);
        assert!(write_keypair(&name, false).unwrap_err().contains("--force"));
        write_keypair(&name, true).unwrap();
        assert_ne!(read_secret_key_file(&k).unwrap(), secret);
    }

    /// `tmp(name)`, with nothing there (a run with the same process id
    /// may have left something).
    fn fresh(name: &str) -> PathBuf {
        let p = tmp(name);
        let _ = fs::remove_file(&p);
        p
    }

    fn mode_of(p: &Path) -> u32 {
        fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn keygen_refuses_any_existing_name_without_force() {
        // An existing public key file: nothing is written, it is kept.
        let name = fresh("taken");
        let public = fresh("taken.pub");
        fresh("taken.key");
        fs::write(&public, "keep\n").unwrap();
        let e = write_keypair(&name, false).unwrap_err();
        assert!(
            e.contains("taken.pub exists") && e.contains("--force"),
            "{e}"
        );
        assert_eq!(fs::read_to_string(&public).unwrap(), "keep\n");
        assert!(tmp("taken.key").symlink_metadata().is_err());

        // A dangling link is a name taken too; its target is not created.
        let name = fresh("dangling");
        let nowhere = fresh("dangling-target");
        fresh("dangling.pub");
        std::os::unix::fs::symlink(&nowhere, fresh("dangling.key")).unwrap();
        let e = write_keypair(&name, false).unwrap_err();
        assert!(e.contains("dangling.key exists"), "{e}");
        assert!(nowhere.symlink_metadata().is_err());

        // The check before writing only makes the message early: the open
        // itself refuses a file or link that appeared after it (O_EXCL).
        for taken in [&public, &tmp("dangling.key")] {
            let e = create_exclusive(taken, SECRET_MODE).unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
            let e = write_key_file(taken, SECRET_MODE, "x\n", false).unwrap_err();
            assert!(e.contains("exists (use --force"), "{e}");
        }
        assert_eq!(fs::read_to_string(&public).unwrap(), "keep\n");
        assert!(nowhere.symlink_metadata().is_err());
    }

    #[test]
    fn keygen_force_replaces_links_never_their_targets() {
        let name = fresh("linked");
        // NAME.key links to another file, NAME.pub nowhere.
        let other = fresh("linked-other");
        fs::write(&other, "precious\n").unwrap();
        fs::set_permissions(&other, fs::Permissions::from_mode(0o644)).unwrap();
        let nowhere = fresh("linked-nowhere");
        std::os::unix::fs::symlink(&other, fresh("linked.key")).unwrap();
        std::os::unix::fs::symlink(&nowhere, fresh("linked.pub")).unwrap();

        let (k, p) = write_keypair(&name, true).unwrap();

        assert_eq!(fs::read_to_string(&other).unwrap(), "precious\n");
        assert_eq!(mode_of(&other), 0o644);
        assert!(nowhere.symlink_metadata().is_err());
        for (path, mode) in [(&k, 0o600), (&p, 0o644)] {
            assert!(fs::symlink_metadata(path).unwrap().file_type().is_file());
            assert_eq!(mode_of(path), mode, "{}", path.display());
        }
        let secret = read_secret_key_file(&k).unwrap();
        assert_eq!(
            read_public_keys_file(&p).unwrap(),
            vec![public_of(&secret).unwrap()]
        );
        // No temporary file is left beside them.
        let left: Vec<_> = fs::read_dir(k.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".linked"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    /// A FIFO at `path`, mode 600.
    fn fifo(path: &Path) {
        let _ = fs::remove_file(path);
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a NUL-terminated path, as mkfifo(3) takes.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    }

    #[test]
    fn only_regular_files_are_read_and_never_wait() {
        let pipe = tmp("pipe.key");
        fifo(&pipe);
        let dir = tmp("dir.key");
        fs::create_dir_all(&dir).unwrap();
        let start = std::time::Instant::now();
        for (path, is) in [
            (pipe.as_path(), "a FIFO"),
            (Path::new("/dev/zero"), "a character device"),
            (Path::new("/dev/null"), "a character device"),
            (dir.as_path(), "a directory"),
        ] {
            let shown = path.display();
            let e = read_secret_key_file(path).unwrap_err();
            assert_eq!(
                e,
                format!("cannot read secret key file {shown}: it is {is}, not a regular file")
            );
            let e = read_public_keys_file(path).unwrap_err();
            assert_eq!(
                e,
                format!("cannot read key file {shown}: it is {is}, not a regular file")
            );
        }
        // Nothing waited for a writer of the FIFO.
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        // A link is followed, and what it leads to checked.
        let link = tmp("link-to-zero.key");
        let _ = fs::remove_file(&link);
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert!(read_secret_key_file(&link)
            .unwrap_err()
            .ends_with("it is a character device, not a regular file"));
    }

    #[test]
    fn key_files_are_read_up_to_their_limit() {
        let secret_text = to_z85(&zmq::CurveKeyPair::new().unwrap().secret_key);
        let big = tmp("big.key");
        let comment = format!("#{}\n", "x".repeat(1000));
        let mut text = comment.repeat(MAX_SECRET_KEY_FILE_BYTES as usize / comment.len() + 1);
        text.push_str(&secret_text);
        text.push('\n');
        assert!(text.len() as u64 > MAX_SECRET_KEY_FILE_BYTES);
        fs::write(&big, &text).unwrap();
        fs::set_permissions(&big, fs::Permissions::from_mode(0o600)).unwrap();
        let e = read_secret_key_file(&big).unwrap_err();
        assert!(
            e.ends_with("it is larger than 64 KiB, the most a secret key file may hold"),
            "{e}"
        );
        // Just within the limit: read.
        let fits = &text[text.len() - MAX_SECRET_KEY_FILE_BYTES as usize..];
        let fits = &fits[fits.find('\n').unwrap() + 1..];
        fs::write(&big, fits).unwrap();
        assert!(read_secret_key_file(&big).is_ok());
        // A file that grows after the check is read up to the limit + 1.
        let (file, _) = open_regular(&big, MAX_SECRET_KEY_FILE_BYTES, "key file").unwrap();
        let e = read_limited(file, &big, 2048, "key file").unwrap_err();
        assert!(
            e.ends_with("larger than 2 KiB, the most a key file may hold"),
            "{e}"
        );
        let public = tmp("big.pub");
        let line = format!("{}\n", to_z85(&[7; 32]));
        let n = MAX_PUBLIC_KEYS_FILE_BYTES as usize / line.len();
        fs::write(&public, line.repeat(n)).unwrap();
        assert_eq!(read_public_keys_file(&public).unwrap().len(), n);
        fs::write(&public, line.repeat(n + 1)).unwrap();
        let e = read_public_keys_file(&public).unwrap_err();
        assert!(
            e.ends_with("larger than 4096 KiB, the most a key file may hold"),
            "{e}"
        );
        // Not text: said so, without its bytes.
        fs::write(&public, b"\xff\xfe").unwrap();
        assert!(read_public_keys_file(&public)
            .unwrap_err()
            .ends_with(": it is not UTF-8 text"));
    }

    #[test]
    fn bad_keys_are_explained_without_showing_them() {
        let secret_text = &to_z85(&zmq::CurveKeyPair::new().unwrap().secret_key);
        assert!(parse_z85(secret_text).is_ok());
        let tampered = format!("{}~~", &secret_text[..38]);
        for bad in ["short", &tampered, &"x".repeat(41)] {
            let e = parse_z85(bad).unwrap_err();
            assert!(!e.contains(bad), "{e}");
        }
        let f = tmp("open.key");
        fs::write(&f, format!("{secret_text}\n")).unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o644)).unwrap();
        let e = read_secret_key_file(&f).unwrap_err();
        assert!(
            e.contains("readable by group or others") && !e.contains(secret_text),
            "{e}"
        );
        fs::set_permissions(&f, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(read_secret_key_file(&f).is_ok());
        fs::write(&f, "# nothing\n").unwrap();
        assert!(read_secret_key_file(&f).unwrap_err().contains("no key"));
    }
}
