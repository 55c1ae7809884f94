//! `bridge-admin --version` names the release it belongs to.

#[test]
fn the_console_names_the_workspaces_version() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bridge-admin"))
        .arg("--version")
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.trim(),
        format!("bridge-admin {}", bridge_core::VERSION)
    );
}
