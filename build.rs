//! Build script: puts the version (and, when built from a git checkout, its short commit) into
//! `MINICREW_VERSION` for `minicrew --version`.
//!
//! Tolerates every way of not being a checkout: no `git` installed, a source tarball, a
//! `cargo install` from the registry, or a worktree whose `.git` is a file. It reruns only when
//! the checked-out commit can have changed (HEAD, the branch's ref, packed refs), never on every
//! build.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let version = env!("CARGO_PKG_VERSION");
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let commit = in_own_checkout(&manifest_dir)
        .then(|| git(&manifest_dir, &["rev-parse", "--short=9", "HEAD"]))
        .flatten();
    let shown = match commit {
        Some(commit) => {
            watch_git_files(&manifest_dir);
            format!("{version} ({commit})")
        }
        None => version.to_string(),
    };
    println!("cargo:rustc-env=MINICREW_VERSION={shown}");
}

/// Whether `dir` is the top of a git work tree (not, say, a tarball unpacked inside another
/// project's repository, whose commit would be the wrong one).
fn in_own_checkout(dir: &Path) -> bool {
    let Some(top) = git(dir, &["rev-parse", "--show-toplevel"]) else {
        return false;
    };
    match (Path::new(&top).canonicalize(), dir.canonicalize()) {
        (Ok(top), Ok(dir)) => top == dir,
        _ => false,
    }
}

/// Asks git for the files whose change means a new commit is checked out, and watches the ones
/// that exist (a missing watched file would make cargo rerun this script on every build).
fn watch_git_files(dir: &Path) {
    let mut names = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        names.push(branch);
    }
    for name in names {
        let Some(path) = git(
            dir,
            &["rev-parse", "--path-format=absolute", "--git-path", &name],
        ) else {
            continue;
        };
        if Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}

/// The trimmed stdout of `git args` in `dir`, or `None` when git is missing or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}
