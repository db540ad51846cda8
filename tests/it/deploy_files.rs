//! The deployment files, checked statically (no Docker engine or systemd runs here): the
//! Dockerfile's rules (multi-stage, non-root fixed uid, `HEALTHCHECK` on `/health` with `/health`
//! served, the data on a `VOLUME`, no secret-looking `ENV`/`ARG`), `.dockerignore`, `compose.yaml`
//! and the systemd unit. Each rule is also shown to fail on a broken copy.
//!
//! The Dockerfile is read by its documented grammar (instructions, `\` continuations, `#` comment
//! lines); compose.yaml and the unit by the few keys they must hold, line by line.

use std::collections::BTreeMap;

fn repo_file(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One Dockerfile instruction: its keyword (upper case) and the rest of its (joined) line.
#[derive(Debug)]
struct Instruction {
    keyword: String,
    args: String,
}

fn instructions(dockerfile: &str) -> Vec<Instruction> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines() {
        let trimmed = line.trim();
        // Comment lines are dropped, also inside a continued instruction.
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                let (keyword, args) = current
                    .split_once(char::is_whitespace)
                    .unwrap_or((&current, ""));
                out.push(Instruction {
                    keyword: keyword.to_ascii_uppercase(),
                    args: args.trim().to_string(),
                });
                current.clear();
            }
        }
    }
    out
}

/// `ENV A=1 B=2` / `ENV A 1` / `ARG A=1` / `ARG A` → their names and values.
fn assignments(args: &str) -> Vec<(String, String)> {
    if !args.contains('=')
        || args
            .split_whitespace()
            .next()
            .is_some_and(|w| !w.contains('='))
    {
        let (k, v) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
        return vec![(k.to_string(), v.trim().to_string())];
    }
    args.split_whitespace()
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k.to_string(), v.trim_matches('"').to_string())
        })
        .collect()
}

/// Every broken Dockerfile rule, one sentence each; empty when the file is sound.
fn dockerfile_problems(dockerfile: &str) -> Vec<String> {
    let all = instructions(dockerfile);
    let mut problems = Vec::new();
    let stages: Vec<usize> = (0..all.len())
        .filter(|&i| all[i].keyword == "FROM")
        .collect();
    if stages.len() < 2 {
        problems.push("not multi-stage: fewer than two FROM".to_string());
    }
    let last = &all[stages.last().copied().unwrap_or(0)..];
    if !last
        .iter()
        .any(|i| i.keyword == "COPY" && i.args.contains("--from="))
    {
        problems.push("the final stage copies nothing from the build stage".to_string());
    }
    let from = last.first().map(|i| i.args.as_str()).unwrap_or("");
    if from
        .split_whitespace()
        .next()
        .is_some_and(|image| image.starts_with("rust"))
    {
        problems.push("the final stage runs on the Rust toolchain image".to_string());
    }
    match last.iter().rev().find(|i| i.keyword == "USER") {
        None => problems.push("the final stage has no USER: it runs as root".to_string()),
        Some(user) => {
            let uid = user.args.split(':').next().unwrap_or("");
            if !uid.chars().all(|c| c.is_ascii_digit())
                || uid.is_empty()
                || uid.parse::<u32>() == Ok(0)
            {
                problems.push(format!("USER {} is not a fixed non-root uid", user.args));
            }
        }
    }
    let env: BTreeMap<String, String> = last
        .iter()
        .filter(|i| i.keyword == "ENV")
        .flat_map(|i| assignments(&i.args))
        .collect();
    match last.iter().find(|i| i.keyword == "HEALTHCHECK") {
        None => problems.push("no HEALTHCHECK in the final stage".to_string()),
        Some(h) => {
            // Shell form names /health (curl, wget); exec form may run `minicrew health`.
            let exec_form = h
                .args
                .split_once("CMD")
                .and_then(|(_, cmd)| serde_json::from_str::<Vec<String>>(cmd.trim()).ok());
            let asks_health = h.args.contains("/health")
                || h.args.contains("minicrew health")
                || exec_form.is_some_and(|argv| {
                    argv.first().is_some_and(|bin| bin.ends_with("minicrew"))
                        && argv.get(1).is_some_and(|a| a == "health")
                });
            if !h.args.contains("CMD") || !asks_health {
                problems.push(format!("HEALTHCHECK does not ask /health: {}", h.args));
            }
            if env.get("HTTP_LISTEN").is_none_or(|v| v.is_empty()) {
                problems.push("HTTP_LISTEN is not set, so /health is not served".to_string());
            }
        }
    }
    let volumes: Vec<String> = last
        .iter()
        .filter(|i| i.keyword == "VOLUME")
        .flat_map(|i| {
            i.args
                .trim_matches(|c| c == '[' || c == ']')
                .split([',', ' '])
                .map(|v| v.trim().trim_matches('"').to_string())
                .filter(|v| !v.is_empty())
                .collect::<Vec<_>>()
        })
        .collect();
    for key in ["DATA_DIR", "CREDENTIALS_DIR"] {
        let on_volume = env
            .get(key)
            .is_some_and(|dir| volumes.iter().any(|v| dir.starts_with(v.as_str())));
        if !on_volume {
            problems.push(format!("{key} is not set to a folder on a VOLUME"));
        }
    }
    for i in all
        .iter()
        .filter(|i| i.keyword == "ENV" || i.keyword == "ARG")
    {
        for (name, _) in assignments(&i.args) {
            let upper = name.to_ascii_uppercase();
            if ["TOKEN", "KEY", "SECRET", "PASSWORD"]
                .iter()
                .any(|s| upper.contains(s))
            {
                problems.push(format!(
                    "{} {name} looks like a secret baked into a layer",
                    i.keyword
                ));
            }
        }
    }
    problems
}

