//! `bima import openimis DIR`: load an openIMIS CSV export (one file per legacy table).
//!
//! Here: locations, health facilities with catchments, roles (system roles map onto Bima's
//! built-in ones by their bitmask, custom roles come with their rights), enrolment officers and
//! claim administrators (as users without passwords). Each module's tables have their own file,
//! in the order they are loaded: `medical.rs` (diagnoses, items, services, price lists),
//! `product.rs`, `registry.rs` (families, insurees), `policy.rs` (payers, policies, insuree
//! policies, contributions) and `claim.rs` (batch runs, claims with their items and services,
//! the deductible and remuneration ledger). openIMIS UUIDs are kept, so a second run finds every
//! row already there and changes nothing. A row that cannot be imported is reported with its
//! file, line and reason, and the rest goes on.
//!
//! Current rows (ValidityTo empty) become current records; closed rows are history, except that
//! families, insurees, policies and insuree policies deleted in openIMIS (a closed row without
//! LegacyID) are kept as deleted records (`deleted_at` = ValidityTo): no list or lookup by code
//! finds them, and the current rows that name them (a claim of a deleted insuree, its lines and
//! ledger rows under a deleted policy) import normally.

mod claim;
mod csvfile;
pub mod fuzz;
mod medical;
mod policy;
mod product;
mod registry;

use csvfile::Row;
use identity::model::{Role, User, UserKind, UserOrigin};
use kernel::rights::system_role;
use kernel::{Actor, Right, audit};
use location::model::*;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use store::{Db, Tx};
use time::OffsetDateTime;
use uuid::Uuid;

/// Rows per transaction: the tables read row by row commit every `CHUNK` rows, the large ones
/// (families, insurees, policies, their members and contributions) write a chunk of `CHUNK`
/// rows in a few statements.
pub(crate) const CHUNK: usize = 2_000;

/// How to show progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Bar,
    Hidden,
}

/// Counts for one table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableCount {
    pub table: &'static str,
    pub read: u64,
    pub imported: u64,
    /// Already present from an earlier run.
    pub unchanged: u64,
    /// Closed rows (ValidityTo set): older versions of a record, and records deleted in
    /// openIMIS. Deleted families, insurees, policies, insuree policies, contributions and
    /// claims are kept as deleted records (not listed, still there for the rows that name them).
    pub history: u64,
    /// Of the history rows: records deleted in openIMIS, kept as deleted records (written now or
    /// found from an earlier run).
    pub deleted: u64,
    pub skipped: u64,
}

/// A row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub file: String,
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub tables: Vec<TableCount>,
    /// How long each table took, in the order of `tables`.
    pub took: Vec<std::time::Duration>,
    pub problems: Vec<Skipped>,
}

impl Report {
    pub fn skipped(&self) -> u64 {
        self.tables.iter().map(|t| t.skipped).sum()
    }

    pub fn count(&self, table: &str) -> Option<&TableCount> {
        self.tables.iter().find(|t| t.table == table)
    }

    /// The end-of-run table, then every skipped row.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<22} {:>8} {:>9} {:>10} {:>8} {:>8} {:>8}",
            "table", "read", "imported", "unchanged", "history", "skipped", "seconds"
        );
        for (i, t) in self.tables.iter().enumerate() {
            let took = self.took.get(i).map_or(0.0, |d| d.as_secs_f64());
            let _ = writeln!(
                out,
                "{:<22} {:>8} {:>9} {:>10} {:>8} {:>8} {:>8.1}",
                t.table, t.read, t.imported, t.unchanged, t.history, t.skipped, took
            );
        }
        let deleted: Vec<String> = self
            .tables
            .iter()
            .filter(|t| t.deleted > 0)
            .map(|t| format!("{} {}", t.table, t.deleted))
            .collect();
        if !deleted.is_empty() {
            let _ = writeln!(
                out,
                "history includes the records deleted in openIMIS, kept as deleted: {}",
                deleted.join(", ")
            );
        }
        for p in &self.problems {
            let _ = writeln!(out, "skipped {} line {}: {}", p.file, p.line, p.reason);
        }
        out
    }
}

/// One table's run: counting, progress, and chunked transactions.
pub(crate) struct TableRun<'a> {
    db: &'a Db,
    pub(crate) count: TableCount,
    problems: Vec<Skipped>,
    pub(crate) bar: indicatif::ProgressBar,
    tx: Option<Tx>,
    in_chunk: usize,
    /// Rows of the chunks written in bulk so far.
    processed: u64,
    started: std::time::Instant,
}

impl<'a> TableRun<'a> {
    pub(crate) fn new(db: &'a Db, table: &'static str, rows: usize, progress: Progress) -> Self {
        let bar = match progress {
            Progress::Bar => indicatif::ProgressBar::new(rows as u64),
            Progress::Hidden => indicatif::ProgressBar::hidden(),
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg:<22} [{bar:30}] {pos}/{len}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(table);
        TableRun {
            db,
            count: TableCount {
                table,
                read: rows as u64,
                ..TableCount::default()
            },
            problems: Vec::new(),
            bar,
            tx: None,
            in_chunk: 0,
            processed: 0,
            started: std::time::Instant::now(),
        }
    }

    pub(crate) async fn tx(&mut self) -> anyhow::Result<&mut Tx> {
        if self.tx.is_none() {
            self.tx = Some(self.db.begin().await?);
        }
        Ok(self.tx.as_mut().expect("transaction just opened"))
    }

    /// Count one row done; commit every `CHUNK` rows.
    pub(crate) async fn done(&mut self) -> anyhow::Result<()> {
        self.bar.inc(1);
        self.in_chunk += 1;
        if self.in_chunk >= CHUNK {
            self.commit().await?;
        }
        Ok(())
    }

    /// A chunk of `rows` rows written in bulk (in a transaction of its own): count them on
    /// the bar.
    pub(crate) fn chunk_done(&mut self, rows: usize) {
        self.processed += rows as u64;
        self.bar.set_position(self.processed);
    }

