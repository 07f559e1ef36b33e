//! Backups: a consistent copy of the live database taken while it serves, and putting one back.
//!
//! - SQLite: `VACUUM INTO` writes a transactionally consistent copy (one read snapshot, so
//!   writers carry on); the backup is itself a SQLite file that `sqlite3` can open. Restoring
//!   checks the copy (`PRAGMA integrity_check`, a Bima schema), refuses while another process
//!   has the database open, and swaps the file in with a rename, so a crash half-way leaves the
//!   old database as it was.
//! - PostgreSQL: `pg_dump --format=custom` of Bima's schema (one snapshot, online). Restoring
//!   drops the schema and replays the dump through `psql --single-transaction`: all of it or,
//!   on any error, nothing.
//!
//! A file being written is named `FILE.partial` and renamed when complete: a backup that exists
//! under its name is whole. Passwords in the database URL go to the client tools through
//! `PGPASSWORD`, never on a command line that `ps` shows.

use crate::{Db, DbOptions, Engine};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{ConnectOptions, Connection};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
const PG_DUMP_MAGIC: &[u8] = b"PGDMP";

/// Why a backup or a restore did not happen, in the operator's words.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Refused(String),
    #[error("the database answered: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

fn refused(message: impl Into<String>) -> BackupError {
    BackupError::Refused(message.into())
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> BackupError {
    let what = what.into();
    move |source| BackupError::Io { what, source }
}

/// What a backup or restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub engine: Engine,
    pub file: PathBuf,
    pub bytes: u64,
}

impl DbOptions {
    /// The SQLite file these options open, or `None` for PostgreSQL.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match self.url.as_deref() {
            Some(url) if is_postgres_url(url) => None,
            Some(url) => Some(PathBuf::from(
                url.strip_prefix("sqlite://")
                    .or_else(|| url.strip_prefix("sqlite:"))
                    .unwrap_or(url),
            )),
            None => Some(self.data_dir.join("bima.db")),
        }
    }
}

pub(crate) fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Write a consistent copy of the open database `db` (opened with `options`) to `file`.
pub async fn backup(db: &Db, options: &DbOptions, file: &Path) -> Result<Done, BackupError> {
    if file.exists() {
        return Err(refused(format!(
            "{} already exists: choose another name, or move the old backup away first",
            file.display()
        )));
    }
    let partial = partial_name(file);
    let _ = std::fs::remove_file(&partial);
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io(format!("cannot create {}", dir.display())))?;
    }
    let result = match db {
        Db::Sqlite { pool, .. } => {
            let target = partial
                .to_str()
                .ok_or_else(|| refused("the backup's file name must be valid UTF-8"))?;
            sqlx::query("VACUUM INTO $1")
                .bind(target)
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(BackupError::from)
        }
        Db::Postgres { pool } => {
            let url = options
                .url
                .as_deref()
                .ok_or_else(|| refused("no PostgreSQL URL is configured"))?;
            let (schema,): (String,) = sqlx::query_as("SELECT current_schema()::text")
                .fetch_one(pool)
                .await?;
            let (url, password) = without_password(url)?;
            let mut dump = client_tool("pg_dump", password.as_deref());
            dump.arg("--format=custom")
                .arg("--no-owner")
                .arg(format!("--schema={schema}"))
                .arg("--file")
                .arg(&partial)
                .arg("--dbname")
                .arg(&url);
            run("pg_dump", dump).await
        }
    };
    if let Err(e) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    sync_file(&partial)?;
    std::fs::rename(&partial, file)
        .map_err(io(format!("cannot name the backup {}", file.display())))?;
    sync_parent(file);
    Ok(Done {
        engine: db.engine(),
        file: file.to_path_buf(),
        bytes: std::fs::metadata(file).map(|m| m.len()).unwrap_or(0),
    })
}