fn dockerignore_problems(dockerignore: &str) -> Vec<String> {
    let patterns: Vec<&str> = dockerignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.trim_matches('/'))
        .collect();
    [
        ".env",
        "target",
        "data",
        "credentials",
        "tests/servers/.venv",
        "node_modules",
        ".git",
    ]
    .iter()
    .filter(|want| !patterns.contains(want))
    .map(|want| format!(".dockerignore does not exclude {want}"))
    .collect()
}

fn compose_problems(compose: &str) -> Vec<String> {
    let lines: Vec<&str> = compose
        .lines()
        .map(|l| l.split(" #").next().unwrap_or(l).trim_end())
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    let value = |key: &str| {
        lines
            .iter()
            .find_map(|l| l.trim_start().strip_prefix(key).map(str::trim))
    };
    let mut problems = Vec::new();
    if value("env_file:") != Some(".env") {
        problems.push("compose.yaml does not read env_file: .env".to_string());
    }
    if !matches!(
        value("restart:"),
        Some("unless-stopped" | "always" | "on-failure")
    ) {
        problems.push("compose.yaml has no restart policy".to_string());
    }
    if !value("test:").is_some_and(|t| t.contains("health")) {
        problems.push("compose.yaml has no healthcheck asking /health".to_string());
    }
    if !lines
        .iter()
        .any(|l| l.trim_start().starts_with("- ") && l.ends_with(":/var/lib/minicrew"))
    {
        problems.push("compose.yaml mounts no volume on /var/lib/minicrew".to_string());
    }
    for l in &lines {
        let key = l
            .trim_start()
            .trim_start_matches("- ")
            .split([':', '='])
            .next()
            .unwrap_or("");
        let upper = key.to_ascii_uppercase();
        if ["TOKEN", "_KEY", "SECRET", "PASSWORD"]
            .iter()
            .any(|s| upper.contains(s))
        {
            problems.push(format!("compose.yaml sets {key}: secrets belong in .env"));
        }
    }
    problems
}

