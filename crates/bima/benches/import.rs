//! openIMIS import benchmark: writes a synthetic openIMIS export with the release
//! `bima demo --openimis-export DIR --families N`, then times `bima import openimis DIR` into an
//! empty database, a second run over the same export (which must change nothing), and
//! `bima audit verify`.
//!
//!     cargo bench -p bima --bench import                        # 250,000 families on SQLite
//!     BIMA_BENCH_FAMILIES=20000 cargo bench -p bima --bench import
//!     BIMA_BENCH_DATABASE_URL="postgres://postgres@localhost/postgres?host=/var/run/postgresql" cargo bench -p bima --bench import
//!     BIMA_BENCH_ENGINES=postgres ...                            # PostgreSQL only
//!
//! With BIMA_BENCH_DATABASE_URL it runs on PostgreSQL too, in a database `bima_bench_import`
//! that it drops and creates on that server.

mod support;

use std::time::{Duration, Instant};
use support::*;

/// Run a `bima` command to its end; answers its time and its standard output.
fn timed(mut command: std::process::Command, what: &str) -> (Duration, String) {
    let started = Instant::now();
    let out = command.output().expect("bima runs");
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{what} failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (took, stdout)
}

/// The `imported` column of the report, summed.
fn imported(report: &str) -> u64 {
    report
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(2)?.parse::<u64>().ok())
        .sum()
}

fn run(engine: &str, database_url: Option<&str>, export: &std::path::Path, families: u64) {
    let dir = tempfile::tempdir().unwrap();
    println!("\n## {engine}, {families} families\n");
    let mut import = bima(dir.path(), database_url);
    import.args(["import", "openimis"]).arg(export);
    let (first, report) = timed(import, "the import");
    println!("{report}");
    let mut again = bima(dir.path(), database_url);
    again.args(["import", "openimis"]).arg(export);
    let (second, report_again) = timed(again, "the second import");
    assert_eq!(
        imported(&report_again),
        0,
        "a second run imports nothing:\n{report_again}"
    );
    let mut verify = bima(dir.path(), database_url);
    verify.args(["audit", "verify"]);
    let (verified, verdict) = timed(verify, "audit verify");
    assert!(verdict.starts_with("ok"), "{verdict}");
    println!("| operation | time | result |");
    println!("|---|---|---|");
    println!(
        "| bima import openimis (empty database) | {:.1} s | {} rows imported; target < 120 s |",
        first.as_secs_f64(),
        imported(&report)
    );
    println!(
        "| the same import again | {:.1} s | nothing imported |",
        second.as_secs_f64()
    );
    println!(
        "| bima audit verify | {:.1} s | {} |",
        verified.as_secs_f64(),
        verdict.trim()
    );
}

fn main() {
    let families: u64 = std::env::var("BIMA_BENCH_FAMILIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(250_000);
    let engines = std::env::var("BIMA_BENCH_ENGINES").unwrap_or_else(|_| "sqlite,postgres".into());
    let export = tempfile::tempdir().unwrap();
    println!("# bima openIMIS import benchmark");
    let scratch = tempfile::tempdir().unwrap();
    let mut write = bima(scratch.path(), None);
    write
        .args(["demo", "--openimis-export"])
        .arg(export.path())
        .args(["--families", &families.to_string()]);
    let (took, written) = timed(write, "the export");
    println!("\n{} in {:.1} s", written.trim(), took.as_secs_f64());
    if engines.contains("sqlite") {
        run("SQLite", None, export.path(), families);
    }
    if engines.contains("postgres")
        && let Ok(url) = std::env::var("BIMA_BENCH_DATABASE_URL")
    {
        let bench_url = tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(fresh_postgres(&url, "bima_bench_import"));
        run("PostgreSQL", Some(&bench_url), export.path(), families);
    }
}
