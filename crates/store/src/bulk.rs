//! Bulk loads into empty tables: secondary indexes (and, on PostgreSQL, foreign keys) set aside
//! for the load and rebuilt after it, inside the load's own transaction.
//!
//! Inserting a million rows into a table whose indexes are keyed on random values (names,
//! dates) costs a random B-tree descent per row and index, and PostgreSQL checks each foreign
//! key of each row with a query of its own; building each index once, sorted, and validating
//! each foreign key with one join after the rows are in costs a few seconds. Both engines have
//! transactional DDL, so the drop, the load and the rebuild commit together or not at all: an
//! interrupted load never leaves a table without its indexes or its keys. The definitions are
//! read back from the database's own catalogue, so the migrations stay the only place they are
//! written down.

use crate::{Db, Engine, Tx, on_tx};
use sqlx::AssertSqlSafe;

/// The secondary indexes (and PostgreSQL foreign keys) of one table, dropped for a bulk load;
/// [`DeferredIndexes::rebuild`] creates them again, in the same transaction.
#[derive(Debug)]
#[must_use = "the indexes are gone until rebuild() runs"]
pub struct DeferredIndexes {
    table: String,
    /// `(name, CREATE INDEX statement)`, as the catalogue holds them.
    indexes: Vec<(String, String)>,
    /// `(name, constraint definition)` of the foreign keys (PostgreSQL only).
    foreign_keys: Vec<(String, String)>,
}

impl DeferredIndexes {
    /// Drop the secondary indexes of `table` (those created by `CREATE INDEX`, not the ones
    /// behind a primary key or a constraint) for the rest of the transaction `tx`.
    /// Meant for a table that is empty when the load starts: on PostgreSQL the drop locks the
    /// table against every other session until the transaction ends.
    pub async fn drop_for_load(tx: &mut Tx, table: &str) -> Result<Self, sqlx::Error> {
        let indexes = secondary_indexes(tx, table).await?;
        let foreign_keys: Vec<(String, String)> = match tx.engine() {
            // SQLite cannot drop a constraint; its key checks are index lookups in-process.
            Engine::Sqlite => Vec::new(),
            Engine::Postgres => on_tx!(tx, conn => {
                sqlx::query_as(
                    "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
                     WHERE conrelid = to_regclass($1) AND contype = 'f' ORDER BY conname",
                )
                .bind(table)
                .fetch_all(&mut **conn)
                .await?
            }),
        };
        let mut drops: Vec<String> = foreign_keys
            .iter()
            .map(|(name, _)| {
                format!(
                    "ALTER TABLE {} DROP CONSTRAINT {}",
                    quote(table),
                    quote(name)
                )
            })
            .collect();
        drops.extend(
            indexes
                .iter()
                .map(|(name, _)| format!("DROP INDEX {}", quote(name))),
        );
        for drop in drops {
            on_tx!(tx, conn => {
                sqlx::query(AssertSqlSafe(drop)).execute(&mut **conn).await?;
            });
        }
        Ok(DeferredIndexes {
            table: table.to_string(),
            indexes,
            foreign_keys,
        })
    }

    /// The names of the indexes set aside.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.indexes.iter().map(|(name, _)| name.as_str())
    }

    /// Create the indexes and keys again, exactly as they were. A unique index over rows the
    /// load made duplicate, or a key a loaded row breaks, fails here, and with it the
    /// transaction.
    pub async fn rebuild(self, tx: &mut Tx) -> Result<(), sqlx::Error> {
        let mut creates: Vec<String> = self.indexes.into_iter().map(|(_, create)| create).collect();
        creates.extend(self.foreign_keys.iter().map(|(name, definition)| {
            format!(
                "ALTER TABLE {} ADD CONSTRAINT {} {definition}",
                quote(&self.table),
                quote(name)
            )
        }));
        for create in creates {
            on_tx!(tx, conn => {
                sqlx::query(AssertSqlSafe(create)).execute(&mut **conn).await?;
            });
        }
        tracing::debug!(table = %self.table, "indexes rebuilt after a bulk load");
        Ok(())
    }
}

