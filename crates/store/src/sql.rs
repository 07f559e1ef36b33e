//! Dynamic SQL (list filters) built once and bound on either engine.

use uuid::Uuid;

/// A value to bind to a numbered placeholder.
#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Uuid(Uuid),
    Int(i64),
    Bool(bool),
    /// A day, bound as each engine's date (text on SQLite, DATE on PostgreSQL).
    Date(time::Date),
    /// An instant, bound as each engine's timestamp.
    Timestamp(time::OffsetDateTime),
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_string())
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}
impl From<Uuid> for Arg {
    fn from(v: Uuid) -> Self {
        Arg::Uuid(v)
    }
}
impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<time::Date> for Arg {
    fn from(v: time::Date) -> Self {
        Arg::Date(v)
    }
}
impl From<time::OffsetDateTime> for Arg {
    fn from(v: time::OffsetDateTime) -> Self {
        Arg::Timestamp(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}

/// SQL text with `$n` placeholders and the values that fill them.
#[derive(Debug, Clone, Default)]
pub struct Sql {
    pub text: String,
    pub args: Vec<Arg>,
}

impl Sql {
    pub fn new(text: &str) -> Self {
        Sql {
            text: text.to_string(),
            args: Vec::new(),
        }
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Append a placeholder bound to `arg`.
    pub fn arg(&mut self, arg: impl Into<Arg>) -> &mut Self {
        self.args.push(arg.into());
        self.text.push_str(&format!("${}", self.args.len()));
        self
    }

    /// Append `(…)` for an `IN` list; an empty list matches nothing.
    pub fn list(&mut self, values: impl IntoIterator<Item = impl Into<Arg>>) -> &mut Self {
        self.text.push('(');
        let mut any = false;
        for value in values {
            if any {
                self.text.push_str(", ");
            }
            self.arg(value);
            any = true;
        }
        if !any {
            self.text.push_str("NULL");
        }
        self.text.push(')');
        self
    }
}

/// The district of a deleted row of `table` (`Some(None)` for a row without one; `None` when no
/// deleted row has that id).
pub async fn deleted_district(
    tx: &mut crate::Tx,
    table: &'static str,
    id: Uuid,
) -> Result<Option<Option<Uuid>>, sqlx::Error> {
    let sql = format!("SELECT district_id FROM {table} WHERE id = $1 AND deleted_at IS NOT NULL");
    let row: Option<(Option<Uuid>,)> = crate::on_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut **conn)
            .await?
    });
    Ok(row.map(|(d,)| d))
}

/// A range of instants a search asks for (FHIR's `_lastUpdated`): from (inclusive), to
/// (exclusive), or everything outside them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InstantRange {
    pub from: Option<time::OffsetDateTime>,
    pub to: Option<time::OffsetDateTime>,
    pub outside: bool,
}

impl InstantRange {
    pub fn contains(&self, at: time::OffsetDateTime) -> bool {
        let inside = self.from.is_none_or(|f| at >= f) && self.to.is_none_or(|t| at < t);
        inside != self.outside
    }

    /// ` AND <column> …` for this range (nothing for an open one). Timestamps are stored in UTC
    /// on both engines, so SQLite's text compares in time order too.
    pub fn push_to(&self, sql: &mut Sql, column: &str) {
        let utc = |at: time::OffsetDateTime| at.to_offset(time::UtcOffset::UTC);
        let mut parts = Vec::new();
        if let Some(from) = self.from {
            parts.push((" >= ", utc(from)));
        }
        if let Some(to) = self.to {
            parts.push((" < ", utc(to)));
        }
        if parts.is_empty() {
            return;
        }
        sql.push(if self.outside { " AND NOT (" } else { " AND (" });
        for (i, (op, at)) in parts.into_iter().enumerate() {
            if i > 0 {
                sql.push(" AND ");
            }
            sql.push(column).push(op).arg(at);
        }
        sql.push(")");
    }
}

/// Bind every [`Arg`] of a [`Sql`] to a query (inside [`on_db!`](crate::on_db) or
/// [`on_tx!`](crate::on_tx), where the engine is concrete).
#[macro_export]
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args.iter() {
            query = match arg {
                $crate::Arg::Text(v) => query.bind(v.clone()),
                $crate::Arg::Uuid(v) => query.bind(*v),
                $crate::Arg::Int(v) => query.bind(*v),
                $crate::Arg::Bool(v) => query.bind(*v),
                $crate::Arg::Date(v) => query.bind(*v),
                $crate::Arg::Timestamp(v) => query.bind(*v),
            };
        }
        query
    }};
}

/// One page of rows and the count of all matching rows. `select` is `SELECT <columns>`,
/// `from_where` holds ` FROM … WHERE …` and its arguments.
pub async fn fetch_page<T>(
    tx: &mut crate::Tx,
    select: &str,
    from_where: &Sql,
    order_by: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<T>, i64), sqlx::Error>
where
    T: Send
        + Unpin
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    fetch_page_counting(tx, select, from_where, from_where, order_by, limit, offset).await
}

