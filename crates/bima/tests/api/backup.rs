//! `bima backup` and `bima restore` through the binary, on each engine: a round trip gives back
//! exactly what was backed up, and what is not a backup of this engine changes nothing.

use crate::support::*;

#[tokio::test]
async fn a_backup_restores_what_it_copied() {
    for engine in store::testing::engines() {
        let site = Installation::new(engine).await;
        let (ok, out) = site.run(&["demo", "--families", "25", "--claims", "40"]);
        assert!(ok, "[{engine:?}] demo: {out}");
        let file = site.dir.path().join("backups/monday.bak");
        let file_arg = file.to_str().unwrap();
        let (ok, out) = site.run(&["backup", file_arg]);
        assert!(ok, "[{engine:?}] backup: {out}");
        assert!(out.contains("backed up the"), "{out}");
        let copied = site.fingerprint().await;
        assert!(
            copied.iter().any(|(t, n)| t == "insurees" && *n > 50),
            "[{engine:?}] the demo's people: {copied:?}"
        );

        // A second backup never overwrites the first.
        let (ok, out) = site.run(&["backup", file_arg]);
        assert!(!ok && out.contains("already exists"), "[{engine:?}] {out}");

        // Work after the backup: every policy expires, with audit records.
        let (ok, out) = site.run(&["policies", "expire", "--date", "2099-01-01"]);
        assert!(ok, "[{engine:?}] expire: {out}");
        let changed = site.fingerprint().await;
        assert_ne!(copied, changed, "[{engine:?}] the later work shows");

        let (ok, out) = site.run(&["restore", file_arg]);
        assert!(ok, "[{engine:?}] restore: {out}");
        assert!(out.contains("ok, the audit chain verifies"), "{out}");
        assert_eq!(
            site.fingerprint().await,
            copied,
            "[{engine:?}] as backed up"
        );
        let (ok, out) = site.run(&["audit", "verify"]);
        assert!(ok, "[{engine:?}] {out}");

        // Not a backup, or one of the other engine: refused, nothing changed.
        let junk = site.dir.path().join("junk.bak");
        std::fs::write(&junk, "id,name\n1,not a backup\n").unwrap();
        let (ok, out) = site.run(&["restore", junk.to_str().unwrap()]);
        assert!(
            !ok && out.contains("not a Bima backup"),
            "[{engine:?}] {out}"
        );
        let other = site.dir.path().join("other.bak");
        let magic: &[u8] = match engine {
            store::Engine::Sqlite => b"PGDMP\x01\x0e\x00\x04\x08\x01",
            store::Engine::Postgres => b"SQLite format 3\0\x10\x00",
        };
        std::fs::write(&other, magic).unwrap();
        let (ok, out) = site.run(&["restore", other.to_str().unwrap()]);
        assert!(
            !ok && out.contains("nothing was changed"),
            "[{engine:?}] {out}"
        );
        assert_eq!(site.fingerprint().await, copied, "[{engine:?}] untouched");
        site.finish().await;
    }
}

#[tokio::test]
async fn a_sqlite_database_in_use_is_not_replaced() {
    let site = Installation::new(store::Engine::Sqlite).await;
    let (ok, out) = site.run(&["demo", "--families", "5"]);
    assert!(ok, "{out}");
    let file = site.dir.path().join("copy.db");
    let (ok, out) = site.run(&["backup", file.to_str().unwrap()]);
    assert!(ok, "{out}");
    let before = site.fingerprint().await;
    // A server (here: an open pool) still has the file open.
    let db = site.open().await;
    let (ok, out) = site.run(&["restore", file.to_str().unwrap()]);
    assert!(!ok && out.contains("is in use"), "{out}");
    db.close().await;
    assert_eq!(site.fingerprint().await, before);
    site.finish().await;
}