    pub(crate) async fn commit(&mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.tx.take() {
            tx.commit().await?;
        }
        self.in_chunk = 0;
        Ok(())
    }

    /// Count one record written row by row: a record deleted in openIMIS, one already present,
    /// or one imported now.
    pub(crate) fn counted(&mut self, present: bool, deleted: bool) {
        if deleted {
            self.count.history += 1;
            self.count.deleted += 1;
        } else if present {
            self.count.unchanged += 1;
        } else {
            self.count.imported += 1;
        }
    }

    pub(crate) fn skip(&mut self, row: &Row, reason: String) {
        self.count.skipped += 1;
        let reason = if row.is_deleted() {
            format!("{reason} (a record deleted in openIMIS, to be kept as deleted)")
        } else {
            reason
        };
        self.problems.push(Skipped {
            file: format!("{}.csv", self.count.table),
            line: row.line,
            reason,
        });
        self.bar.inc(1);
    }

    pub(crate) async fn finish(mut self, report: &mut Report) -> anyhow::Result<()> {
        self.commit().await?;
        self.bar.finish();
        self.problems.sort_by_key(|p| p.line);
        report.tables.push(self.count);
        report.took.push(self.started.elapsed());
        report.problems.extend(self.problems);
        Ok(())
    }
}

/// A row of a chunk written in bulk: where it is in its file, whether it is a record deleted in
/// openIMIS, and what it became.
pub(crate) struct Parsed<T> {
    pub(crate) line: u64,
    pub(crate) deleted_at: Option<OffsetDateTime>,
    pub(crate) record: T,
}

/// What writing one chunk gave: its rows counted, the rows it could not write, and the records
/// present after it (written now or found from an earlier run).
#[derive(Default)]
pub(crate) struct ChunkOutcome {
    pub(crate) rows: usize,
    pub(crate) imported: u64,
    pub(crate) unchanged: u64,
    pub(crate) deleted: u64,
    /// (line, deleted in openIMIS, reason)
    pub(crate) skipped: Vec<(u64, bool, String)>,
    pub(crate) present: Vec<Uuid>,
}

impl ChunkOutcome {
    pub(crate) fn counted(&mut self, present: bool, deleted: bool) {
        if deleted {
            self.deleted += 1;
        } else if present {
            self.unchanged += 1;
        } else {
            self.imported += 1;
        }
    }
}

impl TableRun<'_> {
    fn absorb(&mut self, outcome: ChunkOutcome) -> Vec<Uuid> {
        self.count.imported += outcome.imported;
        self.count.unchanged += outcome.unchanged;
        self.count.history += outcome.deleted;
        self.count.deleted += outcome.deleted;
        self.count.skipped += outcome.skipped.len() as u64;
        for (line, deleted, reason) in outcome.skipped {
            let reason = if deleted {
                format!("{reason} (a record deleted in openIMIS, to be kept as deleted)")
            } else {
                reason
            };
            let file = format!("{}.csv", self.count.table);
            self.problems.push(Skipped { file, line, reason });
        }
        self.chunk_done(outcome.rows);
        outcome.present
    }
}

/// A chunk's transaction. On SQLite its connection first gets a page cache of 512 MiB
/// (allocated as used): a national import inserts a million insurees in random key order into
/// tables of several indexes, which the default cache turns into a read and a write system call
/// per page touched.
pub(crate) async fn begin_chunk(db: &Db) -> anyhow::Result<Tx> {
    let mut tx = db.begin().await?;
    if let Tx::Sqlite(conn, _) = &mut tx {
        sqlx::query("PRAGMA cache_size = -524288")
            .execute(&mut **conn)
            .await?;
    }
    Ok(tx)
}

/// Write `chunks` into `table`, each in a transaction of its own (`write` opens and commits
/// it): two at a time on PostgreSQL, whose server works on both while the import prepares the
/// next, one at a time on SQLite, which has one writer. Chunks never collide on a unique key:
/// what the database already held is looked up for the whole file before, and repeats within
/// the file are caught while it is parsed. Answers the records present after the chunks.
///
/// Into an empty table (a first import), the table's secondary indexes are parked for the load
/// and built once, sorted, at its end (`store::bulk::park_indexes`): a million rows inserted in
/// random key order into seven indexes cost a random descent per row and index. A run killed
/// meanwhile leaves them listed, and the next start (or run) builds them before anything reads
/// the table; the run after that finds the table not empty and writes with its indexes.
pub(crate) async fn write_chunks<'c, C, F, Fut>(
    run: &mut TableRun<'_>,
    table: &'static str,
    chunks: &'c [C],
    write: F,
) -> anyhow::Result<Vec<Uuid>>
where
    F: Fn(&'c C) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<ChunkOutcome>>,
{
    let parked = !chunks.is_empty() && is_empty(run.db, table).await?;
    if parked {
        store::bulk::park_indexes(run.db, table).await?;
    }
    let present = write_all_chunks(run, chunks, write).await?;
    if parked {
        store::bulk::restore_parked(run.db, Some(table)).await?;
    }
    Ok(present)
}

async fn is_empty(db: &Db, table: &'static str) -> anyhow::Result<bool> {
    let sql = format!("SELECT COUNT(*) FROM (SELECT 1 FROM {table} LIMIT 1) t");
    let (n,): (i64,) = store::on_tx!(&mut db.read().await?, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_one(&mut **conn).await?
    });
    Ok(n == 0)
}