/// Replace the database that `options` name with the backup in `file`. The database must not
/// be in use (stop `bima serve` first). Nothing changes unless the restore completes.
pub async fn restore(options: &DbOptions, file: &Path) -> Result<Done, BackupError> {
    let head = read_head(file)?;
    match options.sqlite_path() {
        Some(target) => {
            if !head.starts_with(SQLITE_MAGIC) {
                return Err(refused(wrong_kind(file, &head, Engine::Sqlite)));
            }
            restore_sqlite(file, &target).await?;
            Ok(Done {
                engine: Engine::Sqlite,
                file: file.to_path_buf(),
                bytes: std::fs::metadata(&target).map(|m| m.len()).unwrap_or(0),
            })
        }
        None => {
            if !head.starts_with(PG_DUMP_MAGIC) {
                return Err(refused(wrong_kind(file, &head, Engine::Postgres)));
            }
            let url = options.url.as_deref().unwrap_or_default();
            restore_postgres(url, file).await?;
            Ok(Done {
                engine: Engine::Postgres,
                file: file.to_path_buf(),
                bytes: std::fs::metadata(file).map(|m| m.len()).unwrap_or(0),
            })
        }
    }
}

fn read_head(file: &Path) -> Result<Vec<u8>, BackupError> {
    use std::io::Read;
    let mut head = Vec::with_capacity(16);
    std::fs::File::open(file)
        .map_err(io(format!("cannot open the backup {}", file.display())))?
        .take(16)
        .read_to_end(&mut head)
        .map_err(io(format!("cannot read the backup {}", file.display())))?;
    Ok(head)
}

fn wrong_kind(file: &Path, head: &[u8], configured: Engine) -> String {
    let found = if head.starts_with(SQLITE_MAGIC) {
        "a SQLite backup"
    } else if head.starts_with(PG_DUMP_MAGIC) {
        "a PostgreSQL backup"
    } else {
        "not a Bima backup"
    };
    format!(
        "{} is {found}, and the configured database is {}: nothing was changed",
        file.display(),
        configured.name()
    )
}

async fn restore_sqlite(file: &Path, target: &Path) -> Result<(), BackupError> {
    // The live database first: leaving WAL mode needs every other connection closed, so it
    // tells whether a server still has the file open. It also folds the WAL into the file.
    if target.exists() {
        let mut live = SqliteConnectOptions::new()
            .filename(target)
            .busy_timeout(Duration::ZERO)
            .connect()
            .await?;
        let mode: Result<(String,), _> = sqlx::query_as("PRAGMA journal_mode = DELETE")
            .fetch_one(&mut live)
            .await;
        let _ = live.close().await;
        if !matches!(mode, Ok((ref m,)) if m.eq_ignore_ascii_case("delete")) {
            return Err(refused(format!(
                "{} is in use: stop `bima serve` (and any other bima command) before restoring; nothing was changed",
                target.display()
            )));
        }
    } else if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io(format!("cannot create {}", dir.display())))?;
    }
    // Then a copy next to it, checked whole and Bima's before it takes the database's name.
    let partial = partial_name(target);
    let _ = std::fs::remove_file(&partial);
    std::fs::copy(file, &partial).map_err(io(format!(
        "cannot copy {} next to the database",
        file.display()
    )))?;
    let checked = check_sqlite_copy(&partial).await;
    if let Err(e) = checked {
        let _ = std::fs::remove_file(&partial);
        return Err(match e {
            BackupError::Refused(why) => refused(format!("{} {why}", file.display())),
            other => other,
        });
    }
    sync_file(&partial)?;
    for stale in ["-wal", "-shm"] {
        let mut name = target.as_os_str().to_owned();
        name.push(stale);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
    std::fs::rename(&partial, target).map_err(io(format!(
        "cannot put the backup in place of {}",
        target.display()
    )))?;
    sync_parent(target);
    Ok(())
}

/// Is this SQLite file whole and a Bima database? Leaves it in WAL mode, as the server runs it.
async fn check_sqlite_copy(path: &Path) -> Result<(), BackupError> {
    let mut copy = SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Delete)
        .connect()
        .await?;
    let (check,): (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&mut copy)
        .await?;
    let (tables,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'audit_log'",
    )
    .fetch_one(&mut copy)
    .await?;
    if check == "ok" && tables > 0 {
        sqlx::query("PRAGMA journal_mode = WAL")
            .execute(&mut copy)
            .await?;
    }
    copy.close().await?;
    if check != "ok" {
        return Err(refused(format!(
            "is damaged ({check}): nothing was changed"
        )));
    }
    if tables == 0 {
        return Err(refused(
            "is a SQLite file but not a Bima database: nothing was changed",
        ));
    }
    Ok(())
}

