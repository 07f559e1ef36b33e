//! The database: one `Db` over SQLite (embedded default) or PostgreSQL (production), chosen by URL.
//!
//! Queries are written once in portable SQL and run on either engine through the [`on_db!`] and
//! [`on_tx!`] macros, which expand the same code for each concrete pool so that sqlx's types stay
//! concrete (the `Any` driver cannot bind dates or UUIDs).

pub mod backup;
pub mod bulk;
mod migrate;
mod sql;
pub mod testing;

pub use migrate::Migration;
pub use sql::{
    Arg, InstantRange, Sql, anonymous, deleted_district, existing_ids, fetch_page,
    fetch_page_capped, fetch_page_counting, keys_per_lookup, soft_delete,
};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// A PostgreSQL connection idle longer than this is pinged before it is used again.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(5);
use tokio::sync::{Mutex, OwnedMutexGuard};

pub use sqlx;

/// Which engine a [`Db`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

/// A connection pool on one of the two engines.
#[derive(Clone, Debug)]
pub enum Db {
    /// SQLite allows one writer at a time; writers queue on `writer` in-process instead of
    /// failing with "database is locked".
    Sqlite {
        pool: SqlitePool,
        writer: Arc<Mutex<()>>,
    },
    Postgres {
        pool: PgPool,
    },
}

/// A transaction. A SQLite write transaction holds the process-wide writer slot until it ends;
/// a read transaction holds none.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>, Option<OwnedMutexGuard<()>>),
    Postgres(Transaction<'static, Postgres>),
    /// Reads on PostgreSQL need no transaction: under READ COMMITTED each statement takes its
    /// own snapshot anyway, and BEGIN/COMMIT would cost two round trips per request.
    PostgresRead(sqlx::pool::PoolConnection<Postgres>),
    /// One read statement on SQLite ([`Db::read_one`]): a statement is its own snapshot, and
    /// BEGIN and COMMIT would cost two more trips to the connection's thread.
    SqliteRead(sqlx::pool::PoolConnection<Sqlite>),
}

/// Run `$body` with `$pool` bound to the concrete pool of `$db`.
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::Db::Sqlite { pool: $pool, .. } => $body,
            $crate::Db::Postgres { pool: $pool } => $body,
        }
    };
}

/// Run `$body` with `$conn` bound to the concrete connection of a [`Tx`] (use `&mut **$conn`).
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::Tx::Sqlite($conn, _) => $body,
            $crate::Tx::Postgres($conn) => $body,
            $crate::Tx::PostgresRead($conn) => $body,
            $crate::Tx::SqliteRead($conn) => $body,
        }
    };
}

/// How to open the database.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// `postgres://…` or `sqlite://path`; `None` means `<data_dir>/bima.db`.
    pub url: Option<String>,
    pub data_dir: std::path::PathBuf,
    pub max_connections: u32,
}

impl Db {
    /// Open (creating the SQLite file and data directory when needed). Does not migrate.
    pub async fn open(options: &DbOptions) -> Result<Db, sqlx::Error> {
        match (options.sqlite_path(), options.url.as_deref()) {
            (None, Some(url)) => {
                let connect = PgConnectOptions::from_str(url)?;
                Self::open_postgres(connect, options.max_connections).await
            }
            (path, _) => {
                let path = path.unwrap_or_else(|| options.data_dir.join("bima.db"));
                Self::open_sqlite(&path, options.max_connections).await
            }
        }
    }