async fn write_all_chunks<'c, C, F, Fut>(
    run: &mut TableRun<'_>,
    chunks: &'c [C],
    write: F,
) -> anyhow::Result<Vec<Uuid>>
where
    F: Fn(&'c C) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<ChunkOutcome>>,
{
    use futures::StreamExt;
    let parallel = match run.db.engine() {
        store::Engine::Postgres => 2,
        store::Engine::Sqlite => 1,
    };
    let mut present = Vec::new();
    let mut written = futures::stream::iter(chunks)
        .map(write)
        .buffer_unordered(parallel);
    while let Some(outcome) = written.next().await {
        present.extend(run.absorb(outcome?));
    }
    Ok(present)
}

/// Import everything this version knows from `dir`.
pub async fn run(db: &Db, dir: &Path, progress: Progress) -> anyhow::Result<Report> {
    if !dir.is_dir() {
        anyhow::bail!("{} is not a folder", dir.display());
    }
    let actor = Actor::system("openimis-import");
    let mut report = Report::default();
    let mut ids = LegacyIds::default();
    import_locations(db, dir, &actor, progress, &mut report, &mut ids).await?;
    import_facilities(db, dir, &actor, progress, &mut report, &mut ids).await?;
    import_catchments(db, dir, &actor, progress, &mut report, &ids).await?;
    let roles = import_roles(db, dir, &actor, progress, &mut report).await?;
    import_officers(db, dir, &actor, progress, &mut report, &ids, &roles).await?;
    import_claim_admins(db, dir, &actor, progress, &mut report, &ids, &roles).await?;
    medical::import(db, dir, &actor, progress, &mut report, &mut ids).await?;
    product::import(db, dir, &actor, progress, &mut report, &mut ids).await?;
    registry::import(db, dir, &actor, progress, &mut report, &mut ids).await?;
    policy::import(db, dir, &actor, progress, &mut report, &mut ids).await?;
    claim::import(db, dir, &actor, progress, &mut report, &mut ids).await?;
    Ok(report)
}

/// openIMIS's integer ids → Bima UUIDs, per table. History rows map to their current row.
#[derive(Default)]
#[allow(dead_code)] // the module maps fill in as each module's import lands
pub(crate) struct LegacyIds {
    pub(crate) locations: HashMap<i64, Uuid>,
    pub(crate) location_types: HashMap<Uuid, (LocationType, Option<Uuid>)>,
    pub(crate) facilities: HashMap<i64, Uuid>,
    pub(crate) facility_districts: HashMap<Uuid, Uuid>,
    pub(crate) medical: medical::Ids,
    pub(crate) product: product::Ids,
    pub(crate) registry: registry::Ids,
    pub(crate) policy: policy::Ids,
    pub(crate) claim: claim::Ids,
}

impl LegacyIds {
    /// The imported region or district a `LocationId` names (`None` when empty: national).
    pub(crate) fn region_or_district(
        &self,
        legacy: Option<i64>,
        what: &str,
    ) -> Result<Option<Uuid>, String> {
        let Some(legacy) = legacy else {
            return Ok(None);
        };
        let uuid = *self
            .locations
            .get(&legacy)
            .ok_or_else(|| format!("LocationId {legacy} is not a location of this export"))?;
        match self.location_types.get(&uuid) {
            Some((LocationType::Region | LocationType::District, _)) => Ok(Some(uuid)),
            Some((other, _)) => Err(format!(
                "{what} is attached to a {}, not a region or district",
                other.label()
            )),
            None => Err(format!("the location {legacy} was not imported")),
        }
    }
}

/// Map each record's id (a current row, or a record deleted in openIMIS, which is imported as a
/// deleted record) to its UUID, and each history row's id to its record's UUID.
pub(crate) fn legacy_map(rows: &[Row], id_column: &str, uuid_column: &str) -> HashMap<i64, Uuid> {
    records_map(rows, id_column, uuid_column, |r| {
        r.is_current() || r.is_deleted()
    })
}

/// Map the id of each record's row (`is_record`) to its UUID, and each other row's id to the
/// UUID of the record its LegacyID names.
fn records_map(
    rows: &[Row],
    id_column: &str,
    uuid_column: &str,
    is_record: fn(&Row) -> bool,
) -> HashMap<i64, Uuid> {
    let mut map = HashMap::new();
    for r in rows.iter().filter(|r| is_record(r)) {
        if let (Ok(Some(id)), Ok(uuid)) = (r.int(id_column), r.uuid(uuid_column)) {
            map.insert(id, uuid);
        }
    }
    for r in rows.iter().filter(|r| !is_record(r)) {
        let legacy = r.get("LegacyID").or(r.get("LegacyId"));
        if let (Ok(Some(id)), Some(Ok(legacy))) = (r.int(id_column), legacy.map(str::parse::<i64>))
            && let Some(uuid) = map.get(&legacy).copied()
        {
            map.insert(id, uuid);
        }
    }
    map
}

/// A record deleted in openIMIS, as the audit records its import: the record and when it was
/// deleted.
#[derive(serde::Serialize)]
struct DeletedRecord<'a, T: serde::Serialize> {
    #[serde(flatten)]
    record: &'a T,
    #[serde(with = "time::serde::rfc3339")]
    deleted_at: OffsetDateTime,
}

/// The audit record of a record's import: `action` for a current one, `{action}_deleted` (with
/// its `deleted_at`) for one deleted in openIMIS.
pub(crate) fn import_entry<T: serde::Serialize>(
    actor: &Actor,
    entity: &str,
    entity_id: Uuid,
    action: &str,
    record: &T,
    deleted_at: Option<OffsetDateTime>,
) -> anyhow::Result<audit::Entry> {
    Ok(match deleted_at {
        None => audit::Entry::new(actor, entity, entity_id, action, None::<&()>, Some(record))?,
        Some(deleted_at) => audit::Entry::new(
            actor,
            entity,
            entity_id,
            &format!("{action}_deleted"),
            None::<&()>,
            Some(&DeletedRecord { record, deleted_at }),
        )?,
    })
}

/// The records a chunk of a large table brought in, as its one audit record.
#[derive(serde::Serialize)]
struct ChunkImported<'a> {
    file: &'a str,
    /// (record, line of the file)
    records: &'a [(Uuid, u64)],
}

