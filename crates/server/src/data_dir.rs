//! The server's own files: the data directory is `0700`, the database files, the session
//! key and credentials are `0600` whatever the umask, and `start` refuses a data directory
//! other users can read or write.
//!
//! The session HMAC key lives in its own file (`<data-dir>/session.key`), not in the
//! database, so a copy of the database alone (a backup, a replica's file, a leaked
//! snapshot) cannot forge sessions. Databases made before this keep the key in the
//! `account` row; the first start moves it to the key file and blanks the column.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::error::ServerError;

/// Name of the session key file in the data directory.
pub(crate) const SESSION_KEY_FILE: &str = "session.key";

/// Length of the session key, in bytes.
pub(crate) const SESSION_KEY_LEN: usize = 32;

fn io(what: String) -> impl FnOnce(std::io::Error) -> ServerError {
    move |source| ServerError::Io { what, source }
}

/// Creates `dir` (and missing parents) and makes `dir` itself `0700` when this call
/// created it. An existing directory keeps its mode: `start` checks it instead.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), ServerError> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(io(format!(
        "cannot create the data directory {}",
        dir.display()
    )))?;
    set_mode(dir, 0o700)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<(), ServerError> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(io(format!(
        "cannot set the mode of {} to {mode:o}",
        path.display()
    )))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<(), ServerError> {
    Ok(())
}

/// Makes `path` `0600` if it exists (the umask only ever removes bits, so files created
/// under a loose umask are tightened here).
pub(crate) fn tighten_file(path: &Path) -> Result<(), ServerError> {
    if path.exists() {
        set_mode(path, 0o600)?;
    }
    Ok(())
}

/// Creates the file `path` empty with mode `0600` unless it exists, so that SQLite, which
/// gives its `-wal` and `-shm` files the database file's mode, never makes a readable one.
pub(crate) fn create_private_file(path: &Path) -> Result<(), ServerError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options
        .open(path)
        .map_err(io(format!("cannot create {}", path.display())))?;
    tighten_file(path)
}

/// Refuses a data directory that its group or other users can read, write or enter.
pub(crate) fn check_private_dir(dir: &Path) -> Result<(), ServerError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let meta = std::fs::metadata(dir).map_err(io(format!(
            "cannot read the data directory {}",
            dir.display()
        )))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(ServerError::Config(format!(
                "the data directory {dir} has mode {mode:03o}, so other users of this machine \
                 can reach the database, the session key and the file blobs; refusing to \
                 start. Run `chmod 700 {dir}` and start again",
                dir = dir.display()
            )));
        }
    }
    Ok(())
}

/// The path of the session key file of `data_dir`.
pub(crate) fn session_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SESSION_KEY_FILE)
}

/// Writes `key` to `path` (mode `0600`) through a temporary file and a rename, synced, so
/// a crash leaves either no key file or a whole one.
pub(crate) fn write_session_key(path: &Path, key: &[u8]) -> Result<(), ServerError> {
    let tmp = path.with_extension("key.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let what = || format!("cannot write the session key file {}", path.display());
    let mut file = options.open(&tmp).map_err(io(what()))?;
    set_mode(&tmp, 0o600)?;
    file.write_all(key)
        .and_then(|()| file.sync_all())
        .map_err(io(what()))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io(what()))?;
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(what()))?;
    }
    Ok(())
}

/// The session key in `path`, or `None` when there is no such file.
pub(crate) fn read_session_key(path: &Path) -> Result<Option<Zeroizing<Vec<u8>>>, ServerError> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let bytes = Zeroizing::new(bytes);
            if bytes.len() != SESSION_KEY_LEN {
                return Err(ServerError::Config(format!(
                    "the session key file {} holds {} bytes instead of {SESSION_KEY_LEN}: it \
                     is damaged. Restore it from a backup of the data directory",
                    path.display(),
                    bytes.len()
                )));
            }
            tighten_file(path)?;
            Ok(Some(bytes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ServerError::Io {
            what: format!("cannot read the session key file {}", path.display()),
            source,
        }),
    }
}
