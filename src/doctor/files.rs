//! File permission checks: the database (and its `-wal`/`-shm` files), `secret.key`, the Gmail
//! token files (`gmail_<id>.json`), `DATA_DIR` and `CREDENTIALS_DIR` are private to the user running the bot and
//! owned by it. A private file readable by anyone else fails (`chmod 600`); a folder others may
//! write into fails, one they may only list warns (`chmod 700`); a path owned by another user
//! fails (`chown`). Paths that do not exist yet are skipped (the bot creates them private).

use std::path::{Path, PathBuf};

use super::check::{Check, shell_word};
use crate::config::Config;
use crate::gmail::secret_key::KEY_FILE_NAME;
use crate::store::DB_FILE_NAME;

const NAME: &str = "permissions";

/// What a path is for the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Holds secrets or user data: owner read/write only.
    File,
    /// A folder of such files: owner only.
    Dir,
}

/// A path's owner and mode as found.
#[derive(Debug, Clone, Copy)]
pub struct Found {
    /// Owning user id.
    pub uid: u32,
    /// Permission bits (`0o777` part).
    pub mode: u32,
}

/// The paths to check, as the bot uses them.
pub fn paths(config: &Config) -> Vec<(PathBuf, Kind)> {
    let data = &config.data_dir;
    let db = data.join(DB_FILE_NAME);
    let mut paths = vec![(data.clone(), Kind::Dir), (db.clone(), Kind::File)];
    for suffix in ["-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        paths.push((PathBuf::from(name), Kind::File));
    }
    if config.secret_key.is_none() {
        paths.push((data.join(KEY_FILE_NAME), Kind::File));
    }
    let credentials = &config.gmail.credentials_dir;
    paths.push((credentials.clone(), Kind::Dir));
    if let Ok(entries) = std::fs::read_dir(credentials) {
        let mut tokens: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file() && is_token_file(p))
            .collect();
        tokens.sort();
        paths.extend(tokens.into_iter().map(|p| (p, Kind::File)));
    }
    paths
}

/// Whether `path` is a token file the bot wrote (`gmail_<user id>.json`), not a file shipped
/// beside them (a README).
pub fn is_token_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("gmail_") && n.ends_with(".json"))
}

/// Checks every path; one ok line when all are private, else one line per problem.
pub fn check(config: &Config) -> Vec<Check> {
    let me = current_uid();
    let mut problems = Vec::new();
    let mut seen = 0;
    for (path, kind) in paths(config) {
        let Some(found) = inspect(&path) else {
            continue;
        };
        seen += 1;
        problems.extend(judge(&path, kind, found, me));
    }
    if problems.is_empty() {
        let who = me.map_or_else(|| "this user".to_string(), |uid| format!("uid {uid}"));
        vec![Check::ok(
            NAME,
            format!(
                "{seen} path(s) private to {who} (DATA_DIR, the database, secret.key, CREDENTIALS_DIR)"
            ),
        )]
    } else {
        problems
    }
}

/// The rules for one path owned by `found.uid` with `found.mode`, when the bot runs as `me`.
pub fn judge(path: &Path, kind: Kind, found: Found, me: Option<u32>) -> Vec<Check> {
    let mut checks = Vec::new();
    let shown = path.display();
    if let Some(me) = me.filter(|&me| me != found.uid) {
        checks.push(Check::fail(
            NAME,
            format!(
                "{shown} is owned by uid {}, not by uid {me} that runs doctor",
                found.uid
            ),
            format!(
                "chown {me} {} (or run doctor as the user that runs the bot)",
                shell_word(path)
            ),
        ));
    }
    let others = found.mode & 0o077;
    let text = format!("{shown} is open to other users (mode {:o})", found.mode);
    match kind {
        Kind::File if others != 0 => {
            checks.push(Check::fail(
                NAME,
                text,
                format!("chmod 600 {}", shell_word(path)),
            ));
        }
        Kind::Dir if others & 0o022 != 0 => {
            checks.push(Check::fail(
                NAME,
                text,
                format!("chmod 700 {}", shell_word(path)),
            ));
        }
        Kind::Dir if others != 0 => {
            checks.push(Check::warn(
                NAME,
                text,
                format!("chmod 700 {}", shell_word(path)),
            ));
        }
        _ => {}
    }
    checks
}

/// The path's owner and mode; `None` when it does not exist (or elsewhere than Unix).
#[cfg(unix)]
fn inspect(path: &Path) -> Option<Found> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some(Found {
        uid: meta.uid(),
        mode: meta.mode() & 0o777,
    })
}

#[cfg(not(unix))]
fn inspect(_path: &Path) -> Option<Found> {
    None
}

/// The effective user id doctor runs as.
#[cfg(unix)]
fn current_uid() -> Option<u32> {
    Some(rustix::process::geteuid().as_raw())
}

#[cfg(not(unix))]
fn current_uid() -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::check::Level;

    fn found(uid: u32, mode: u32) -> Found {
        Found { uid, mode }
    }

    #[test]
    fn a_file_owned_by_another_user_fails_with_chown_and_a_private_one_passes() {
        let path = Path::new("/srv/data/minicrew.db");
        assert!(judge(path, Kind::File, found(1000, 0o600), Some(1000)).is_empty());
        let checks = judge(path, Kind::File, found(0, 0o600), Some(1000));
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].level, Level::Fail);
        assert_eq!(
            checks[0].fix.as_deref(),
            Some("chown 1000 /srv/data/minicrew.db (or run doctor as the user that runs the bot)")
        );
    }

    #[test]
    fn a_listable_folder_warns_a_writable_one_fails_and_a_readable_file_fails() {
        let dir = Path::new("data");
        let listable = judge(dir, Kind::Dir, found(7, 0o755), Some(7));
        assert_eq!(listable[0].level, Level::Warn);
        assert_eq!(listable[0].fix.as_deref(), Some("chmod 700 data"));
        let writable = judge(dir, Kind::Dir, found(7, 0o777), Some(7));
        assert_eq!(writable[0].level, Level::Fail);
        let file = judge(
            Path::new("data/secret.key"),
            Kind::File,
            found(7, 0o640),
            Some(7),
        );
        assert_eq!(file[0].level, Level::Fail);
        assert_eq!(file[0].fix.as_deref(), Some("chmod 600 data/secret.key"));
    }
}