/// One audit record for the current records a chunk of a large table (families, insurees,
/// policies, their members, contributions) imported: which records, from which lines. A
/// record per row would double what a national import writes (a million insurees) for
/// nothing the rows themselves do not hold; records deleted in openIMIS and older versions
/// still get records of their own, under their entity.
pub(crate) fn chunk_entry(
    actor: &Actor,
    entity: &str,
    file: &str,
    records: &[(Uuid, u64)],
) -> anyhow::Result<Option<audit::Entry>> {
    if records.is_empty() {
        return Ok(None);
    }
    let after = ChunkImported { file, records };
    let entry = audit::Entry::new(
        actor,
        entity,
        Uuid::now_v7(),
        "import_chunk",
        None::<&()>,
        Some(&after),
    )?;
    Ok(Some(entry))
}

/// A table's history rows (closed rows whose LegacyID names the record they are an older
/// version of), by that record's UUID. They become the record's audit history, appended in
/// the transaction that imports the record, so that a second run (which finds the record)
/// never writes them twice and an interrupted one never leaves a record without them.
pub(crate) struct History<'r> {
    file: &'static str,
    of: HashMap<Uuid, Vec<&'r Row>>,
}

/// An older version of a record, as the audit keeps it: the openIMIS row as exported.
#[derive(serde::Serialize)]
struct OlderVersion<'a> {
    /// The export file, `tblInsuree.csv`.
    file: String,
    line: u64,
    valid_from: Option<&'a str>,
    valid_to: Option<&'a str>,
    row: std::collections::BTreeMap<&'a str, &'a str>,
}

impl<'r> History<'r> {
    /// `records` maps every row's id (history rows' too) to its record's UUID.
    pub(crate) fn new(
        file: &'static str,
        rows: &'r [Row],
        id_column: &str,
        records: &HashMap<i64, Uuid>,
    ) -> Self {
        let mut of: HashMap<Uuid, Vec<&Row>> = HashMap::new();
        for row in rows.iter().filter(|r| !r.is_current() && !r.is_deleted()) {
            if let Ok(Some(id)) = row.int(id_column)
                && let Some(record) = records.get(&id)
            {
                of.entry(*record).or_default().push(row);
            }
        }
        for versions in of.values_mut() {
            versions.sort_by_key(|r| (r.get("ValidityFrom").map(str::to_string), r.line));
        }
        History { file, of }
    }

    /// The audit records of `id`'s older versions, oldest first.
    pub(crate) fn entries(
        &self,
        actor: &Actor,
        entity: &str,
        id: Uuid,
    ) -> anyhow::Result<Vec<audit::Entry>> {
        let Some(versions) = self.of.get(&id) else {
            return Ok(Vec::new());
        };
        versions
            .iter()
            .map(|row| {
                let version = OlderVersion {
                    file: format!("{}.csv", self.file),
                    line: row.line,
                    valid_from: row.get("ValidityFrom"),
                    valid_to: row.get("ValidityTo"),
                    row: row.fields(),
                };
                Ok(audit::Entry::new(
                    actor,
                    entity,
                    id,
                    "openimis_history",
                    None::<&()>,
                    Some(&version),
                )?)
            })
            .collect()
    }

    /// Append `id`'s older versions in the transaction that imports it.
    pub(crate) async fn append(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        entity: &str,
        id: Uuid,
    ) -> anyhow::Result<()> {
        let entries = self.entries(actor, entity, id)?;
        if !entries.is_empty() {
            audit::append_many(tx, &entries).await?;
        }
        Ok(())
    }
}

/// Close a record just written, as deleted at `at`: lists and lookups by code leave it out, and
/// the rows that name it still find it. In the transaction that wrote it, so that nobody sees
/// it current.
pub(crate) async fn mark_deleted(
    tx: &mut Tx,
    table: &'static str,
    id: Uuid,
    at: OffsetDateTime,
) -> anyhow::Result<()> {
    let sql = format!("UPDATE {table} SET deleted_at = $1 WHERE id = $2");
    store::on_tx!(tx, conn => {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(at)
            .bind(id)
            .execute(&mut **conn)
            .await?;
    });
    Ok(())
}

/// A deleted record's unique value (an insurance number, a claim code, a receipt) may be a
/// current record's, which the unique index of current values would refuse on insert: such a
/// record goes in under [`placeholder`], then takes its value and its deletion here, in one
/// statement of the same transaction.
pub(crate) async fn mark_deleted_with(
    tx: &mut Tx,
    table: &'static str,
    column: &'static str,
    value: &str,
    id: Uuid,
    at: OffsetDateTime,
) -> anyhow::Result<()> {
    let sql = format!("UPDATE {table} SET {column} = $1, deleted_at = $2 WHERE id = $3");
    store::on_tx!(tx, conn => {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(value)
            .bind(at)
            .bind(id)
            .execute(&mut **conn)
            .await?;
    });
    Ok(())
}

/// The value a deleted record holds until [`mark_deleted_with`] gives it its own: no code or
/// number can be it (it holds a space and the record's UUID).
pub(crate) fn placeholder(id: Uuid) -> String {
    format!("deleted {id}")
}

