//! Insuree search at scale: seeds N insurees (default 1 000 000) straight in SQL, then times
//! the list queries the API runs (CHFID exact, name prefix, district-scoped name prefix).
//!
//!     cargo run --release -p registry --example search_bench -- 1000000
//!     BIMA_TEST_DATABASE_URL=postgres://… cargo run --release -p registry --example search_bench
//!
//! Prints one line per operation: n, p50, p99.

use kernel::{Actor, PageParams};
use registry::store::InsureeFilter;
use std::time::{Duration, Instant};
use store::{Db, Engine, on_db};
use uuid::Uuid;

const SYLLABLES: &str = "bakadalamanasatakilomipotuzerogehivewu";

fn sqlite_seed(n: u64) -> String {
    format!(
        "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {last})
         INSERT INTO insurees (id, chfid, last_name, other_names, last_name_key, other_names_key, gender, dob, status,
             district_id, version, created_at, updated_at)
         SELECT randomblob(16), printf('%09d', i), n, o, n, o, 'M', '1980-01-01', 'active',
             (SELECT id FROM districts WHERE k = i % 10), 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'
         FROM (SELECT i,
             substr('{SYLLABLES}', (i % 19) * 2 + 1, 2) || substr('{SYLLABLES}', (i / 19 % 19) * 2 + 1, 2)
                 || substr('{SYLLABLES}', (i / 361 % 19) * 2 + 1, 2) AS n,
             substr('{SYLLABLES}', (i / 7 % 19) * 2 + 1, 2) || substr('{SYLLABLES}', (i / 133 % 19) * 2 + 1, 2) AS o
             FROM s)",
        last = n - 1
    )
}

fn postgres_seed(n: u64) -> String {
    format!(
        "INSERT INTO insurees (id, chfid, last_name, other_names, last_name_key, other_names_key, gender, dob, status,
             district_id, version, created_at, updated_at)
         SELECT md5(i::text)::uuid, lpad(i::text, 9, '0'), n, o, n, o, 'M', DATE '1980-01-01', 'active',
             (SELECT id FROM districts WHERE k = i % 10), 1, now(), now()
         FROM (SELECT i,
             substr('{SYLLABLES}', (i % 19) * 2 + 1, 2) || substr('{SYLLABLES}', (i / 19 % 19) * 2 + 1, 2)
                 || substr('{SYLLABLES}', (i / 361 % 19) * 2 + 1, 2) AS n,
             substr('{SYLLABLES}', (i / 7 % 19) * 2 + 1, 2) || substr('{SYLLABLES}', (i / 133 % 19) * 2 + 1, 2) AS o
             FROM generate_series(0, {last}) AS i) AS s",
        last = n - 1
    )
}

async fn exec(db: &Db, sql: &str) {
    on_db!(db, pool => sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(pool).await.map(|_| ()))
        .expect(sql);
}