    pub async fn open_sqlite(path: &Path, max_connections: u32) -> Result<Db, sqlx::Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let connect = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true)
            // A 32 MiB page cache per connection (allocated as used): bulk writes touch many
            // index pages, and the default 2 MiB turns them into read/write system calls.
            .pragma("cache_size", "-32768")
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(2))
            .connect_with(connect)
            .await?;
        Ok(Db::Sqlite {
            pool,
            writer: Arc::new(Mutex::new(())),
        })
    }

    pub async fn open_postgres(
        connect: PgConnectOptions,
        max_connections: u32,
    ) -> Result<Db, sqlx::Error> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(Duration::from_secs(30))
            // sqlx pings every connection it hands out: a round trip per request on the hot
            // path. Only a connection left idle for a while (the one a server restart or a
            // dropped link would have broken) is pinged; a broken one is closed and replaced.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > IDLE_BEFORE_PING {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(connect)
            .await?;
        Ok(Db::Postgres { pool })
    }

    pub fn engine(&self) -> Engine {
        match self {
            Db::Sqlite { .. } => Engine::Sqlite,
            Db::Postgres { .. } => Engine::Postgres,
        }
    }

    /// Begin a write transaction. On SQLite it takes the writer slot and `BEGIN IMMEDIATE`, so
    /// a transaction never fails half-way because another connection started writing first.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        match self {
            Db::Sqlite { pool, writer } => {
                let guard = writer.clone().lock_owned().await;
                let tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                Ok(Tx::Sqlite(tx, Some(guard)))
            }
            Db::Postgres { pool } => Ok(Tx::Postgres(pool.begin().await?)),
        }
    }

    /// Begin a read-only unit of work: no writer slot (on SQLite one snapshot for all its reads).
    pub async fn read(&self) -> Result<Tx, sqlx::Error> {
        match self {
            Db::Sqlite { pool, .. } => Ok(Tx::Sqlite(pool.begin().await?, None)),
            Db::Postgres { pool } => Ok(Tx::PostgresRead(pool.acquire().await?)),
        }
    }

    /// A read whose statements need no common snapshot (each is consistent on its own): no
    /// BEGIN/COMMIT on either engine. For the hot reads of one row (a token's account, a
    /// record by id).
    pub async fn read_one(&self) -> Result<Tx, sqlx::Error> {
        match self {
            Db::Sqlite { pool, .. } => Ok(Tx::SqliteRead(pool.acquire().await?)),
            Db::Postgres { pool } => Ok(Tx::PostgresRead(pool.acquire().await?)),
        }
    }

    /// Pool figures for `/metrics`: (open connections, idle connections).
    pub fn pool_stats(&self) -> (u32, usize) {
        on_db!(self, pool => (pool.size(), pool.num_idle()))
    }

    /// After a bulk load: refresh the planner's statistics (PostgreSQL also vacuums, so that
    /// index-only scans need not visit the table).
    pub async fn optimize(&self) -> Result<(), sqlx::Error> {
        match self {
            Db::Sqlite { pool, .. } => sqlx::query("ANALYZE").execute(pool).await.map(|_| ()),
            Db::Postgres { pool } => sqlx::query("VACUUM (ANALYZE)")
                .execute(pool)
                .await
                .map(|_| ()),
        }
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
    }

    pub async fn close(&self) {
        on_db!(self, pool => pool.close().await)
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx, guard) => {
                let result = tx.commit().await;
                drop(guard);
                result
            }
            Tx::Postgres(tx) => tx.commit().await,
            Tx::PostgresRead(_) | Tx::SqliteRead(_) => Ok(()),
        }
    }

    pub fn engine(&self) -> Engine {
        match self {
            Tx::Sqlite(..) | Tx::SqliteRead(_) => Engine::Sqlite,
            Tx::Postgres(_) | Tx::PostgresRead(_) => Engine::Postgres,
        }
    }

    /// The SQLite connection of a write or read transaction: for a statement written for
    /// SQLite alone.
    pub fn sqlite(&mut self) -> Option<&mut sqlx::SqliteConnection> {
        match self {
            Tx::Sqlite(tx, _) => Some(&mut **tx),
            Tx::SqliteRead(conn) => Some(&mut **conn),
            _ => None,
        }
    }

    /// The PostgreSQL connection, in a transaction or not: for a statement written for
    /// PostgreSQL alone.
    pub fn postgres(&mut self) -> Option<&mut sqlx::PgConnection> {
        match self {
            Tx::Postgres(tx) => Some(&mut **tx),
            Tx::PostgresRead(conn) => Some(&mut **conn),
            Tx::Sqlite(..) | Tx::SqliteRead(_) => None,
        }
    }
}

impl Db {
    /// A unit of work whose writes are one statement each and all-or-nothing on their own: on
    /// PostgreSQL a plain connection (each statement commits itself, saving the BEGIN and COMMIT
    /// round trips), on SQLite a write transaction as [`Db::begin`].
    pub async fn single_statement_writes(&self) -> Result<Tx, sqlx::Error> {
        match self {
            Db::Sqlite { .. } => self.begin().await,
            Db::Postgres { .. } => self.read().await,
        }
    }
}

/// Is this error a unique-constraint violation (a reused code, a duplicate key)?
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}
