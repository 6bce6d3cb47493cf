//! The container files, checked without a container engine: the image runs as a non-root
//! user with `/data` as a volume and the service's settings, and the compose file wires duban
//! to Mailpit with settings duban reads as intended.

use std::collections::BTreeMap;
use std::path::PathBuf;

use duban::config::Settings;

fn read(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("docker")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The Dockerfile's instructions, continuation lines joined, comments dropped.
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || (line.is_empty() && current.is_empty()) {
            continue;
        }
        current.push_str(line.trim_end_matches('\\'));
        current.push(' ');
        if !line.ends_with('\\') {
            let (op, args) = current
                .trim()
                .split_once(' ')
                .unwrap_or((current.trim(), ""));
            out.push((op.to_ascii_uppercase(), args.trim().to_string()));
            current.clear();
        }
    }
    out
}

/// The `KEY=value` pairs of the final stage's `ENV` instructions.
fn env_of(stage: &[(String, String)]) -> BTreeMap<String, String> {
    stage
        .iter()
        .filter(|(op, _)| op == "ENV")
        .flat_map(|(_, args)| args.split_whitespace())
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_image_runs_as_a_non_root_user_with_data_as_its_volume() {
    let all = instructions(&read("Dockerfile"));
    let froms: Vec<&str> = all
        .iter()
        .filter(|(op, _)| op == "FROM")
        .map(|(_, a)| a.as_str())
        .collect();
    assert_eq!(
        froms.len(),
        2,
        "a builder stage and a runtime stage: {froms:?}"
    );
    assert!(
        froms[0].starts_with("rust:1.9") && froms[0].contains("-bookworm"),
        "{}",
        froms[0]
    );
    assert_eq!(froms[1], "debian:bookworm-slim");
    assert!(
        all.iter()
            .any(|(op, a)| op == "RUN" && a.contains("cargo build --release --locked"))
    );

    let last_from = all.iter().rposition(|(op, _)| op == "FROM").unwrap();
    let stage = &all[last_from..];
    let position = |op: &str, has: &str| stage.iter().position(|(o, a)| o == op && a.contains(has));
    let user = stage
        .iter()
        .rfind(|(op, _)| op == "USER")
        .map(|(_, a)| a.as_str());
    assert_eq!(user, Some("duban"));
    assert!(position("RUN", "useradd").is_some(), "the user is created");
    let chown = position("RUN", "chown duban:duban /data").expect("/data belongs to duban");
    let volume = position("VOLUME", "/data").expect("/data is a volume");
    assert!(chown < volume, "the volume starts out owned by duban");
    assert!(position("COPY", "policies").is_some() && position("COPY", "plans").is_some());
    assert!(position("EXPOSE", "8080").is_some());
    assert!(position("ENTRYPOINT", "[\"duban\"]").is_some());
    assert!(position("CMD", "[\"serve\"]").is_some());
    let env = env_of(stage);
    assert_eq!(env["DUBAN_DATA_DIR"], "/data");
    assert_eq!(env["DUBAN_LISTEN"], "0.0.0.0:8080");
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The lines nested under a key path of the compose file, e.g. `services`, `duban`,
/// `environment`: at each step the key is looked for at the block's own indentation.
fn block<'a>(text: &'a str, path: &[&str]) -> Vec<&'a str> {
    let mut lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .collect();
    for key in path {
        let level = lines.iter().map(|l| indent(l)).min().unwrap_or(0);
        let at = lines
            .iter()
            .position(|l| indent(l) == level && l.trim().split(':').next() == Some(key))
            .unwrap_or_else(|| panic!("no {key:?} in {path:?}"));
        lines = lines[at + 1..]
            .iter()
            .take_while(|l| indent(l) > level)
            .copied()
            .collect();
    }
    lines
}

/// `KEY: value` lines as a map, `${VAR:-default}` read as its default.
fn mapping(lines: &[&str]) -> BTreeMap<String, String> {
    lines
        .iter()
        .filter_map(|l| l.trim().split_once(": "))
        .map(|(k, v)| {
            let v = v.trim().trim_matches('"');
            let v = match v.strip_prefix("${").and_then(|v| v.strip_suffix('}')) {
                Some(var) => var.split_once(":-").map_or("", |(_, default)| default),
                None => v,
            };
            (k.to_string(), v.to_string())
        })
        .collect()
}

#[test]
#[allow(clippy::result_large_err)] // figment's Jail API returns its own large error
fn compose_wires_duban_to_mailpit_with_settings_duban_reads() {
    let compose = read("compose.yaml");
    let env_lines = block(&compose, &["services", "duban", "environment"]);
    assert!(
        env_lines.iter().any(|l| l.contains("${DUBAN_JWT_SECRET")),
        "the secret comes from the environment"
    );
    let env = mapping(&env_lines);
    assert_eq!(env["DUBAN_MAIL__SMTP_URL"], "smtp://mailpit:1025");
    let mailpit = mapping(&block(&compose, &["services", "mailpit"]));
    assert!(
        mailpit["image"].starts_with("axllent/mailpit"),
        "{}",
        mailpit["image"]
    );
    let inbox = block(&compose, &["services", "mailpit", "ports"]);
    assert!(
        inbox.iter().any(|l| l.contains("8025:8025")),
        "the web inbox is published"
    );
    let volumes = block(&compose, &["services", "duban", "volumes"]);
    assert!(volumes.iter().any(|l| l.trim() == "- duban-data:/data"));
    assert!(
        block(&compose, &["volumes"])
            .iter()
            .any(|l| l.trim() == "duban-data:")
    );

    // The image's and the compose file's variables, as duban reads them.
    let image_env = env_of(&instructions(&read("Dockerfile")));
    figment::Jail::expect_with(|jail| {
        for (k, v) in image_env.iter().chain(env.iter()) {
            jail.set_env(k, v);
        }
        let s = Settings::load_without_validation(None).unwrap();
        assert_eq!(s.listen.to_string(), "0.0.0.0:8080");
        assert_eq!(s.data_dir, PathBuf::from("/data"));
        assert_eq!(s.mail.smtp_url.as_deref(), Some("smtp://mailpit:1025"));
        assert_eq!(s.public_url, "http://localhost:8080");
        let refused = s.validate().unwrap_err().to_string();
        assert!(
            refused.contains("at least 32 bytes"),
            "the placeholder secret is refused: {refused}"
        );
        Ok(())
    });
}
