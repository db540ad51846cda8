//! `minicrew --version` and `minicrew config` as a self-hoster runs them.

use crate::cli::minicrew;

#[test]
fn version_names_the_release_and_the_commit_it_was_built_from() {
    let dir = tempfile::tempdir().unwrap();
    let out = minicrew(&dir, "").arg("--version").output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with(&format!("minicrew {}", env!("CARGO_PKG_VERSION"))),
        "{stdout}"
    );
    // This test runs from a git checkout; the binary must say which commit it is.
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=9", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(head.status.success(), "tests run from a git checkout");
    let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
    assert!(
        stdout.contains(&format!("({head})")),
        "{stdout} lacks {head}"
    );
}

#[test]
fn config_lists_every_key_with_its_value_and_origin_and_never_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let env = "TELEGRAM_BOT_TOKEN=123:SECRET-token\nOWNER_TELEGRAM_CHAT_ID=42\n\
               ANTHROPIC_API_KEY=sk-ant-SECRET\nTIMEZONE=Europe/Berlin\n\
               CALDAV_URL=https://ana:SECRET-pw@dav.example.com/cal\nCALDAV_USERNAME=ana\n\
               CALDAV_PASSWORD=SECRET-app\nTELEGRAM_WEBHOOK_SECRET=\nNOT_A_KEY=1\n";
    let out = minicrew(&dir, env)
        .env("LOG_FORMAT", "json")
        .arg("config")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    for value in ["SECRET-", "sk-ant"] {
        assert!(
            !stdout.contains(value) && !stderr.contains(value),
            "{stdout}"
        );
    }
    let line = |key: &str| -> Vec<String> {
        let found = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(key))
            .unwrap_or_else(|| panic!("no line for {key} in:\n{stdout}"));
        found.split_whitespace().map(str::to_string).collect()
    };
    for key in minicrew::config::KNOWN_KEYS {
        line(key);
    }
    assert_eq!(
        line("TELEGRAM_BOT_TOKEN")[1..],
        ["env", "file", "(set,", "hidden)"]
    );
    assert_eq!(
        line("ANTHROPIC_API_KEY")[1..],
        ["env", "file", "(set,", "hidden)"]
    );
    assert_eq!(
        line("CALDAV_PASSWORD")[1..],
        ["env", "file", "(set,", "hidden)"]
    );
    assert_eq!(line("TIMEZONE")[1..], ["env", "file", "Europe/Berlin"]);
    assert_eq!(line("LOG_FORMAT")[1..], ["env", "json"]);
    assert_eq!(line("BOT_MODE")[1..], ["default", "polling"]);
    assert_eq!(line("SECRET_KEY")[1..], ["default", "(not", "set)"]);
    assert_eq!(
        line("TELEGRAM_WEBHOOK_SECRET")[1..],
        ["env", "file", "(empty)"]
    );
    assert_eq!(
        line("CALDAV_URL")[1..],
        ["env", "file", "https://ana:***@dav.example.com/cal"]
    );
    assert!(
        stdout.contains("# unknown key in the env file: NOT_A_KEY\n"),
        "{stdout}"
    );
}

#[test]
fn config_with_a_bad_value_exits_2_with_one_line_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = minicrew(
        &dir,
        "TELEGRAM_BOT_TOKEN=123:SECRET-token\nOWNER_TELEGRAM_CHAT_ID=42\nTELEGRAM_RATE_GLOBAL=fast\n",
    )
    .arg("config")
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("TELEGRAM_RATE_GLOBAL") && stderr.contains("'fast'"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing is listed before the error");
}