/// `Key=Value` lines of a unit file (a key may repeat).
fn unit_settings(unit: &str) -> Vec<(String, String)> {
    unit.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.starts_with('['))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn unit_problems(unit: &str) -> Vec<String> {
    let settings = unit_settings(unit);
    let get = |k: &str| {
        settings
            .iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    let mut problems = Vec::new();
    for (key, want) in [
        ("Type", "notify"),
        ("Restart", "on-failure"),
        ("ExecStart", "/usr/local/bin/minicrew"),
        ("StateDirectory", "minicrew"),
        ("EnvironmentFile", "/etc/minicrew/env"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("NoNewPrivileges", "yes"),
        ("PrivateTmp", "yes"),
        ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"),
    ] {
        if get(key) != Some(want) {
            problems.push(format!("the unit needs {key}={want}, has {:?}", get(key)));
        }
    }
    if get("DynamicUser") != Some("yes") && get("User").is_none_or(|u| u == "root") {
        problems.push("the unit runs as root: set DynamicUser=yes or User=".to_string());
    }
    for key in ["WatchdogSec", "MemoryMax"] {
        if get(key).is_none() {
            problems.push(format!("the unit has no {key}"));
        }
    }
    if get("MemoryDenyWriteExecute") == Some("yes") {
        problems.push("MemoryDenyWriteExecute=yes breaks node MCP servers (JIT)".to_string());
    }
    if get("StandardOutput").is_some_and(|v| v != "journal") {
        problems.push("logs must go to the journal".to_string());
    }
    problems
}

#[test]
fn the_dockerfile_is_multi_stage_non_root_healthchecked_with_data_on_a_volume_and_no_secrets() {
    let problems = dockerfile_problems(&repo_file("Dockerfile"));
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn dockerignore_keeps_secrets_data_and_build_output_out_of_the_context() {
    let problems = dockerignore_problems(&repo_file(".dockerignore"));
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn compose_reads_dot_env_restarts_checks_health_and_keeps_data_on_a_volume() {
    let problems = compose_problems(&repo_file("compose.yaml"));
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_systemd_unit_is_notify_hardened_and_keeps_its_state_in_var_lib() {
    let problems = unit_problems(&repo_file("deploy/minicrew.service"));
    assert!(problems.is_empty(), "{problems:#?}");
}

/// Each broken copy of the real file must be caught, with the rule it breaks named.
fn assert_caught(check: fn(&str) -> Vec<String>, good: &str, broken: &[(&str, &str, &str)]) {
    for (from, to, complaint) in broken {
        assert!(
            good.contains(from),
            "the mutation {from:?} no longer applies"
        );
        let bad = good.replacen(from, to, 1);
        let problems = check(&bad);
        assert!(
            problems.iter().any(|p| p.contains(complaint)),
            "replacing {from:?} by {to:?} was not caught as {complaint:?}: {problems:?}"
        );
    }
}

#[test]
fn a_broken_copy_of_each_deploy_file_fails_its_check() {
    let dockerfile = repo_file("Dockerfile");
    assert_caught(
        dockerfile_problems,
        &dockerfile,
        &[
            ("FROM rust:1.95-bookworm AS build", "", "multi-stage"),
            ("COPY --from=build", "COPY", "copies nothing"),
            ("USER 10001:10001", "USER root", "not a fixed non-root uid"),
            ("USER 10001:10001", "USER 0", "not a fixed non-root uid"),
            ("USER 10001:10001", "", "runs as root"),
            ("HEALTHCHECK", "# HEALTHCHECK", "no HEALTHCHECK"),
            (
                r#""/usr/local/bin/minicrew", "health""#,
                r#""true""#,
                "does not ask /health",
            ),
            ("HTTP_LISTEN=127.0.0.1:9090", "HTTP_LISTEN=", "not served"),
            (
                r#"VOLUME ["/var/lib/minicrew"]"#,
                r#"VOLUME ["/tmp"]"#,
                "DATA_DIR is not set to a folder on a VOLUME",
            ),
            (
                "LOG_FORMAT=json",
                "LOG_FORMAT=json TELEGRAM_BOT_TOKEN=1:x",
                "looks like a secret",
            ),
            (
                "WORKDIR /src",
                "WORKDIR /src\nARG OPENAI_API_KEY",
                "looks like a secret",
            ),
        ],
    );
    let dockerignore = repo_file(".dockerignore");
    assert_caught(
        dockerignore_problems,
        &dockerignore,
        &[
            ("\n.env\n", "\n", "exclude .env"),
            ("target/", "", "exclude target"),
            ("data/", "", "exclude data"),
            ("credentials/", "", "exclude credentials"),
        ],
    );
    let compose = repo_file("compose.yaml");
    assert_caught(
        compose_problems,
        &compose,
        &[
            ("env_file: .env", "env_file: other.env", "env_file"),
            (
                "restart: unless-stopped",
                "restart: \"no\"",
                "restart policy",
            ),
            (
                "minicrew-data:/var/lib/minicrew",
                "minicrew-data:/tmp",
                "no volume",
            ),
            (
                "HTTP_LISTEN: 127.0.0.1:9090",
                "HTTP_LISTEN: 127.0.0.1:9090\n      TELEGRAM_BOT_TOKEN: 1:x",
                "secrets belong in .env",
            ),
        ],
    );
    let unit = repo_file("deploy/minicrew.service");
    assert_caught(
        unit_problems,
        &unit,
        &[
            ("Type=notify", "Type=simple", "Type=notify"),
            (
                "ProtectSystem=strict",
                "ProtectSystem=full",
                "ProtectSystem=strict",
            ),
            ("DynamicUser=yes", "", "runs as root"),
            ("WatchdogSec=60s", "", "no WatchdogSec"),
            (
                "MemoryMax=512M",
                "MemoryMax=512M\nMemoryDenyWriteExecute=yes",
                "JIT",
            ),
        ],
    );
}