/// [`fetch_page`] whose total counts the rows of `count_where`: the same rows without the joins
/// that only add columns (SQLite does not drop an unused LEFT JOIN from a COUNT: a lookup per
/// row).
pub async fn fetch_page_counting<T>(
    tx: &mut crate::Tx,
    select: &str,
    from_where: &Sql,
    count_where: &Sql,
    order_by: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<T>, i64), sqlx::Error>
where
    T: Send
        + Unpin
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    fetch_page_capped(
        tx,
        select,
        from_where,
        count_where,
        order_by,
        limit,
        offset,
        None,
    )
    .await
}

/// [`fetch_page_counting`] that counts at most `cap + 1` rows: a total above `cap` means "more
/// than `cap`" (a screen's list of a national register need not count all of it).
#[allow(clippy::too_many_arguments)]
pub async fn fetch_page_capped<T>(
    tx: &mut crate::Tx,
    select: &str,
    from_where: &Sql,
    count_where: &Sql,
    order_by: &str,
    limit: i64,
    offset: i64,
    cap: Option<i64>,
) -> Result<(Vec<T>, i64), sqlx::Error>
where
    T: Send
        + Unpin
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    let mut page = Sql::new(select);
    page.text.push_str(&from_where.text);
    page.args = from_where.args.clone();
    page.push(" ORDER BY ")
        .push(order_by)
        .push(" LIMIT ")
        .arg(limit)
        .push(" OFFSET ")
        .arg(offset);
    let count = match cap {
        None => format!("SELECT COUNT(*){}", count_where.text),
        Some(cap) => format!(
            "SELECT COUNT(*) FROM (SELECT 1{} LIMIT {}) capped",
            count_where.text,
            cap.max(0).saturating_add(1)
        ),
    };
    let (rows, total): (Vec<T>, (i64,)) = crate::on_tx!(tx, conn => {
        let rows = bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(page.text.clone())), page.args)
            .fetch_all(&mut **conn)
            .await?;
        let total = bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(count)), count_where.args)
            .fetch_one(&mut **conn)
            .await?;
        (rows, total)
    });
    Ok((rows, total.0))
}

/// How many keys one lookup of many sends (within SQLite's limit on placeholders).
pub fn keys_per_lookup(engine: crate::Engine) -> usize {
    match engine {
        crate::Engine::Postgres => 50_000,
        crate::Engine::Sqlite => 10_000,
    }
}

/// `?, ?, …`: `n` anonymous placeholders for a long `IN` list on SQLite (numbered ones make
/// binding quadratic there).
pub fn anonymous(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// Which of `ids` are rows of `table`, current or deleted, asked in a few large statements
/// (an import asks once per table what an earlier run already wrote).
pub async fn existing_ids(
    tx: &mut crate::Tx,
    table: &'static str,
    ids: &[Uuid],
) -> Result<std::collections::HashSet<Uuid>, sqlx::Error> {
    let mut present = std::collections::HashSet::new();
    for ids in ids.chunks(keys_per_lookup(tx.engine())) {
        let found: Vec<(Uuid,)> = match tx.postgres() {
            Some(conn) => {
                // Planned for each call: a plan cached while the table was empty would scan it.
                let sql = format!("SELECT id FROM {table} WHERE id = ANY($1)");
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .persistent(false)
                    .bind(ids)
                    .fetch_all(conn)
                    .await?
            }
            None => {
                // Anonymous placeholders: SQLite finds a numbered one by walking the list of
                // names, which makes binding thousands of them quadratic.
                let sql = format!(
                    "SELECT id FROM {table} WHERE id IN ({})",
                    anonymous(ids.len())
                );
                let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).persistent(false);
                for id in ids {
                    query = query.bind(*id);
                }
                query.fetch_all(tx.sqlite().expect("SQLite")).await?
            }
        };
        present.extend(found.into_iter().map(|(id,)| id));
    }
    Ok(present)
}

/// Soft-delete the current row `id` of `table` if it is still at `version`; false otherwise.
/// Every entity table has `deleted_at`, `version` and `updated_at`.
pub async fn soft_delete(
    tx: &mut crate::Tx,
    table: &'static str,
    id: Uuid,
    version: i64,
    at: time::OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "UPDATE {table} SET deleted_at = $1, version = version + 1, updated_at = $1 \
         WHERE id = $2 AND version = $3 AND deleted_at IS NULL"
    );
    let done = crate::on_tx!(tx, conn => {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(at)
            .bind(id)
            .bind(version)
            .execute(&mut **conn)
            .await?
            .rows_affected()
    });
    Ok(done == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered() {
        let mut sql = Sql::new("SELECT * FROM t WHERE a = ");
        sql.arg("x")
            .push(" AND b IN ")
            .list([1i64, 2])
            .push(" AND c IN ")
            .list(Vec::<i64>::new());
        assert_eq!(
            sql.text,
            "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3) AND c IN (NULL)"
        );
        assert_eq!(sql.args.len(), 3);
    }
}