async fn import_locations(
    db: &Db,
    dir: &Path,
    actor: &Actor,
    progress: Progress,
    report: &mut Report,
    ids: &mut LegacyIds,
) -> anyhow::Result<()> {
    let Some(rows) = csvfile::read(dir, "tblLocations")? else {
        return Ok(());
    };
    ids.locations = legacy_map(&rows, "LocationId", "LocationUUID");
    let history = History::new("tblLocations", &rows, "LocationId", &ids.locations);
    let mut run = TableRun::new(db, "tblLocations", rows.len(), progress);
    // Parents before children: regions, districts, wards, villages.
    let mut current: Vec<&Row> = Vec::new();
    for row in &rows {
        if row.is_current() || row.is_deleted() {
            current.push(row);
        } else {
            run.count.history += 1;
            run.bar.inc(1);
        }
    }
    let level = |r: &Row| {
        r.get("LocationType")
            .and_then(LocationType::from_code)
            .map(|t| t as u8)
            .unwrap_or(9)
    };
    current.sort_by_key(|r| level(r));
    for row in current {
        match location_from_row(row, ids).and_then(|l| Ok((l, row.deleted_at()?))) {
            Err(reason) => run.skip(row, reason),
            Ok((location, deleted_at)) => {
                ids.location_types
                    .insert(location.id, (location.kind, location.district_id));
                let tx = run.tx().await?;
                if ::registry::store::row_exists(tx, "locations", location.id).await? {
                    run.counted(true, deleted_at.is_some());
                } else if let Some(at) = deleted_at {
                    let parked = Location {
                        code: placeholder(location.id),
                        ..location.clone()
                    };
                    location::store::insert_location(tx, &parked).await?;
                    mark_deleted_with(tx, "locations", "code", &location.code, location.id, at)
                        .await?;
                    let entity = location::service::LOCATION;
                    import_entry(actor, entity, location.id, "import", &location, Some(at))?
                        .append(tx)
                        .await?;
                    history.append(tx, actor, entity, location.id).await?;
                    run.counted(false, true);
                } else if location::store::location_code_taken(
                    tx,
                    &location.code,
                    Some(location.id),
                )
                .await?
                {
                    ids.location_types.remove(&location.id);
                    run.skip(
                        row,
                        format!(
                            "location code {} is already used by another location",
                            location.code
                        ),
                    );
                    continue;
                } else {
                    location::store::insert_location(tx, &location).await?;
                    audit::append(
                        tx,
                        actor,
                        location::service::LOCATION,
                        location.id,
                        "import",
                        None::<&()>,
                        Some(&location),
                    )
                    .await?;
                    let entity = location::service::LOCATION;
                    history.append(tx, actor, entity, location.id).await?;
                    run.count.imported += 1;
                }
                run.done().await?;
            }
        }
    }
    run.finish(report).await
}

pub(crate) fn location_from_row(row: &Row, ids: &LegacyIds) -> Result<Location, String> {
    let id = row.uuid("LocationUUID")?;
    let code = row.text("LocationCode")?.to_string();
    let name = row.text("LocationName")?.to_string();
    let kind = LocationType::from_code(row.text("LocationType")?).ok_or_else(|| {
        format!(
            "LocationType \"{}\" is not R, D, W or V",
            row.get("LocationType").unwrap_or("")
        )
    })?;
    if code.chars().count() > 8 {
        return Err(format!("location code {code} is longer than 8 characters"));
    }
    if name.chars().count() > 50 {
        return Err(format!(
            "location name of {code} is longer than 50 characters"
        ));
    }
    let parent = match row.int("ParentLocationId")? {
        None => None,
        Some(legacy) => {
            let uuid = *ids.locations.get(&legacy).ok_or_else(|| {
                format!("ParentLocationId {legacy} is not a location of this export")
            })?;
            let (parent_kind, parent_district) = *ids
                .location_types
                .get(&uuid)
                .ok_or_else(|| format!("the parent location {legacy} was not imported"))?;
            Some((uuid, parent_kind, parent_district))
        }
    };
    let mut checks = kernel::Checks::new();
    location::rules::check_parent(kind, parent.map(|p| p.1), &mut checks);
    if let Err(kernel::Error::Invalid(fields)) = checks.finish() {
        return Err(format!("{code}: {}", fields[0].message));
    }
    let district_id = match kind {
        LocationType::Region => None,
        LocationType::District => Some(id),
        _ => parent.and_then(|p| p.2),
    };
    let stamp = row
        .timestamp("ValidityFrom")?
        .unwrap_or_else(audit::now_micros);
    for column in [
        "MalePopulation",
        "FemalePopulation",
        "OtherPopulation",
        "Families",
    ] {
        if row.int(column)?.is_some_and(|v| v < 0) {
            return Err(format!("{column} is negative"));
        }
    }
    Ok(Location {
        id,
        code,
        name,
        kind,
        parent_id: parent.map(|p| p.0),
        district_id,
        male_population: row.int("MalePopulation")?,
        female_population: row.int("FemalePopulation")?,
        other_population: row.int("OtherPopulation")?,
        families: row.int("Families")?,
        version: 1,
        created_at: stamp,
        updated_at: stamp,
    })
}

async fn import_facilities(
    db: &Db,
    dir: &Path,
    actor: &Actor,
    progress: Progress,
    report: &mut Report,
    ids: &mut LegacyIds,
) -> anyhow::Result<()> {
    let Some(rows) = csvfile::read(dir, "tblHF")? else {
        return Ok(());
    };
    ids.facilities = legacy_map(&rows, "HfID", "HfUUID");
    let history = History::new("tblHF", &rows, "HfID", &ids.facilities);
    let mut run = TableRun::new(db, "tblHF", rows.len(), progress);
    for row in &rows {
        if !row.is_current() && !row.is_deleted() {
            run.count.history += 1;
            run.bar.inc(1);
            continue;
        }
        match facility_from_row(row, ids).and_then(|f| Ok((f, row.deleted_at()?))) {
            Err(reason) => run.skip(row, reason),
            Ok((facility, deleted_at)) => {
                let tx = run.tx().await?;
                let entity = location::service::HEALTH_FACILITY;
                if ::registry::store::row_exists(tx, "health_facilities", facility.id).await? {
                    run.counted(true, deleted_at.is_some());
                } else if let Some(at) = deleted_at {
                    let parked = HealthFacility {
                        code: placeholder(facility.id),
                        ..facility.clone()
                    };
                    location::store::save_facility(tx, &parked, None).await?;
                    let (code, id) = (&facility.code, facility.id);
                    mark_deleted_with(tx, "health_facilities", "code", code, id, at).await?;
                    import_entry(actor, entity, id, "import", &facility, Some(at))?
                        .append(tx)
                        .await?;
                    history.append(tx, actor, entity, id).await?;
                    run.counted(false, true);
                } else if location::store::facility_code_taken(
                    tx,
                    &facility.code,
                    Some(facility.id),
                )
                .await?
                {
                    run.skip(
                        row,
                        format!(
                            "health facility code {} is already used by another facility",
                            facility.code
                        ),
                    );
                    continue;
                } else {
                    location::store::save_facility(tx, &facility, None).await?;
                    audit::append(
                        tx,
                        actor,
                        location::service::HEALTH_FACILITY,
                        facility.id,
                        "import",
                        None::<&()>,
                        Some(&facility),
                    )
                    .await?;
                    let entity = location::service::HEALTH_FACILITY;
                    history.append(tx, actor, entity, facility.id).await?;
                    run.count.imported += 1;
                }
                ids.facility_districts
                    .insert(facility.id, facility.location_id);
                run.done().await?;
            }
        }
    }
    run.finish(report).await
}

