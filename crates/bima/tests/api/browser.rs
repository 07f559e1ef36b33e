//! The web UI in a real browser: `crates/web/tests/ui/journey.mjs` drives Debian's Chromium
//! (headless, through npm's playwright-core) against a running Bima on the imported openIMIS
//! demo, on both engines. Its screenshots go to a temporary folder, or to `BIMA_UI_SHOTS`
//! (`BIMA_UI_SHOTS=$PWD/docs/screenshots` refreshes the ones kept in the repository).
//!
//! Needs Node.js and Chromium (`apt-get install chromium`; `.ci/run` installs it when missing);
//! the npm package is installed here on first use.

use crate::auth::demo_dir;
use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn ui_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/tests/ui")
}

/// playwright-core, installed from the lock file once. One install at a time.
fn install_playwright() {
    static ONCE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONCE.lock().unwrap_or_else(|e| e.into_inner());
    let dir = ui_dir();
    if dir
        .join("node_modules/playwright-core/package.json")
        .exists()
    {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--silent"])
        .current_dir(&dir)
        .status()
        .expect("npm (Node.js) is needed for the browser tests");
    assert!(status.success(), "npm ci in {}", dir.display());
}

fn chromium() -> String {
    let path = std::env::var("BIMA_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&path).exists(),
        "the browser tests need Chromium at {path}: apt-get install chromium (or set BIMA_CHROMIUM)"
    );
    path
}

#[tokio::test]
async fn an_officer_works_through_the_ui_in_a_browser() {
    install_playwright();
    let chromium = chromium();
    let kept = std::env::var("BIMA_UI_SHOTS").ok();
    let temp = tempfile::tempdir().unwrap();
    let shots_root = kept
        .as_ref()
        .map(PathBuf::from)
        .unwrap_or_else(|| temp.path().to_path_buf());
    each_engine(|app| {
        let chromium = chromium.clone();
        let shots_root = shots_root.clone();
        let keep_one = kept.is_some();
        async move {
            openimis_import::run(&app.db, &demo_dir(), openimis_import::Progress::Hidden)
                .await
                .unwrap();
            let engine = format!("{:?}", app.engine).to_lowercase();
            // Screenshots kept in the repository come from SQLite only.
            if keep_one && engine != "sqlite" {
                app.finish().await;
                return;
            }
            let sample = crate::web::Sample::of(&app).await;
            let yesterday = time::OffsetDateTime::now_utc()
                .date()
                .previous_day()
                .unwrap();
            let data = serde_json::json!({
                "village": sample.village,
                "facility": sample.facility,
                "item_kind": sample.kind,
                "item": sample.line,
                "icd": sample.icd,
                "chfid": "770000099",
                // Before the policy enrolled today: the line is rejected.
                "visit": yesterday.to_string(),
            });
            let shots = if keep_one {
                shots_root.clone()
            } else {
                shots_root.join(&engine)
            };
            let base = app.base.clone();
            let dir = ui_dir();
            let run = tokio::task::spawn_blocking(move || {
                Command::new("node")
                    .arg("journey.mjs")
                    .current_dir(dir)
                    .env("BIMA_URL", base)
                    .env("BIMA_PASSWORD", ADMIN_PASSWORD)
                    .env("BIMA_SAMPLE", data.to_string())
                    .env("BIMA_SHOTS", &shots)
                    .env("BIMA_CHROMIUM", chromium)
                    .output()
                    .expect("node")
            })
            .await
            .unwrap();
            assert!(
                run.status.success(),
                "[{engine}] the browser journey failed:\n{}\n{}",
                String::from_utf8_lossy(&run.stdout),
                String::from_utf8_lossy(&run.stderr)
            );
            let out = String::from_utf8_lossy(&run.stdout);
            assert!(out.contains("rejected line: "), "{out}");
            let (_, claims) = app.get("/api/v1/claims?code=UI-CLAIM-1").await;
            assert_eq!(claims["total"], 1, "{claims}");
            assert_eq!(claims["items"][0]["status"], "rejected", "{claims}");
            app.finish().await;
        }
    })
    .await;
}