async fn restore_postgres(url: &str, file: &Path) -> Result<(), BackupError> {
    let (url, password) = without_password(url)?;
    // The dump's table of contents names the one schema it holds.
    let mut list = client_tool("pg_restore", password.as_deref());
    list.arg("--list").arg(file);
    let toc = output("pg_restore", list).await?;
    let schemas: Vec<&str> = toc
        .lines()
        .filter(|l| !l.starts_with(';'))
        .filter_map(|l| {
            let mut words = l.split_whitespace().skip(3);
            (words.next() == Some("SCHEMA") && words.next() == Some("-"))
                .then(|| words.next())
                .flatten()
        })
        .collect();
    let has_audit = toc.lines().any(|l| {
        let words: Vec<&str> = l.split_whitespace().collect();
        words
            .windows(3)
            .any(|w| w[0] == "TABLE" && w[2] == "audit_log")
    });
    let [schema] = schemas.as_slice() else {
        return Err(refused(format!(
            "{} holds {} schemas; a Bima backup holds one: nothing was changed",
            file.display(),
            schemas.len()
        )));
    };
    if !has_audit {
        return Err(refused(format!(
            "{} is a PostgreSQL dump but not of a Bima database: nothing was changed",
            file.display()
        )));
    }
    let quoted = format!("\"{}\"", schema.replace('"', "\"\""));
    let mut script = client_tool("pg_restore", password.as_deref());
    script
        .arg("--no-owner")
        .arg("--no-privileges")
        .arg("--no-comments")
        .arg("--file=-")
        .arg(file)
        .stdout(Stdio::piped());
    let mut script = script.spawn().map_err(|e| missing_tool("pg_restore", e))?;
    let stdout = script
        .stdout
        .take()
        .ok_or_else(|| refused("pg_restore gave no output"))?;
    let stdin: Stdio = stdout
        .try_into()
        .map_err(io("cannot pass pg_restore's output to psql"))?;
    let mut replay = client_tool("psql", password.as_deref());
    replay
        .arg("--no-psqlrc")
        .arg("--quiet")
        .arg("--single-transaction")
        .arg("--set=ON_ERROR_STOP=1")
        .arg("--command")
        .arg(format!("DROP SCHEMA IF EXISTS {quoted} CASCADE"))
        .arg("--file=-")
        .arg("--dbname")
        .arg(&url)
        .stdin(stdin);
    let replayed = run("psql", replay).await;
    let listed = script
        .wait()
        .await
        .map_err(io("pg_restore did not finish"))?;
    replayed?;
    if !listed.success() {
        return Err(refused(format!(
            "pg_restore could not read {}: nothing was changed",
            file.display()
        )));
    }
    Ok(())
}

fn partial_name(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

fn sync_file(path: &Path) -> Result<(), BackupError> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io(format!("cannot flush {} to disk", path.display())))
}

/// Make a rename durable (best effort: not every platform can open a directory).
fn sync_parent(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
}

/// The URL without its password, and the password (percent-decoded) for `PGPASSWORD`.
pub(crate) fn without_password(url: &str) -> Result<(String, Option<String>), BackupError> {
    let mut parsed = url::Url::parse(url)
        .map_err(|e| refused(format!("the database URL cannot be read: {e}")))?;
    let password = parsed.password().map(|p| {
        percent_encoding::percent_decode_str(p)
            .decode_utf8_lossy()
            .into_owned()
    });
    if password.is_some() {
        let _ = parsed.set_password(None);
    }
    Ok((parsed.to_string(), password))
}

fn client_tool(name: &str, password: Option<&str>) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(name);
    if let Some(p) = password {
        command.env("PGPASSWORD", p);
    }
    command.stdin(Stdio::null()).kill_on_drop(true);
    command
}

fn missing_tool(name: &str, e: std::io::Error) -> BackupError {
    if e.kind() == std::io::ErrorKind::NotFound {
        refused(format!(
            "{name} was not found: install PostgreSQL's client programs (Debian: apt-get install postgresql-client) of the server's version or newer"
        ))
    } else {
        BackupError::Io {
            what: format!("cannot start {name}"),
            source: e,
        }
    }
}

async fn run(name: &str, command: tokio::process::Command) -> Result<(), BackupError> {
    output(name, command).await.map(|_| ())
}

