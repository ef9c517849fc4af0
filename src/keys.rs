//! CURVE keys: the Z85 text form, key files, and key generation.
//!
//! A key file holds one key as 40 Z85 characters on a line of its own;
//! empty lines and lines starting with `#` are ignored. `NAME.key` holds a
//! secret key and must not be readable by group or others; `NAME.pub` holds
//! the matching public key. An allowed-clients file holds any number of
//! public keys, one per line. No error message ever contains a secret key.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

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

/// Reads a secret key file; refuses one that group or others can read.
pub fn read_secret_key_file(path: &Path) -> Result<SecretKey, String> {
    let shown = path.display();
    let meta =
        fs::metadata(path).map_err(|e| format!("cannot read secret key file {shown}: {e}"))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "secret key file {shown} is readable by group or others (mode {mode:03o}); \
             chmod 600 it"
        ));
    }
    let text = fs::read_to_string(path)
        .map_err(|e| format!("cannot read secret key file {shown}: {e}"))?;
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
    let shown = path.display();
    let text =
        fs::read_to_string(path).map_err(|e| format!("cannot read key file {shown}: {e}"))?;
    keys_in(&text)
        .into_iter()
        .map(|(line, key)| {
            parse_z85(key).map_err(|e| format!("key file {shown}, line {line}: {e}"))
        })
        .collect()
}

/// Generates a key pair and writes `NAME.key` (the secret key, mode 0600)
/// and `NAME.pub` (the public key). Refuses to overwrite either unless
/// `force`. Returns the two paths.
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
    for p in [&secret_path, &public_path] {
        if !force && p.exists() {
            return Err(format!("{} exists (use --force to overwrite)", p.display()));
        }
    }
    let write = |path: &Path, mode: u32, what: &str, key: &Key| -> Result<(), String> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        // An existing file keeps its mode: set it.
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .map_err(|e| format!("cannot chmod {}: {e}", path.display()))?;
        writeln!(f, "# ZeroMQ CURVE {what} key (Z85)\n{}", to_z85(key))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write(&secret_path, 0o600, "secret", &pair.secret_key)?;
    write(&public_path, 0o644, "public", &pair.public_key)?;
    Ok((secret_path, public_path))
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
