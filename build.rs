//! Build script: puts the version (and, when built from a git checkout, its short commit) into
//! `MINICREW_VERSION` for `minicrew --version`, and for release builds on x86_64 Linux asks the
//! linker to place the functions the idle daemon runs together (`link/startup-order.txt`) and,
//! where the machine's glibc can load them, to pack the relocations.
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
    pack_relocations();
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

/// Release builds for x86_64 Linux on a machine whose glibc is 2.36 or newer (Debian 12, the
/// Docker image's base, and later) pack the binary's relative relocations (`DT_RELR`): `ld.so`
/// then reads a few KB instead of 1.5 MB of `.rela.dyn` at start, which otherwise stays resident
/// (BENCHMARKS.md, "Binary size and idle memory"). Such a binary needs glibc 2.36 where it runs;
/// built on an older glibc (Ubuntu 22.04 has 2.35) it is linked as before, so a binary built on
/// the machine that runs it always starts. Cross builds are left alone.
fn pack_relocations() {
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    let target = std::env::var("TARGET").unwrap_or_default();
    let native = std::env::var("HOST").is_ok_and(|host| host == target);
    if release && native && target == "x86_64-unknown-linux-gnu" && glibc_at_least(2, 36) {
        println!("cargo:rustc-link-arg-bin=minicrew=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether this machine's glibc (`getconf GNU_LIBC_VERSION`, e.g. `glibc 2.36`) is at least
/// `major.minor`; `false` when it cannot tell.
fn glibc_at_least(major: u32, minor: u32) -> bool {
    let Ok(out) = Command::new("getconf").arg("GNU_LIBC_VERSION").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(version) = text.trim().strip_prefix("glibc ") else {
        return false;
    };
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(have_major), Some(have_minor)) => (have_major, have_minor) >= (major, minor),
        _ => false,
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