/// Run a client program to its end: what it printed, or its failure in its own words.
async fn output(name: &str, mut command: tokio::process::Command) -> Result<String, BackupError> {
    let out = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .await
        .map_err(|e| missing_tool(name, e))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(refused(format!(
            "{name} failed ({}): {}; nothing was changed",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_leave_the_url() {
        let (url, password) =
            without_password("postgres://bima:s%40cret@db.example:5432/bima?sslmode=require")
                .unwrap();
        assert_eq!(url, "postgres://bima@db.example:5432/bima?sslmode=require");
        assert_eq!(password.as_deref(), Some("s@cret"));
        let (url, password) = without_password("postgres://postgres@127.0.0.1/test").unwrap();
        assert_eq!(url, "postgres://postgres@127.0.0.1/test");
        assert_eq!(password, None);
        assert!(without_password("not a url").is_err());
    }

    #[test]
    fn the_sqlite_file_follows_the_options() {
        let options = |url: Option<&str>| DbOptions {
            url: url.map(str::to_owned),
            data_dir: PathBuf::from("/srv/bima"),
            max_connections: 2,
        };
        assert_eq!(
            options(None).sqlite_path(),
            Some(PathBuf::from("/srv/bima/bima.db"))
        );
        assert_eq!(
            options(Some("sqlite:///tmp/x.db")).sqlite_path(),
            Some(PathBuf::from("/tmp/x.db"))
        );
        assert_eq!(options(Some("postgres://h/db")).sqlite_path(), None);
    }

    #[tokio::test]
    async fn a_sqlite_backup_is_whole_and_restores_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let options = DbOptions {
            url: None,
            data_dir: dir.path().join("data"),
            max_connections: 2,
        };
        let db = Db::open(&options).await.unwrap();
        let Db::Sqlite { pool, .. } = &db else {
            unreachable!()
        };
        sqlx::query("CREATE TABLE audit_log (seq INTEGER PRIMARY KEY, what TEXT)")
            .execute(pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO audit_log (what) VALUES ('before')")
            .execute(pool)
            .await
            .unwrap();
        let file = dir.path().join("backups/monday.db");
        let done = backup(&db, &options, &file).await.unwrap();
        assert!(done.bytes > 0);
        assert!(!partial_name(&file).exists());
        let again = backup(&db, &options, &file).await.unwrap_err();
        assert!(again.to_string().contains("already exists"), "{again}");
        sqlx::query("INSERT INTO audit_log (what) VALUES ('after')")
            .execute(pool)
            .await
            .unwrap();
        // The server still has it open: refused, nothing changed.
        let busy = restore(&options, &file).await.unwrap_err();
        assert!(busy.to_string().contains("is in use"), "{busy}");
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(n, 2);
        db.close().await;
        restore(&options, &file).await.unwrap();
        let db = Db::open(&options).await.unwrap();
        let Db::Sqlite { pool, .. } = &db else {
            unreachable!()
        };
        let rows: Vec<(String,)> = sqlx::query_as("SELECT what FROM audit_log ORDER BY seq")
            .fetch_all(pool)
            .await
            .unwrap();
        assert_eq!(rows, vec![("before".to_owned(),)]);
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        db.close().await;
    }

    #[tokio::test]
    async fn what_is_not_a_backup_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let options = DbOptions {
            url: None,
            data_dir: dir.path().to_path_buf(),
            max_connections: 2,
        };
        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, b"hello, not a database").unwrap();
        let e = restore(&options, &junk).await.unwrap_err();
        assert!(e.to_string().contains("not a Bima backup"), "{e}");
        let dump = dir.path().join("pg.dump");
        std::fs::write(&dump, b"PGDMP\x01\x0e\x00").unwrap();
        let e = restore(&options, &dump).await.unwrap_err();
        assert!(e.to_string().contains("a PostgreSQL backup"), "{e}");
        // A SQLite file without Bima's tables.
        let other = dir.path().join("other.db");
        let mut conn = SqliteConnectOptions::new()
            .filename(&other)
            .create_if_missing(true)
            .connect()
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (x)")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        let e = restore(&options, &other).await.unwrap_err();
        assert!(e.to_string().contains("not a Bima database"), "{e}");
        assert!(!dir.path().join("bima.db").exists());
    }
}
