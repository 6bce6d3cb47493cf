//! The demo's data directory: always a fresh one. A directory that already holds something is
//! refused, unless `--fresh` asks to wipe it — and even then only if everything in it is what
//! duban itself writes there, so a mistyped path never wipes someone's files.

use std::path::Path;

/// What duban keeps in a data directory: the log (sled's `db`, `conf` and `snap.*`), its
/// blobs, the read models, the generated secret, written mails.
const DUBAN_ENTRIES: [&str; 7] = [
    "db",
    "conf",
    "blobs",
    "projections",
    "jwt.secret",
    "mail",
    "outbox",
];

fn is_dubans(entry: &str) -> bool {
    DUBAN_ENTRIES.contains(&entry) || entry.starts_with("snap.")
}

/// Makes `dir` an empty directory, wiping a previous demo's data when `fresh`.
pub fn prepare(dir: &Path, fresh: bool) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let entries: Vec<String> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    if entries.is_empty() {
        return Ok(());
    }
    if !fresh {
        anyhow::bail!(
            "{} is not empty: the demo starts from a fresh data directory; pass --fresh to wipe \
             it, or choose another with --data-dir",
            dir.display()
        );
    }
    if let Some(foreign) = entries.iter().find(|e| !is_dubans(e)) {
        anyhow::bail!(
            "{} holds {foreign:?}, which duban did not write there: not wiping it",
            dir.display()
        );
    }
    for entry in &entries {
        let path = dir.join(entry);
        if path.is_dir() {
            std::fs::remove_dir_all(&path)?;
        } else {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_used_directory_is_refused_unless_fresh_and_foreign_files_are_never_wiped() {
        let dir = tempfile::tempdir().unwrap();
        prepare(dir.path(), false).unwrap();
        std::fs::create_dir(dir.path().join("db")).unwrap();
        std::fs::write(dir.path().join("jwt.secret"), "x").unwrap();
        std::fs::write(dir.path().join("snap.00000000004749B4"), "x").unwrap();
        assert!(prepare(dir.path(), false).is_err());
        prepare(dir.path(), true).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        std::fs::write(dir.path().join("thesis.tex"), "x").unwrap();
        let refused = prepare(dir.path(), true).unwrap_err().to_string();
        assert!(refused.contains("thesis.tex"), "{refused}");
        assert!(dir.path().join("thesis.tex").exists());
    }
}