pub(crate) fn facility_from_row(row: &Row, ids: &LegacyIds) -> Result<HealthFacility, String> {
    let id = row.uuid("HfUUID")?;
    let code = row.text("HFCode")?.to_string();
    let legacy_location = row.int("LocationId")?.ok_or("LocationId is empty")?;
    let location_id = *ids
        .locations
        .get(&legacy_location)
        .ok_or_else(|| format!("LocationId {legacy_location} is not a location of this export"))?;
    match ids.location_types.get(&location_id) {
        Some((LocationType::District, _)) => {}
        Some((other, _)) => {
            return Err(format!(
                "facility {code} is attached to a {}, not a district",
                other.label()
            ));
        }
        None => {
            return Err(format!(
                "the district {legacy_location} of facility {code} was not imported"
            ));
        }
    }
    let letter = |column: &str| row.get(column).unwrap_or("");
    let legal_form = LegalForm::from_code(letter("LegalForm"))
        .ok_or_else(|| format!("LegalForm \"{}\" is not C, D, G or P", letter("LegalForm")))?;
    let level = FacilityLevel::from_code(letter("HFLevel"))
        .ok_or_else(|| format!("HFLevel \"{}\" is not D, C or H", letter("HFLevel")))?;
    let sub_level = match row.get("HFSublevel") {
        None => None,
        Some(s) => Some(
            FacilitySubLevel::from_code(s)
                .ok_or_else(|| format!("HFSublevel \"{s}\" is not I, N or R"))?,
        ),
    };
    // openIMIS treats a missing care type as both.
    let care_type = match row.get("HFCareType") {
        None => CareType::Both,
        Some(c) => {
            CareType::from_code(c).ok_or_else(|| format!("HFCareType \"{c}\" is not I, O or B"))?
        }
    };
    let status = match row.get("status") {
        None => FacilityStatus::Active,
        Some(s) => FacilityStatus::from_openimis(s)
            .ok_or_else(|| format!("status \"{s}\" is not AC, IN, DE or ID"))?,
    };
    let stamp = row
        .timestamp("ValidityFrom")?
        .unwrap_or_else(audit::now_micros);
    let facility = HealthFacility {
        id,
        code,
        name: row.text("HFName")?.to_string(),
        acc_code: row.get("AccCode").map(str::to_string),
        legal_form,
        level,
        sub_level,
        location_id,
        address: row.get("HFAddress").map(str::to_string),
        phone: row.get("Phone").map(str::to_string),
        fax: row.get("Fax").map(str::to_string),
        email: row.get("eMail").map(str::to_string),
        care_type,
        // Price lists arrive with the medical registers.
        items_pricelist_id: None,
        services_pricelist_id: None,
        offline: row.bool("OffLine"),
        contract_start_date: row.date("ContractStartDate")?,
        contract_end_date: row.date("ContractEndDate")?,
        status,
        catchments: Vec::new(),
        version: 1,
        created_at: stamp,
        updated_at: stamp,
    };
    let input = HealthFacilityInput {
        code: facility.code.clone(),
        name: facility.name.clone(),
        acc_code: facility.acc_code.clone(),
        legal_form,
        level,
        sub_level,
        location_id,
        address: facility.address.clone(),
        phone: facility.phone.clone(),
        fax: facility.fax.clone(),
        // openIMIS never checked e-mails; an odd one is kept rather than losing the facility.
        email: None,
        care_type,
        items_pricelist_id: None,
        services_pricelist_id: None,
        offline: facility.offline,
        contract_start_date: facility.contract_start_date,
        contract_end_date: facility.contract_end_date,
        status: Some(status),
        catchments: Vec::new(),
        version: None,
    };
    let mut checks = kernel::Checks::new();
    location::rules::check_facility(&input, &mut checks);
    if let Err(kernel::Error::Invalid(fields)) = checks.finish() {
        return Err(format!(
            "facility {}: {}: {}",
            facility.code, fields[0].field, fields[0].message
        ));
    }
    Ok(facility)
}

