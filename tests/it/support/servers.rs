//! Where the real servers the tests start live: Radicale and `mcp-server-time` in the Python venv
//! and the reference MCP "everything" server in `node_modules`, both under `tests/servers/`
//! (git-ignored). The first test that needs one runs `tests/servers/install` (idempotent) so a
//! fresh clone needs only `cargo test`; when that fails the test fails with the reason and the
//! command to run by hand. A missing server is never a silent skip.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The folder holding the installer, the venv and `node_modules`.
pub fn servers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/servers")
}

/// Installs the servers once per test process; panics with how to fix it when that fails.
fn ensure_installed() {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    let outcome = INSTALLED.get_or_init(|| {
        let script = servers_dir().join("install");
        match Command::new(&script).output() {
            Ok(out) if out.status.success() => Ok(()),
            Ok(out) => Err(format!(
                "{} exited with {}: {}",
                script.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            Err(err) => Err(format!("could not run {}: {err}", script.display())),
        }
    });
    if let Err(why) = outcome {
        panic!(
            "the test servers (Radicale, mcp-server-time, @modelcontextprotocol/server-everything) \
             are not installed and installing them failed: {why}\n\
             Install them by hand with `tests/servers/install` (needs python3 with venv, npm and \
             the network once)."
        );
    }
}

/// The venv's Python, with Radicale and `mcp_server_time` importable.
pub fn python() -> PathBuf {
    ensure_installed();
    servers_dir().join(".venv/bin/python")
}

/// The entry script of an npm package installed under `tests/servers/node_modules`, to be run
/// with `node`.
pub fn node_package_file(relative: &str) -> PathBuf {
    ensure_installed();
    let path = servers_dir().join("node_modules").join(relative);
    assert!(
        path.exists(),
        "{} is missing after tests/servers/install; is tests/servers/package.json up to date?",
        path.display()
    );
    path
}
