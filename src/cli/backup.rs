//! `minicrew backup <file>`: an online, consistent copy of the database while the bot runs.
//!
//! The copy is taken with SQLite's backup API in one read transaction (the bot keeps answering;
//! WAL readers never block writers), checked with `quick_check`, written to a private temp file
//! beside the target, synced and renamed into place. An existing file is replaced only with
//! `--force`. The secret key that unseals tokens is not in the database: the report says where it
//! is, and `--with-key` copies it beside the backup as `<file>.secret.key` (mode 0600).

use std::path::{Path, PathBuf};

use super::{CliError, TempFile, parent_of, same_file, write_private};
use crate::config::Config;
use crate::gmail::secret_key::KEY_FILE_NAME;
use crate::store::{DB_FILE_NAME, snapshot};

/// Arguments of `minicrew backup`.
#[derive(Debug, Clone, clap::Args)]
pub struct BackupArgs {
    /// Where to write the copy (a new file; see --force).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Replace FILE (and FILE.secret.key with --with-key) if it exists.
    #[arg(long)]
    pub force: bool,
    /// Also copy DATA_DIR/secret.key beside the backup as FILE.secret.key (mode 0600).
    #[arg(long)]
    pub with_key: bool,
}

/// Runs the backup and returns the report to print.
pub fn run(config: &Config, args: &BackupArgs) -> Result<String, CliError> {
    let db = config.data_dir.join(DB_FILE_NAME);
    if !db.is_file() {
        return Err(CliError::Refused(format!(
            "there is no database at {} to back up (is DATA_DIR right? it is {})",
            db.display(),
            config.data_dir.display()
        )));
    }
    let key_copy = key_copy_path(&args.file);
    refuse_to_overwrite(&args.file, args.force)?;
    if args.with_key && config.secret_key.is_none() {
        refuse_to_overwrite(&key_copy, args.force)?;
    }
    if is_live_database_file(&args.file, &config.data_dir) {
        return Err(CliError::Refused(format!(
            "{} is the live database itself; write the backup somewhere else",
            args.file.display()
        )));
    }

    let temp = TempFile::beside(&args.file)?;
    let info = snapshot::copy_database(&db, &temp.path)?;
    temp.commit(&args.file)?;
    let bytes = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);

    let mut report = format!(
        "Backed up {} to {} ({bytes} bytes, schema version {}).\n",
        db.display(),
        args.file.display(),
        info.schema_version
    );
    report.push_str(&key_note(config, args, &key_copy)?);
    report.push_str(&format!(
        "Gmail tokens are files in {} (CREDENTIALS_DIR), not in the database: back that folder up too.\n",
        config.gmail.credentials_dir.display()
    ));
    Ok(report)
}

/// `backup.db` → `backup.db.secret.key`.
pub fn key_copy_path(backup: &Path) -> PathBuf {
    let mut name = backup.as_os_str().to_owned();
    name.push(".");
    name.push(KEY_FILE_NAME);
    PathBuf::from(name)
}

fn refuse_to_overwrite(path: &Path, force: bool) -> Result<(), CliError> {
    if path.is_dir() {
        return Err(CliError::Refused(format!(
            "{} is a folder; give a file name, e.g. {}",
            path.display(),
            path.join("minicrew-backup.db").display()
        )));
    }
    if path.exists() && !force {
        return Err(CliError::Refused(format!(
            "{} already exists; pass --force to replace it",
            path.display()
        )));
    }
    if !parent_of(path).is_dir() {
        return Err(CliError::Refused(format!(
            "the folder {} does not exist",
            parent_of(path).display()
        )));
    }
    Ok(())
}

/// Whether `path` is the live database or a file SQLite or the instance lock keep beside it.
fn is_live_database_file(path: &Path, data_dir: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let owned = ["", "-wal", "-shm", "-journal", ".lock"]
        .iter()
        .any(|suffix| name == format!("{DB_FILE_NAME}{suffix}"));
    owned && same_file(parent_of(path), data_dir)
}

/// What to say (and, with `--with-key`, do) about the key that unseals stored tokens and
/// CalDAV passwords.
fn key_note(config: &Config, args: &BackupArgs, key_copy: &Path) -> Result<String, CliError> {
    let warning = "Sealed data in it (Gmail tokens, CalDAV passwords) can only be read with the same secret key";
    if config.secret_key.is_some() {
        return Ok(format!(
            "{warning}: yours is the SECRET_KEY setting; keep that value with the backup{}.\n",
            if args.with_key {
                " (--with-key copies only DATA_DIR/secret.key, so nothing was copied)"
            } else {
                ""
            }
        ));
    }
    let key_file = config.data_dir.join(KEY_FILE_NAME);
    let key = match std::fs::read(&key_file) {
        Ok(key) => key,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(format!(
                "No {} exists yet, so nothing in the database is sealed.\n",
                key_file.display()
            ));
        }
        Err(e) => return Err(CliError::io("cannot read", &key_file)(e)),
    };
    if args.with_key {
        write_private(key_copy, &key)?;
        return Ok(format!(
            "Copied the secret key to {} (mode 0600). Keep it as safe as the backup, apart from it if you can; \
             to restore, put it back at {}.\n",
            key_copy.display(),
            key_file.display()
        ));
    }
    Ok(format!(
        "WARNING: {warning}, {}, which this backup does not contain. Copy it too and keep it safe, e.g.\n  \
         cp {} {}\n(or run backup again with --with-key).\n",
        key_file.display(),
        key_file.display(),
        key_copy.display()
    ))
}