async fn import_catchments(
    db: &Db,
    dir: &Path,
    actor: &Actor,
    progress: Progress,
    report: &mut Report,
    ids: &LegacyIds,
) -> anyhow::Result<()> {
    let Some(rows) = csvfile::read(dir, "tblHFCatchment")? else {
        return Ok(());
    };
    let mut run = TableRun::new(db, "tblHFCatchment", rows.len(), progress);
    // Group the current catchments by facility, then add the missing ones to each facility.
    let mut by_facility: HashMap<Uuid, Vec<(&Row, Catchment)>> = HashMap::new();
    for row in &rows {
        if !row.is_current() {
            run.count.history += 1;
            run.bar.inc(1);
            continue;
        }
        let parsed = (|| -> Result<(Uuid, Catchment), String> {
            let hf = row.int("HFID")?.ok_or("HFID is empty")?;
            let facility = *ids
                .facilities
                .get(&hf)
                .ok_or_else(|| format!("HFID {hf} is not a facility of this export"))?;
            let village = row.int("LocationId")?.ok_or("LocationId is empty")?;
            let location_id = *ids
                .locations
                .get(&village)
                .ok_or_else(|| format!("LocationId {village} is not a location of this export"))?;
            if !matches!(
                ids.location_types.get(&location_id),
                Some((LocationType::Village, _))
            ) {
                return Err(format!("LocationId {village} is not an imported village"));
            }
            let catchment = row.int("Catchment")?.unwrap_or(0);
            if !(0..=100).contains(&catchment) {
                return Err(format!("Catchment {catchment} is not a percentage"));
            }
            Ok((
                facility,
                Catchment {
                    location_id,
                    catchment,
                },
            ))
        })();
        match parsed {
            Ok((facility, c)) => by_facility.entry(facility).or_default().push((row, c)),
            Err(reason) => run.skip(row, reason),
        }
    }
    for (facility_id, catchments) in by_facility {
        let tx = run.tx().await?;
        let Some(before) = location::store::get_facility(tx, facility_id).await? else {
            // A facility deleted in openIMIS serves no one: its catchments (only capitation
            // reads them) are history with it.
            if ::registry::store::row_exists(tx, "health_facilities", facility_id).await? {
                run.count.history += catchments.len() as u64;
                for _ in &catchments {
                    run.done().await?;
                }
                continue;
            }
            for (row, _) in &catchments {
                run.skip(row, "its health facility was not imported".into());
            }
            continue;
        };
        let mut after = before.clone();
        let mut added = 0u64;
        for (_, c) in &catchments {
            if !after
                .catchments
                .iter()
                .any(|have| have.location_id == c.location_id)
            {
                after.catchments.push(c.clone());
                added += 1;
            }
        }
        if added > 0 {
            after.version += 1;
            after.updated_at = audit::now_micros();
            location::store::save_facility(tx, &after, Some(before.version)).await?;
            audit::append(
                tx,
                actor,
                location::service::HEALTH_FACILITY,
                facility_id,
                "import",
                Some(&before),
                Some(&after),
            )
            .await?;
        }
        run.count.imported += added;
        run.count.unchanged += catchments.len() as u64 - added;
        for _ in &catchments {
            run.done().await?;
        }
    }
    run.finish(report).await
}

/// Role ids by openIMIS `RoleID`, and the built-in roles by system code.
#[derive(Default)]
struct RoleMap {
    system: HashMap<i64, Uuid>,
}

async fn import_roles(
    db: &Db,
    dir: &Path,
    actor: &Actor,
    progress: Progress,
    report: &mut Report,
) -> anyhow::Result<RoleMap> {
    let mut map = RoleMap::default();
    {
        let mut tx = db.read().await?;
        for seed in identity::system_roles::SYSTEM_ROLES {
            if let Some(role) = identity::store::get_system_role(&mut tx, seed.code).await? {
                map.system.insert(seed.code, role.id);
            }
        }
    }
    let Some(rows) = csvfile::read(dir, "tblRole")? else {
        return Ok(map);
    };
    let grants = csvfile::read(dir, "tblRoleRight")?.unwrap_or_default();
    let mut run = TableRun::new(db, "tblRole", rows.len(), progress);
    for row in &rows {
        if !row.is_current() {
            run.count.history += 1;
            run.bar.inc(1);
            continue;
        }
        let system = match row.int("IsSystem") {
            Ok(s) => s.unwrap_or(0),
            Err(reason) => {
                run.skip(row, reason);
                continue;
            }
        };
        if system != 0 {
            // A system role is Bima's built-in role of the same bitmask.
            if map.system.contains_key(&system) {
                run.count.unchanged += 1;
                run.done().await?;
            } else {
                run.skip(
                    row,
                    format!("IsSystem {system} is not an openIMIS system role"),
                );
            }
            continue;
        }
        let parsed = (|| -> Result<Role, String> {
            let id = row.uuid("RoleUUID")?;
            let legacy = row.int("RoleID")?.ok_or("RoleID is empty")?;
            let name = row.text("RoleName")?.to_string();
            let mut rights: Vec<Right> = grants
                .iter()
                .filter(|g| g.is_current() && g.int("RoleID").ok().flatten() == Some(legacy))
                .filter_map(|g| g.int("RightID").ok().flatten())
                .map(|r| Right(r as u32))
                .filter(|r| r.is_known())
                .collect();
            rights.sort();
            rights.dedup();
            let stamp = row
                .timestamp("ValidityFrom")?
                .unwrap_or_else(audit::now_micros);
            Ok(Role {
                id,
                name,
                alt_language: row.get("AltLanguage").map(str::to_string),
                system_code: 0,
                is_system: false,
                blocked: row.bool("IsBlocked"),
                rights,
                version: 1,
                created_at: stamp,
                updated_at: stamp,
            })
        })();
        match parsed {
            Err(reason) => run.skip(row, reason),
            Ok(role) => {
                let tx = run.tx().await?;
                if identity::store::get_role(tx, role.id).await?.is_some() {
                    run.count.unchanged += 1;
                } else if identity::store::role_name_taken(tx, &role.name, Some(role.id)).await? {
                    run.skip(
                        row,
                        format!("a different role is already named \"{}\"", role.name),
                    );
                    continue;
                } else {
                    identity::store::save_role(tx, &role, None).await?;
                    audit::append(
                        tx,
                        actor,
                        identity::service::ROLE,
                        role.id,
                        "import",
                        None::<&()>,
                        Some(&role),
                    )
                    .await?;
                    run.count.imported += 1;
                }
                run.done().await?;
            }
        }
    }
    run.finish(report).await?;
    Ok(map)
}

