//! `duban verify` checks a data directory offline: exit 0 when the chain holds, exit 1 naming
//! the first bad seq when it does not.

mod common;

use std::process::Command;

use common::*;
use duban::store::*;

fn verify(dir: &std::path::Path, extra: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_duban"))
        .arg("verify")
        .arg("--data-dir")
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap(), text)
}

#[tokio::test]
async fn verify_exits_zero_on_an_intact_log_and_one_with_the_first_bad_seq() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path());
        for i in 0..20 {
            store
                .append(request("p", ExpectedVersion::Any, &format!("c{i}"), 1))
                .await
                .unwrap();
        }
    }
    let (code, text) = verify(dir.path(), &[]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("OK: 20 events verified"), "{text}");

    {
        let (db, tree) = raw_tree(dir.path());
        let mut r = raw_record(&tree, 12);
        r.hash[0] ^= 1;
        put_raw_record(&tree, 12, r);
        db.flush().unwrap();
    }
    let (code, text) = verify(dir.path(), &[]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("BROKEN at seq 12"), "{text}");
    let (code, json) = verify(dir.path(), &["--json"]);
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["first_break"]["seq"], 12);
}

#[test]
fn verify_refuses_a_directory_without_a_log() {
    let dir = tempfile::tempdir().unwrap();
    let (code, text) = verify(dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(text.contains("no event log"), "{text}");
}
