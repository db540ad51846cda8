//! A real CalDAV server for the tests: Radicale (`python -m radicale` from the test venv) on
//! 127.0.0.1 with a free port, a temporary storage folder holding one calendar, and a temporary
//! config with htpasswd authentication (plain) for one user. Waits on a deadline until it
//! answers; killed when dropped. A missing Radicale fails the test (see `servers.rs`).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use super::servers::python;

/// The user Radicale knows.
pub const USER: &str = "ana";
/// Her password.
pub const PASSWORD: &str = "app-password-1234";
/// The display name of her calendar.
pub const CALENDAR_NAME: &str = "Personal";

/// A running Radicale; stopped on drop.
pub struct Radicale {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl Radicale {
    /// Starts Radicale with one user and one empty event calendar, and waits until it answers.
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let calendar = dir
            .path()
            .join("collections/collection-root")
            .join(USER)
            .join("calendar");
        std::fs::create_dir_all(&calendar).expect("calendar folder");
        std::fs::write(
            calendar.join(".Radicale.props"),
            format!(
                r#"{{"tag": "VCALENDAR", "D:displayname": "{CALENDAR_NAME}", "C:supported-calendar-component-set": "VEVENT"}}"#
            ),
        )
        .expect("calendar props");
        std::fs::write(dir.path().join("users"), format!("{USER}:{PASSWORD}\n")).expect("users");
        let port = free_port();
        let config = format!(
            "[server]\nhosts = 127.0.0.1:{port}\n\n[auth]\ntype = htpasswd\nhtpasswd_filename = {users}\n\
             htpasswd_encryption = plain\n\n[storage]\nfilesystem_folder = {storage}\n\n\
             [rights]\ntype = owner_only\n\n[logging]\nlevel = error\n",
            users = dir.path().join("users").display(),
            storage = dir.path().join("collections").display(),
        );
        let config_path = dir.path().join("config");
        std::fs::write(&config_path, config).expect("config");
        let child = Command::new(python())
            .args(["-m", "radicale", "--config"])
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python -m radicale starts");
        let server = Self { child, port, dir };
        server.wait_until_answering().await;
        server
    }

    /// The base URL (`http://127.0.0.1:PORT/`).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// The calendar collection's URL.
    pub fn calendar_url(&self) -> String {
        format!("{}{USER}/calendar/", self.url())
    }

    /// The `.ics` files stored in the calendar (Radicale keeps one file per event).
    pub fn stored_events(&self) -> Vec<String> {
        let folder = self
            .dir
            .path()
            .join("collections/collection-root")
            .join(USER)
            .join("calendar");
        let mut found: Vec<String> = std::fs::read_dir(folder)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".ics"))
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        found
    }

    /// Gives the user another password (Radicale reads its users file at each login), as when
    /// an app password is revoked.
    pub fn change_password(&self, password: &str) {
        std::fs::write(
            self.dir.path().join("users"),
            format!("{USER}:{password}\n"),
        )
        .expect("users");
    }

    /// Stores an iCalendar object as `<name>.ics` through CalDAV (as another client would).
    pub async fn put(&self, name: &str, ics: &str) {
        let response = reqwest::Client::new()
            .put(format!("{}{name}.ics", self.calendar_url()))
            .basic_auth(USER, Some(PASSWORD))
            .header("Content-Type", "text/calendar")
            .body(ics.to_string())
            .send()
            .await
            .expect("PUT reaches Radicale");
        assert!(
            response.status().is_success(),
            "PUT gave {}",
            response.status()
        );
    }

    async fn wait_until_answering(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let client = reqwest::Client::new();
        loop {
            if client.get(self.url()).send().await.is_ok() {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "Radicale did not answer on port {} within 20 s",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Radicale {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