/// The secondary indexes of `table` (made by `CREATE INDEX`, not those behind a primary key or
/// a constraint): `(name, CREATE INDEX statement)` as the catalogue holds them.
async fn secondary_indexes(tx: &mut Tx, table: &str) -> Result<Vec<(String, String)>, sqlx::Error> {
    Ok(match tx.engine() {
        Engine::Sqlite => on_tx!(tx, conn => {
            sqlx::query_as(
                "SELECT name, sql FROM sqlite_master \
                 WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL ORDER BY name",
            )
            .bind(table)
            .fetch_all(&mut **conn)
            .await?
        }),
        Engine::Postgres => on_tx!(tx, conn => {
            sqlx::query_as(
                "SELECT c.relname::text, pg_get_indexdef(i.indexrelid) \
                 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
                 WHERE i.indrelid = to_regclass($1) AND NOT i.indisprimary \
                   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) \
                 ORDER BY c.relname",
            )
            .bind(table)
            .fetch_all(&mut **conn)
            .await?
        }),
    })
}

// ---------------------------------------------------------------- parked indexes

/// Where parked indexes wait: written in the transaction that drops them, removed in the one
/// that builds them again.
const CREATE_PARKED: &str = "CREATE TABLE IF NOT EXISTS bima_parked_indexes (
    name TEXT PRIMARY KEY,
    table_name TEXT NOT NULL,
    create_sql TEXT NOT NULL
)";

/// Set aside the secondary indexes of `table` for a load made of many transactions (a resumable
/// import commits chunk by chunk, so [`DeferredIndexes`] cannot serve it). Their definitions are
/// written to `bima_parked_indexes` in the transaction that drops them, so that they are never
/// lost: [`restore_parked`] builds them again when the load ends, and [`Db::migrate`] does at
/// the next start if the process died first. A unique index is not checked while parked: the
/// loader must keep its rows unique, and building it again fails if it did not.
pub async fn park_indexes(db: &Db, table: &str) -> Result<Vec<String>, sqlx::Error> {
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => {
        sqlx::query(CREATE_PARKED).execute(&mut **conn).await?;
    });
    let indexes = secondary_indexes(&mut tx, table).await?;
    for (name, create) in &indexes {
        let drop = format!("DROP INDEX {}", quote(name));
        on_tx!(&mut tx, conn => {
            sqlx::query("INSERT INTO bima_parked_indexes (name, table_name, create_sql) VALUES ($1, $2, $3)")
                .bind(name)
                .bind(table)
                .bind(create)
                .execute(&mut **conn)
                .await?;
            sqlx::query(AssertSqlSafe(drop)).execute(&mut **conn).await?;
        });
    }
    tx.commit().await?;
    Ok(indexes.into_iter().map(|(name, _)| name).collect())
}

/// Build again the indexes parked for `table` (every table's when `None`), each in the
/// transaction that takes it off the list. Answers how many were built.
pub async fn restore_parked(db: &Db, table: Option<&str>) -> Result<usize, sqlx::Error> {
    let mut tx = db.begin().await?;
    let parked: Vec<(String, String, String)> = on_tx!(&mut tx, conn => {
        sqlx::query(CREATE_PARKED).execute(&mut **conn).await?;
        sqlx::query_as(
            "SELECT name, table_name, create_sql FROM bima_parked_indexes \
             WHERE $1 IS NULL OR table_name = $1 ORDER BY table_name, name",
        )
        .bind(table)
        .fetch_all(&mut **conn)
        .await?
    });
    for (name, table, create) in &parked {
        on_tx!(&mut tx, conn => {
            sqlx::query(AssertSqlSafe(create.clone())).execute(&mut **conn).await?;
            sqlx::query("DELETE FROM bima_parked_indexes WHERE name = $1")
                .bind(name)
                .execute(&mut **conn)
                .await?;
        });
        tracing::info!(%table, index = %name, "parked index built again");
    }
    tx.commit().await?;
    Ok(parked.len())
}

/// PostgreSQL's `COPY … FROM STDIN`: rows in COPY's text format, built through the same
/// `.bind(…)` chain a module writes for its INSERT (so the column order is written down once),
/// then sent in one stream. A bulk insert this way skips the planning of a statement with
/// thousands of value expressions, most of PostgreSQL's work in a multi-row INSERT.
#[derive(Debug, Default)]
pub struct CopyRows {
    buf: Vec<u8>,
    rows: u64,
}

