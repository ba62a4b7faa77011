//! The real `gocua-server` binary: admin commands and start-up errors say what is wrong.

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gocua-server"))
}

#[test]
fn admin_commands_create_places_users_and_codes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.sqlite");
    let run = |args: &[&str]| {
        let out = bin().arg("admin").arg("--database").arg(&db).args(args).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).trim().to_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(run(&["import-places"]).1, "imported 3355 places");
    let (ok, _, err) =
        run(&["add-place", "--code", "03445-09", "--name", "Bản Thử", "--level", "hamlet", "--parent", "nowhere"]);
    assert!(!ok && err.contains("unknown parent place nowhere"), "{err}");
    assert!(run(&["add-place", "--code", "03445-09", "--name", "Bản Thử", "--level", "hamlet", "--parent", "03445"]).0);
    let (ok, user, _) = run(&["add-user", "--name", "Lò Thị Lan", "--role", "volunteer", "--scope", "03445-09"]);
    assert!(ok && uuid::Uuid::parse_str(&user).is_ok(), "{user}");
    let (ok, code, _) = run(&["create-code", "--user", &user]);
    assert!(ok && code.len() == 9, "{code}");
    let (ok, _, err) = run(&["add-user", "--name", "X", "--role", "sheriff", "--scope", "03445"]);
    assert!(!ok && err.contains("sheriff"), "{err}");
}

#[test]
fn an_unsupported_or_unreachable_database_is_refused_clearly() {
    let serve = |database: &str| {
        let out = bin().args(["serve", "--listen", "127.0.0.1:0", "--database", database]).output().unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = serve("mysql://u@localhost/gocua");
    assert!(err.contains("unknown database URL scheme") && err.contains("mysql://"), "{err}");
    // port 1 on loopback: nothing listens there
    let err = serve("postgres://gocua@127.0.0.1:1/gocua");
    assert!(err.contains("cannot open the database"), "{err}");
    assert!(err.contains("không mở được"), "Vietnamese first: {err}");
}
