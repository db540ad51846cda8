//! `minicrew restore <file>`: put a backup in place of the database, with checks.
//!
//! Refuses a file that is not a healthy minicrew database (SQLite's `integrity_check`, a `users`
//! table) or whose schema is newer than this binary's migrations, and refuses while anything has
//! the database open (the bot, `minicrew chat`, `doctor`: each holds the shared instance lock,
//! see [`crate::store::instance_lock`]). The current database is kept as
//! `minicrew.db.before-restore-<timestamp>`; the backup is copied to a temp file beside it,
//! synced and renamed over it (a crash leaves the old database or the new one), then the
//! migrations bring it up to date.

use std::path::{Path, PathBuf};

use super::backup::key_copy_path;
use super::{CliError, TempFile, same_file, sync_dir};
use crate::config::Config;
use crate::gmail::secret_key::KEY_FILE_NAME;
use crate::store::{DB_FILE_NAME, instance_lock, snapshot};

/// Arguments of `minicrew restore`.
#[derive(Debug, Clone, clap::Args)]
pub struct RestoreArgs {
    /// The backup to restore (made by `minicrew backup`, or a copy of minicrew.db).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// Runs the restore and returns the report to print.
pub fn run(config: &Config, args: &RestoreArgs) -> Result<String, CliError> {
    let source = &args.file;
    if !source.is_file() {
        return Err(CliError::Refused(format!(
            "{} is not a file",
            source.display()
        )));
    }
    let source_version = snapshot::check_restorable(source)?;
    snapshot::prepare_data_dir(&config.data_dir)?;
    let db = config.data_dir.join(DB_FILE_NAME);
    if same_file(source, &db) {
        return Err(CliError::Refused(format!(
            "{} is the database itself; nothing to restore",
            source.display()
        )));
    }
    let Some(_lock) = instance_lock::exclusive(&db)? else {
        return Err(CliError::Refused(format!(
            "minicrew is running on {} (the bot, `minicrew chat` or `minicrew doctor`); stop it \
             first (e.g. `systemctl stop minicrew`), then restore",
            db.display()
        )));
    };

    let temp = TempFile::beside(&db)?;
    snapshot::copy_database(source, &temp.path)?;
    let kept = if db.exists() {
        Some(keep_current(&db)?)
    } else {
        None
    };
    temp.commit(&db)?;
    let (_, upgraded) = snapshot::upgrade_file(&db)?;

    let mut report = format!(
        "Restored {} (schema version {source_version}) into {}",
        source.display(),
        db.display()
    );
    if upgraded > source_version {
        report.push_str(&format!(" and upgraded it to schema version {upgraded}"));
    }
    report.push_str(".\n");
    if let Some(kept) = kept {
        report.push_str(&format!(
            "The database it replaced is kept as {}.\n",
            kept.display()
        ));
    }
    report.push_str(&key_note(config, source));
    Ok(report)
}

/// Makes the current database self-contained (its WAL folded in) and links it under
/// `minicrew.db.before-restore-<timestamp>`; the original name keeps pointing at it until the
/// restored file is renamed over it.
fn keep_current(db: &Path) -> Result<PathBuf, CliError> {
    snapshot::settle(db)?;
    for suffix in ["-wal", "-shm"] {
        let mut side = db.as_os_str().to_owned();
        side.push(suffix);
        let side = PathBuf::from(side);
        match std::fs::remove_file(&side) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(CliError::io("cannot remove", &side)(e)),
        }
    }
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    let mut n = 1;
    loop {
        let mut name = format!("{DB_FILE_NAME}.before-restore-{stamp}");
        if n > 1 {
            name.push_str(&format!("-{n}"));
        }
        let kept = db.with_file_name(name);
        match std::fs::hard_link(db, &kept) {
            Ok(()) => {
                sync_dir(super::parent_of(db))?;
                return Ok(kept);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => n += 1,
            Err(e) => {
                return Err(CliError::io("cannot keep the current database as", &kept)(
                    e,
                ));
            }
        }
    }
}

/// The reminder about the key that unseals tokens and CalDAV passwords.
fn key_note(config: &Config, source: &Path) -> String {
    let key_file = config.data_dir.join(KEY_FILE_NAME);
    let mut note = String::from(
        "Sealed data (Gmail tokens, CalDAV passwords) needs the secret key of the installation \
         that made the backup: ",
    );
    if config.secret_key.is_some() {
        note.push_str("SECRET_KEY must be that key.\n");
    } else {
        note.push_str(&format!("{} must be that key.\n", key_file.display()));
        let beside = key_copy_path(source);
        if beside.is_file() {
            note.push_str(&format!(
                "A key was saved with the backup: if it is not the one in use, copy it with\n  \
                 install -m 600 {} {}\n",
                beside.display(),
                key_file.display()
            ));
        }
    }
    note.push_str("Then start the bot.\n");
    note
}
