//! `minicrew doctor` on the files the bot keeps: a database made readable by others is reported
//! (and, since opening it makes it private again, reported as mended), a `DATA_DIR` the bot
//! cannot use fails naming the key, and a Gmail token that no longer opens names the command
//! that connects it again.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;

use crate::doctor::{arrange, doctor};
use crate::email::{connect_sam, start_with};

fn set_mode(path: &std::path::Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[tokio::test]
async fn a_database_readable_by_others_is_reported_and_said_to_be_mended_by_opening_it() {
    let (dir, fake) = arrange().await;
    // A README shipped in the credentials folder is not a token: it may stay readable.
    let credentials = dir.path().join("credentials");
    std::fs::create_dir(&credentials).unwrap();
    set_mode(&credentials, 0o700);
    std::fs::write(credentials.join("README.md"), "tokens live here").unwrap();
    set_mode(&credentials.join("README.md"), 0o644);
    let first = doctor(dir.path(), &fake, &[]).await;
    assert_eq!(first.code, Some(0), "{}", first.stdout);
    assert!(
        first.stdout.contains("ok   permissions: "),
        "{}",
        first.stdout
    );
    assert!(
        !dir.path().join("data/secret.key").exists(),
        "with no calendar and no Gmail, doctor creates no secret key"
    );
    let db = dir.path().join("data/minicrew.db");
    set_mode(&db, 0o644);

    let run = doctor(dir.path(), &fake, &[]).await;
    let head = format!(
        "warn permissions: {} is open to other users (mode 644) until now",
        db.display()
    );
    assert!(run.fix_under(&head).contains("umask 077"), "{}", run.stdout);
    let mode = std::fs::metadata(&db).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "opening the database made it private");
    assert_eq!(run.code, Some(0), "{}", run.stdout);
}

#[tokio::test]
async fn a_data_dir_that_is_a_file_fails_naming_data_dir() {
    let (dir, fake) = arrange().await;
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, "x").unwrap();
    let env = [("DATA_DIR", file.display().to_string())];
    let run = doctor(dir.path(), &fake, &env).await;
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.fix_under("FAIL database:").contains("DATA_DIR"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn a_gmail_token_that_no_longer_opens_names_the_command_that_connects_it_again() {
    let m = start_with(&[]).await;
    connect_sam(&m).await;
    let google_env = m.google.env(m.app.dir.path());
    let (fake, dir) = m.app.stop().await;
    let credentials = dir.path().join("credentials");
    for entry in std::fs::read_dir(&credentials).unwrap() {
        std::fs::write(entry.unwrap().path(), "{\"not\": \"a sealed token\"}").unwrap();
    }
    let mut env = google_env;
    env.push(("DATA_DIR", dir.path().display().to_string()));
    let run = doctor(dir.path(), &fake, &env).await;
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    let fix = run.fix_under("FAIL gmail: user ");
    assert!(
        fix.starts_with("run minicrew --auth-gmail --user "),
        "{fix}"
    );
    assert!(fix.contains("/authgmail"), "{fix}");
}
