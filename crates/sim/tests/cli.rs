//! The simulator refuses incomplete instructions with a clear message.

use std::process::Command;

#[test]
fn too_few_codes_are_refused_clearly() {
    let out = Command::new(env!("CARGO_BIN_EXE_gocua-sim"))
        .args(["--server", "http://127.0.0.1:9", "--devices", "2", "--codes", "ABCD-EFGH"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2 devices need 2 codes, got 1"), "{stderr}");
}