fn percentile(times: &mut [Duration], p: f64) -> Duration {
    times.sort();
    times[((times.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join(format!("bima-search-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let engine = if store::testing::postgres_url().is_some() {
        Engine::Postgres
    } else {
        Engine::Sqlite
    };
    let db = store::testing::fresh(engine, &dir).await.expect("database");
    db.migrate(&[
        kernel::MIGRATIONS,
        location::MIGRATIONS,
        registry::MIGRATIONS,
    ])
    .await
    .expect("migrate");
    let districts: Vec<Uuid> = (0..10).map(|_| Uuid::now_v7()).collect();
    exec(&db, "CREATE TABLE districts (k BIGINT, id UUID)").await;
    for (k, d) in districts.iter().enumerate() {
        on_db!(&db, pool => sqlx::query("INSERT INTO districts (k, id) VALUES ($1, $2)")
            .bind(k as i64).bind(*d).execute(pool).await.map(|_| ()))
        .expect("district");
    }
    let started = Instant::now();
    match engine {
        Engine::Sqlite => exec(&db, &sqlite_seed(n)).await,
        Engine::Postgres => exec(&db, &postgres_seed(n)).await,
    }
    // A steady state: PostgreSQL's autovacuum would have set the visibility map by now.
    match engine {
        Engine::Sqlite => exec(&db, "ANALYZE").await,
        Engine::Postgres => exec(&db, "VACUUM ANALYZE insurees").await,
    }
    println!(
        "{} insurees seeded on {} in {:.1?}",
        n,
        engine.name(),
        started.elapsed()
    );

    let admin = Actor::system("bench");
    let mut clerk = Actor::system("clerk");
    clerk.is_admin = false;
    clerk.rights = [registry::service::INSUREE_SEARCH].into_iter().collect();
    clerk.districts = vec![districts[3]];
    let page = PageParams::new(None, None);
    let syllable = |i: usize| &SYLLABLES[(i % 19) * 2..(i % 19) * 2 + 2];
    type Case = (&'static str, Box<dyn Fn(usize) -> (InsureeFilter, bool)>);
    let cases: Vec<Case> = vec![
        (
            "chfid exact",
            Box::new(move |i| {
                let chfid = format!("{:09}", (i as u64 * 7919) % n);
                (
                    InsureeFilter {
                        chfid: Some(chfid),
                        ..Default::default()
                    },
                    false,
                )
            }),
        ),
        (
            "name prefix, 2 letters",
            Box::new(move |i| {
                (
                    InsureeFilter {
                        q: Some(syllable(i).to_string()),
                        ..Default::default()
                    },
                    false,
                )
            }),
        ),
        (
            "name prefix, 2 letters, one district",
            Box::new(move |i| {
                (
                    InsureeFilter {
                        q: Some(syllable(i).to_string()),
                        ..Default::default()
                    },
                    true,
                )
            }),
        ),
        (
            "name prefix, 4 letters",
            Box::new(move |i| {
                (
                    InsureeFilter {
                        q: Some(format!("{}{}", syllable(i), syllable(i / 19 + 3))),
                        ..Default::default()
                    },
                    false,
                )
            }),
        ),
        (
            "name prefix, 6 letters",
            Box::new(move |i| {
                (
                    InsureeFilter {
                        q: Some(format!(
                            "{}{}{}",
                            syllable(i),
                            syllable(i / 19 + 3),
                            syllable(i / 7 + 1)
                        )),
                        ..Default::default()
                    },
                    false,
                )
            }),
        ),
        (
            "name prefix, 6 letters, one district",
            Box::new(move |i| {
                (
                    InsureeFilter {
                        q: Some(format!(
                            "{}{}{}",
                            syllable(i),
                            syllable(i / 19 + 3),
                            syllable(i / 7 + 1)
                        )),
                        ..Default::default()
                    },
                    true,
                )
            }),
        ),
        (
            "first page, no filter",
            Box::new(|_| (InsureeFilter::default(), false)),
        ),
    ];
    println!(
        "{:<40} {:>6} {:>10} {:>10} {:>8}",
        "operation", "n", "p50", "p99", "rows"
    );
    for (name, make) in &cases {
        let mut times = Vec::new();
        let mut rows = 0;
        for i in 0..200 {
            let (filter, scoped) = make(i);
            let actor = if scoped { &clerk } else { &admin };
            let t = Instant::now();
            let found = registry::service::list_insurees(&db, actor, filter, page)
                .await
                .expect("list");
            times.push(t.elapsed());
            rows += found.total;
        }
        let p50 = percentile(&mut times, 0.5);
        let p99 = percentile(&mut times, 0.99);
        println!(
            "{name:<40} {:>6} {:>10.2?} {:>10.2?} {:>8}",
            times.len(),
            p50,
            p99,
            rows / times.len() as i64
        );
    }
    store::testing::drop_schema(&db).await;
    let _ = std::fs::remove_dir_all(&dir);
}