impl CopyRows {
    pub fn new() -> Self {
        Self::default()
    }

    /// Start a row: its columns follow as `.bind(value)` calls, in the order of the COPY's
    /// column list.
    pub fn row(&mut self) -> CopyRow<'_> {
        if self.rows > 0 {
            self.buf.push(b'\n');
        }
        self.rows += 1;
        CopyRow {
            buf: &mut self.buf,
            first: true,
        }
    }

    pub fn len(&self) -> u64 {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// `COPY table (columns) FROM STDIN` with these rows, on the transaction's connection.
    /// Answers the number of rows written. PostgreSQL only.
    pub async fn copy_into(
        mut self,
        tx: &mut Tx,
        table: &str,
        columns: &str,
    ) -> Result<u64, sqlx::Error> {
        let Tx::Postgres(conn) = tx else {
            return Err(sqlx::Error::Protocol(
                "COPY runs on a PostgreSQL write transaction".into(),
            ));
        };
        if self.rows == 0 {
            return Ok(0);
        }
        self.buf.push(b'\n');
        let statement = format!("COPY {table} ({columns}) FROM STDIN");
        let mut copy = conn.copy_in_raw(&statement).await?;
        copy.send(self.buf).await?;
        copy.finish().await
    }
}

/// One row being written into [`CopyRows`].
pub struct CopyRow<'a> {
    buf: &'a mut Vec<u8>,
    first: bool,
}

impl CopyRow<'_> {
    /// The next column's value.
    pub fn bind<V: CopyValue>(mut self, value: V) -> Self {
        if !self.first {
            self.buf.push(b'\t');
        }
        self.first = false;
        value.write_copy(self.buf);
        self
    }
}

/// A value in COPY's text format: `\N` for NULL, backslash escapes in text.
pub trait CopyValue {
    fn write_copy(&self, out: &mut Vec<u8>);
}

impl<T: CopyValue + ?Sized> CopyValue for &T {
    fn write_copy(&self, out: &mut Vec<u8>) {
        (**self).write_copy(out)
    }
}

impl<T: CopyValue> CopyValue for Option<T> {
    fn write_copy(&self, out: &mut Vec<u8>) {
        match self {
            Some(v) => v.write_copy(out),
            None => out.extend_from_slice(b"\\N"),
        }
    }
}

impl CopyValue for str {
    fn write_copy(&self, out: &mut Vec<u8>) {
        for b in self.bytes() {
            match b {
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\t' => out.extend_from_slice(b"\\t"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                _ => out.push(b),
            }
        }
    }
}

impl CopyValue for String {
    fn write_copy(&self, out: &mut Vec<u8>) {
        self.as_str().write_copy(out)
    }
}

impl CopyValue for bool {
    fn write_copy(&self, out: &mut Vec<u8>) {
        out.push(if *self { b't' } else { b'f' });
    }
}

macro_rules! copy_as_display {
    ($($t:ty),*) => {$(
        impl CopyValue for $t {
            fn write_copy(&self, out: &mut Vec<u8>) {
                use std::io::Write;
                let _ = write!(out, "{self}");
            }
        }
    )*};
}

// Their Display forms carry no tab, newline or backslash, and PostgreSQL reads them as written.
copy_as_display!(i16, i32, i64, uuid::Uuid, time::Date);

impl CopyValue for time::OffsetDateTime {
    fn write_copy(&self, out: &mut Vec<u8>) {
        // ISO 8601 with offset, e.g. 2026-11-25T15:47:03.791637Z.
        if let Ok(text) = self.format(&time::format_description::well_known::Rfc3339) {
            out.extend_from_slice(text.as_bytes());
        }
    }
}

/// From this many rows a PostgreSQL bulk insert goes through COPY; fewer go in one multi-row
/// INSERT, a prepared statement: COPY costs a round trip more (the server answers the COPY
/// before the rows are sent) and is planned afresh every time, which for the few lines of one
/// claim cost more than the rows themselves.
pub const COPY_FROM_ROWS: usize = 64;

