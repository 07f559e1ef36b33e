//! Schemathesis (PyPI) against `/api/openapi.json` of the real app on the imported openIMIS
//! demo, on each engine: thousands of generated requests, valid and not, to every documented
//! operation. No answer may be a server error, and every answer must match the document
//! (status codes, content types, bodies).
//!
//! Needs Python 3 with venv; schemathesis is installed (pinned) into the test's own virtualenv
//! on first use, or taken from `BIMA_SCHEMATHESIS` (the path of an `st` program).

use crate::auth::demo_dir;
use crate::support::*;
use std::path::PathBuf;
use std::process::Command;

const VERSION: &str = "4.32.5";

/// The `st` program: `BIMA_SCHEMATHESIS`, or a virtualenv of our own, made once.
fn schemathesis() -> PathBuf {
    if let Ok(path) = std::env::var("BIMA_SCHEMATHESIS") {
        return PathBuf::from(path);
    }
    static ONCE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONCE.lock().unwrap_or_else(|e| e.into_inner());
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("schemathesis-{VERSION}"));
    let st = venv.join("bin/st");
    if st.exists() {
        return st;
    }
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .expect("python3 is needed for the schemathesis test");
    assert!(made.success(), "python3 -m venv {}", venv.display());
    let installed = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .arg(format!("schemathesis=={VERSION}"))
        .status()
        .expect("pip");
    assert!(installed.success(), "pip install schemathesis=={VERSION}");
    st
}

#[tokio::test]
async fn every_answer_matches_the_openapi_document() {
    let st = schemathesis();
    each_engine(|app| {
        let st = st.clone();
        async move {
            openimis_import::run(&app.db, &demo_dir(), openimis_import::Progress::Hidden)
                .await
                .unwrap();
            let out = tokio::process::Command::new(&st)
                .arg("run")
                .arg(format!("{}/api/openapi.json", app.base))
                .args(["--header", &format!("Authorization: Bearer {}", app.token)])
                .args([
                    "--checks",
                    "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
                ])
                .args(["--phases", "examples,coverage,fuzzing"])
                .args(["--max-examples", "25", "--seed", "1", "--workers", "2"])
                // Changing the admin's password would lock the run out of its own token.
                .args(["--exclude-path", "/api/v1/auth/password"])
                // A document upload (PDF or image bytes): schemathesis cannot generate those;
                // claims.rs sends real ones.
                .args(["--exclude-path", "/api/v1/claims/{id}/attachments"])
                .env("NO_COLOR", "1")
                .output()
                .await
                .expect("run schemathesis");
            let report = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                out.status.success(),
                "[{:?}] schemathesis found answers that break the document:\n{report}",
                app.engine
            );
            assert!(report.contains("Tested:"), "{report}");
            app.finish().await;
        }
    })
    .await;
}
