//! Databases for tests: a fresh SQLite file, or a fresh schema on the PostgreSQL server named by
//! `BIMA_TEST_DATABASE_URL`, so that every test is isolated from every other.

use crate::Db;
use sqlx::AssertSqlSafe;
use sqlx::postgres::PgConnectOptions;
use std::str::FromStr;

/// The engines the database tests run on: SQLite always, PostgreSQL when configured.
pub fn engines() -> Vec<crate::Engine> {
    let mut engines = vec![crate::Engine::Sqlite];
    if postgres_url().is_some() {
        engines.push(crate::Engine::Postgres);
    }
    engines
}

pub fn postgres_url() -> Option<String> {
    std::env::var("BIMA_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// A database for one test; SQLite files live in `dir`, which the caller keeps alive.
pub async fn fresh(engine: crate::Engine, dir: &std::path::Path) -> Result<Db, sqlx::Error> {
    match engine {
        crate::Engine::Sqlite => Db::open_sqlite(&dir.join("bima.db"), 8).await,
        crate::Engine::Postgres => {
            let url = postgres_url().expect("BIMA_TEST_DATABASE_URL");
            let admin = Db::open_postgres(PgConnectOptions::from_str(&url)?, 2).await?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs();
            let schema = format!("bima_t_{now}_{}", uuid::Uuid::new_v4().simple());
            if let Db::Postgres { pool } = &admin {
                sweep_old_schemas(pool, now).await?;
                sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(pool)
                    .await?;
            }
            admin.close().await;
            let connect =
                PgConnectOptions::from_str(&url)?.options([("search_path", schema.as_str())]);
            Db::open_postgres(connect, 8).await
        }
    }
}

/// Test schemas left behind by crashed runs are dropped after two hours.
async fn sweep_old_schemas(pool: &sqlx::PgPool, now: u64) -> Result<(), sqlx::Error> {
    let names: Vec<(String,)> =
        sqlx::query_as("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'bima\\_t\\_%'")
            .fetch_all(pool)
            .await?;
    for (name,) in names {
        let stamp = name
            .split('_')
            .nth(2)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        if now.saturating_sub(stamp) > 7200 {
            let _ = sqlx::query(AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS {name} CASCADE"
            )))
            .execute(pool)
            .await;
        }
    }
    Ok(())
}

/// Drop a PostgreSQL test schema when the test is done (SQLite files go with their folder).
pub async fn drop_schema(db: &Db) {
    if let Db::Postgres { pool } = db {
        let schema: Result<(String,), _> = sqlx::query_as("SELECT current_schema()::text")
            .fetch_one(pool)
            .await;
        if let Ok((schema,)) = schema
            && schema.starts_with("bima_t_")
        {
            let _ = sqlx::query(AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE"
            )))
            .execute(pool)
            .await;
        }
    }
    db.close().await;
}
