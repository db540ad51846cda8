//! The daemon as the soak bench sees it through `/proc`: its pid and its open file descriptors.
//!
//! The shared `support::daemon::Daemon` handle reads memory but keeps its pid to
//! itself, so the pid is found here as the one child of this process running the release binary.

use std::path::Path;

use anyhow::Context as _;

/// The pid of this process's child whose executable is `binary`.
pub fn child_pid(binary: &Path) -> anyhow::Result<u32> {
    let me = std::process::id();
    let binary = binary
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", binary.display()))?;
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc")
        .context("cannot list /proc")?
        .flatten()
    {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        // A process may exit between the listing and the reads: skip it then.
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        if parent_of(&stat) != Some(me) {
            continue;
        }
        if std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == binary) {
            found.push(pid);
        }
    }
    match found.as_slice() {
        [pid] => Ok(*pid),
        [] => anyhow::bail!("no child process runs {}", binary.display()),
        many => anyhow::bail!("{} child processes run {}", many.len(), binary.display()),
    }
}

/// The parent pid from the text of `/proc/<pid>/stat`: the second field after the command name,
/// which is in parentheses and may itself hold spaces or parentheses.
fn parent_of(stat: &str) -> Option<u32> {
    let (_, after_name) = stat.rsplit_once(')')?;
    after_name.split_whitespace().nth(1)?.parse().ok()
}

/// How many file descriptors `pid` has open (the entries of `/proc/<pid>/fd`).
pub fn open_fds(pid: u32) -> anyhow::Result<u64> {
    let entries = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .context("cannot list /proc/<pid>/fd (has the daemon exited?)")?;
    Ok(entries.count() as u64)
}
