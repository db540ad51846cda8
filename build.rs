//! Build script: puts the version (and, when built from a git checkout, its short commit) into
//! `MINICREW_VERSION` for `minicrew --version`, and for release builds on x86_64 Linux asks the
//! linker to place the functions the idle daemon runs together (`link/startup-order.txt`).
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
    order_startup_functions(&manifest_dir);
}

/// Release builds for x86_64 Linux (linked by rust-lld, the default there since Rust 1.90) place
/// the functions listed in `link/startup-order.txt` (start-up, idle polling, one `/help`, in the
/// order first run) at the start of `.text`: the idle daemon then keeps few code pages resident
/// instead of pages all over the binary (BENCHMARKS.md, "Binary size and idle memory"). Names
/// that no longer exist (other toolchain, other dependencies) are skipped without a warning;
/// `link/profile-startup.sh` regenerates the list. GNU ld does not know the flag: to link with
/// it, delete the list.
fn order_startup_functions(manifest_dir: &Path) {
    let order = manifest_dir.join("link").join("startup-order.txt");
    println!("cargo:rerun-if-changed={}", order.display());
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    let lld_target = std::env::var("TARGET").is_ok_and(|t| t == "x86_64-unknown-linux-gnu");
    if release && lld_target && order.is_file() {
        println!(
            "cargo:rustc-link-arg-bin=minicrew=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        println!("cargo:rustc-link-arg-bin=minicrew=-Wl,--no-warn-symbol-ordering");
    }
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
