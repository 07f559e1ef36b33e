//! Per-module, per-engine migrations, applied in order and recorded in `bima_migrations`.
//!
//! Each module ships `migrations/{sqlite,postgres}/NNNN_name.sql` and lists them with
//! [`Migration`]; the composition root passes every module's list, in dependency order.

use crate::{Db, on_db};
use sqlx::AssertSqlSafe;

/// One schema change of one module, in both dialects.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub module: &'static str,
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// Declare a module's migrations from its `migrations/{sqlite,postgres}/NAME.sql` files.
#[macro_export]
macro_rules! migrations {
    ($module:literal: $($name:literal),* $(,)?) => {
        &[$($crate::Migration {
            module: $module,
            name: $name,
            sqlite: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite/", $name, ".sql")),
            postgres: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres/", $name, ".sql")),
        }),*]
    };
}

const CREATE_LEDGER: &str = "CREATE TABLE IF NOT EXISTS bima_migrations (
    module TEXT NOT NULL,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (module, name)
)";

impl Db {
    /// Apply every migration not yet recorded. Safe to call from several processes at once:
    /// PostgreSQL takes an advisory lock, SQLite serialises through `BEGIN IMMEDIATE`.
    pub async fn migrate(&self, sets: &[&[Migration]]) -> Result<usize, sqlx::Error> {
        on_db!(self, pool => sqlx::query(CREATE_LEDGER).execute(pool).await.map(|_| ()))?;
        let mut applied = 0;
        for migration in sets.iter().flat_map(|set| set.iter()) {
            let mut tx = self.begin().await?;
            if let crate::Tx::Postgres(conn) = &mut tx {
                sqlx::query("SELECT pg_advisory_xact_lock(72616961)")
                    .execute(&mut **conn)
                    .await?;
            }
            let done: Option<(String,)> = crate::on_tx!(&mut tx, conn => {
                sqlx::query_as("SELECT name FROM bima_migrations WHERE module = $1 AND name = $2")
                    .bind(migration.module)
                    .bind(migration.name)
                    .fetch_optional(&mut **conn)
                    .await?
            });
            if done.is_some() {
                continue;
            }
            let sql = match self.engine() {
                crate::Engine::Sqlite => migration.sqlite,
                crate::Engine::Postgres => migration.postgres,
            };
            let now = time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            crate::on_tx!(&mut tx, conn => {
                sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut **conn).await?;
                sqlx::query("INSERT INTO bima_migrations (module, name, applied_at) VALUES ($1, $2, $3)")
                    .bind(migration.module)
                    .bind(migration.name)
                    .bind(now)
                    .execute(&mut **conn)
                    .await?;
            });
            tx.commit().await?;
            tracing::info!(
                module = migration.module,
                name = migration.name,
                "migration applied"
            );
            applied += 1;
        }
        // Indexes a bulk load set aside and could not build again (it was killed) come back
        // before anything else uses the database.
        crate::bulk::restore_parked(self, None).await?;
        Ok(applied)
    }
}