/// Insert many new rows of one table: one COPY on PostgreSQL (a few rows: one INSERT),
/// multi-row INSERTs under SQLite's parameter budget. `$bind` is the module's `bind_*!` macro, `$columns` its column list in
/// the macro's order. Answers `Result<(), sqlx::Error>`.
#[macro_export]
macro_rules! bulk_insert {
    ($tx:expr, $table:expr, $columns:expr, $rows:expr, $bind:ident) => {{
        async {
            let (tx, rows): (&mut $crate::Tx, _) = ($tx, $rows);
            if tx.engine() == $crate::Engine::Postgres && rows.len() >= $crate::bulk::COPY_FROM_ROWS {
                let mut copy = $crate::bulk::CopyRows::new();
                for r in rows.iter() {
                    $bind!(copy.row(), r);
                }
                copy.copy_into(tx, $table, $columns).await?;
            } else {
                let width = $columns.split(',').count();
                for chunk in rows.chunks($crate::bulk::rows_per_statement(tx.engine(), width)) {
                    let sql = $crate::bulk::multi_row_insert(
                        tx.engine(),
                        $table,
                        $columns,
                        width,
                        chunk.len(),
                    );
                    $crate::on_tx!(tx, conn => {
                        let mut query = $crate::sqlx::query($crate::sqlx::AssertSqlSafe(sql));
                        for r in chunk {
                            query = $bind!(query, r);
                        }
                        query.execute(&mut **conn).await?;
                    });
                }
            }
            Ok::<(), $crate::sqlx::Error>(())
        }
        .await
    }};
}

/// Rows per multi-row INSERT of `width` columns: up to ~4,000 values a statement on SQLite
/// (its placeholders are anonymous, see [`multi_row_insert`]), 30,000 on PostgreSQL (its limit
/// is 65,535).
pub fn rows_per_statement(engine: Engine, width: usize) -> usize {
    let values = match engine {
        Engine::Sqlite => 4_000,
        Engine::Postgres => 30_000,
    };
    (values / width.max(1)).max(1)
}

/// `INSERT INTO table (columns) VALUES (…), (…)` for `rows` rows of `width` placeholders:
/// numbered `$n` on PostgreSQL, anonymous `?` on SQLite. sqlx asks SQLite for each
/// placeholder's name, which SQLite finds by walking the statement's list of names: numbered
/// placeholders make binding quadratic in their number, anonymous ones have no names.
pub fn multi_row_insert(
    engine: Engine,
    table: &str,
    columns: &str,
    width: usize,
    rows: usize,
) -> String {
    use std::fmt::Write;
    let mut sql = format!("INSERT INTO {table} ({columns}) VALUES ");
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..width {
            if c > 0 {
                sql.push_str(", ");
            }
            match engine {
                Engine::Sqlite => sql.push('?'),
                Engine::Postgres => {
                    let _ = write!(sql, "${}", r * width + c + 1);
                }
            }
        }
        sql.push(')');
    }
    sql
}

/// An identifier quoted for SQL (both engines use double quotes).
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::{CopyRows, multi_row_insert, quote};
    use crate::Engine;

    #[test]
    fn a_multi_row_insert_numbers_every_placeholder() {
        assert_eq!(
            multi_row_insert(Engine::Postgres, "t", "a, b", 2, 2),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
        assert_eq!(
            multi_row_insert(Engine::Sqlite, "t", "a, b", 2, 2),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"
        );
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote("insurees_dob"), "\"insurees_dob\"");
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn copy_text_escapes_what_would_split_a_row() {
        let mut rows = CopyRows::new();
        rows.row()
            .bind("tab\there")
            .bind(None::<&str>)
            .bind(Some(7i64))
            .bind(true)
            .bind(String::from("back\\slash\nline"));
        rows.row()
            .bind(time::macros::date!(2026 - 11 - 25))
            .bind(time::macros::datetime!(2026-11-25 15:47:03.5 UTC));
        assert_eq!(rows.len(), 2);
        assert_eq!(
            String::from_utf8(rows.buf).unwrap(),
            "tab\\there\t\\N\t7\tt\tback\\\\slash\\nline\n2026-11-25\t2026-11-25T15:47:03.5Z"
        );
    }
}