/// Insert an imported account unless it is already there.
/// Write one account: present already (current or deleted) → unchanged; deleted in openIMIS
/// (`deleted_at`) → a deleted account, which cannot log in, its username free for a current
/// one; current → the username must be free.
async fn import_user(
    run: &mut TableRun<'_>,
    row: &Row,
    actor: &Actor,
    user: User,
    history: &History<'_>,
    deleted_at: Option<OffsetDateTime>,
) -> anyhow::Result<()> {
    let tx = run.tx().await?;
    let entity = identity::service::USER;
    if ::registry::store::row_exists(tx, "users", user.id).await? {
        run.counted(true, deleted_at.is_some());
    } else if let Some(at) = deleted_at {
        let parked = User {
            username: placeholder(user.id),
            active: false,
            ..user.clone()
        };
        identity::store::save_user(tx, &parked, None, None).await?;
        mark_deleted_with(tx, "users", "username", &user.username, user.id, at).await?;
        import_entry(actor, entity, user.id, "import", &user, Some(at))?
            .append(tx)
            .await?;
        history.append(tx, actor, entity, user.id).await?;
        run.counted(false, true);
    } else if identity::store::username_taken(tx, &user.username, Some(user.id)).await? {
        run.skip(
            row,
            format!(
                "the username {} is already taken by another account",
                user.username
            ),
        );
        return Ok(());
    } else {
        identity::store::save_user(tx, &user, None, None).await?;
        audit::append(
            tx,
            actor,
            identity::service::USER,
            user.id,
            "import",
            None::<&()>,
            Some(&user),
        )
        .await?;
        history
            .append(tx, actor, identity::service::USER, user.id)
            .await?;
        run.count.imported += 1;
    }
    run.done().await
}

fn imported_user(id: Uuid, username: &str, row: &Row, kind: UserKind) -> Result<User, String> {
    let stamp = row
        .timestamp("ValidityFrom")?
        .unwrap_or_else(audit::now_micros);
    let username = username.trim();
    if username.is_empty()
        || username.chars().count() > 50
        || username.contains(char::is_whitespace)
    {
        return Err(format!("\"{username}\" cannot be a username"));
    }
    Ok(User {
        id,
        username: username.to_string(),
        last_name: row.get("LastName").unwrap_or("").to_string(),
        other_names: row.get("OtherNames").unwrap_or("").to_string(),
        email: row.get("EmailId").map(str::to_string),
        phone: row.get("Phone").map(str::to_string),
        language: "en".into(),
        health_facility_id: None,
        kind,
        origin: UserOrigin::Openimis,
        active: true,
        has_password: false,
        role_ids: Vec::new(),
        district_ids: Vec::new(),
        version: 1,
        created_at: stamp,
        updated_at: stamp,
    })
}

/// Import one table of accounts (officers or claim administrators), built by `account`.
async fn import_accounts(
    db: &Db,
    dir: &Path,
    (table, id_column, uuid_column): (&'static str, &str, &str),
    actor: &Actor,
    progress: Progress,
    report: &mut Report,
    account: impl Fn(&Row) -> Result<User, String>,
) -> anyhow::Result<()> {
    let Some(rows) = csvfile::read(dir, table)? else {
        return Ok(());
    };
    let records = legacy_map(&rows, id_column, uuid_column);
    let history = History::new(table, &rows, id_column, &records);
    let mut run = TableRun::new(db, table, rows.len(), progress);
    for row in &rows {
        if !row.is_current() && !row.is_deleted() {
            run.count.history += 1;
            run.bar.inc(1);
            continue;
        }
        match account(row).and_then(|u| Ok((u, row.deleted_at()?))) {
            Ok((user, deleted_at)) => {
                import_user(&mut run, row, actor, user, &history, deleted_at).await?
            }
            Err(reason) => run.skip(row, reason),
        }
    }
    run.finish(report).await
}

async fn import_officers(
    db: &Db,
    dir: &Path,
    actor: &Actor,
    progress: Progress,
    report: &mut Report,
    ids: &LegacyIds,
    roles: &RoleMap,
) -> anyhow::Result<()> {
    import_accounts(
        db,
        dir,
        ("tblOfficer", "OfficerID", "OfficerUUID"),
        actor,
        progress,
        report,
        |row| {
            let mut user = imported_user(
                row.uuid("OfficerUUID")?,
                row.text("Code")?,
                row,
                UserKind::EnrolmentOfficer,
            )?;
            if let Some(legacy) = row.int("LocationId")? {
                let location = ids.locations.get(&legacy).ok_or_else(|| {
                    format!("LocationId {legacy} is not a location of this export")
                })?;
                let district = ids
                    .location_types
                    .get(location)
                    .and_then(|(_, d)| *d)
                    .ok_or_else(|| {
                        format!("LocationId {legacy} is not within an imported district")
                    })?;
                user.district_ids = vec![district];
            }
            user.role_ids = roles
                .system
                .get(&system_role::ENROLMENT_OFFICER)
                .copied()
                .into_iter()
                .collect();
            Ok(user)
        },
    )
    .await
}

async fn import_claim_admins(
    db: &Db,
    dir: &Path,
    actor: &Actor,
    progress: Progress,
    report: &mut Report,
    ids: &LegacyIds,
    roles: &RoleMap,
) -> anyhow::Result<()> {
    import_accounts(
        db,
        dir,
        ("tblClaimAdmin", "ClaimAdminId", "ClaimAdminUUID"),
        actor,
        progress,
        report,
        |row| {
            let mut user = imported_user(
                row.uuid("ClaimAdminUUID")?,
                row.text("ClaimAdminCode")?,
                row,
                UserKind::ClaimAdministrator,
            )?;
            if let Some(legacy) = row.int("HFId")? {
                let facility = *ids
                    .facilities
                    .get(&legacy)
                    .ok_or_else(|| format!("HFId {legacy} is not a facility of this export"))?;
                let district = *ids
                    .facility_districts
                    .get(&facility)
                    .ok_or_else(|| format!("the facility {legacy} was not imported"))?;
                user.health_facility_id = Some(facility);
                user.district_ids = vec![district];
            }
            user.role_ids = roles
                .system
                .get(&system_role::CLAIM_ADMINISTRATOR)
                .copied()
                .into_iter()
                .collect();
            Ok(user)
        },
    )
    .await
}
