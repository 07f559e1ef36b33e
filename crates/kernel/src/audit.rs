//! The audit trail: every write appends one record (actor, time, entity, before/after) in the same
//! transaction as the change. A hash chain makes the trail tamper-evident.
//!
//! Writers never queue behind one another for the chain: a record is inserted unsealed, and one
//! sealer (a background task, and `verify` before it checks) gives records their place in the
//! chain in the order it finds them, each hash covering the previous one.

use crate::error::Result;
use crate::{Actor, PageParams, Paged};
use serde::Serialize;
use sha2::{Digest, Sha256};
use store::{Db, Tx, on_db, on_tx};
use time::OffsetDateTime;
use uuid::Uuid;

/// How many records one sealing transaction handles.
const SEAL_BATCH: i64 = 1000;

/// One audit record as stored and shown by `GET /api/v1/audit`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AuditRecord {
    pub seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor_id: Option<Uuid>,
    pub actor_name: String,
    pub entity: String,
    pub entity_id: Uuid,
    /// `create`, `update`, `delete`, `import`, `login`…
    pub action: String,
    #[serde(skip)]
    pub before_json: Option<String>,
    #[serde(skip)]
    pub after_json: Option<String>,
    /// Place in the hash chain; `None` until sealed (within a second or so).
    pub chain_pos: Option<i64>,
    #[serde(skip)]
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

/// An audit record as the API shows it, with its snapshots as JSON.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    #[serde(flatten)]
    pub record: AuditRecord,
    #[schema(value_type = Object)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Object)]
    pub after: Option<serde_json::Value>,
}

impl AuditRecord {
    /// The hash of this record chained to `prev_hash`, over a canonical JSON array of its fields.
    pub fn compute_hash(&self, chain_pos: i64, prev_hash: &str) -> String {
        let canonical = serde_json::json!([
            chain_pos,
            prev_hash,
            self.seq,
            self.at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            self.actor_id.map(|u| u.to_string()),
            self.actor_name,
            self.entity,
            self.entity_id.to_string(),
            self.action,
            self.before_json,
            self.after_json,
        ]);
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

/// The hash that the first record chains to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A kind of row that is soft-deleted with an audit record: its audit entity, its table, and
/// the name a stale-version error gives it.
#[derive(Debug, Clone, Copy)]
pub struct Deletable {
    pub entity: &'static str,
    pub table: &'static str,
    pub label: &'static str,
}

/// Soft-delete the current row `id` of `kind.table` if it is still at `version`, and record the
/// deletion with the row as it was (`before`) in the caller's transaction. A version that moved
/// on is a 409 `stale_version`, and nothing is written.
pub async fn soft_delete<B: Serialize>(
    tx: &mut Tx,
    actor: &Actor,
    kind: Deletable,
    id: Uuid,
    version: i64,
    before: &B,
) -> Result<()> {
    if !store::soft_delete(tx, kind.table, id, version, now_micros()).await? {
        return Err(crate::Error::stale(kind.label));
    }
    append(
        tx,
        actor,
        kind.entity,
        id,
        "delete",
        Some(before),
        None::<&()>,
    )
    .await
}

/// One record about to be appended, its snapshots serialised: for a module that writes it in
/// the same statement as its own change (see [`Entry::COLUMNS`]).
#[derive(Debug, Clone)]
pub struct Entry {
    pub at: OffsetDateTime,
    pub actor_id: Option<Uuid>,
    pub actor_name: String,
    pub entity: String,
    pub entity_id: Uuid,
    pub action: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl Entry {
    /// The columns of `audit_log` an entry fills, in the order of its fields.
    pub const COLUMNS: &'static str =
        "at, actor_id, actor_name, entity, entity_id, action, before_json, after_json";

    pub fn new<B: Serialize, A: Serialize>(
        actor: &Actor,
        entity: &str,
        entity_id: Uuid,
        action: &str,
        before: Option<&B>,
        after: Option<&A>,
    ) -> Result<Entry> {
        Ok(Entry {
            at: now_micros(),
            actor_id: actor.user_id,
            actor_name: actor.username.clone(),
            entity: entity.to_string(),
            entity_id,
            action: action.to_string(),
            before: before.map(serde_json::to_string).transpose()?,
            after: after.map(serde_json::to_string).transpose()?,
        })
    }

    /// Append it in the caller's transaction.
    pub async fn append(self, tx: &mut Tx) -> Result<()> {
        append_many(tx, std::slice::from_ref(&self)).await
    }
}

/// Bind an [`Entry`]'s columns in the order of [`Entry::COLUMNS`], for a module that writes it
/// in a statement of its own.
#[macro_export]
macro_rules! bind_audit_entry {
    ($query:expr, $entry:expr) => {{
        let e: &$crate::audit::Entry = $entry;
        $query
            .bind(e.at)
            .bind(e.actor_id)
            .bind(e.actor_name.as_str())
            .bind(e.entity.as_str())
            .bind(e.entity_id)
            .bind(e.action.as_str())
            .bind(e.before.as_deref())
            .bind(e.after.as_deref())
    }};
}

/// Append one record in the caller's transaction.
pub async fn append<B: Serialize, A: Serialize>(
    tx: &mut Tx,
    actor: &Actor,
    entity: &str,
    entity_id: Uuid,
    action: &str,
    before: Option<&B>,
    after: Option<&A>,
) -> Result<()> {
    Entry::new(actor, entity, entity_id, action, before, after)?
        .append(tx)
        .await
}

/// Append these records in the caller's transaction: one INSERT, or for many (a batch run
/// values thousands of claims a transaction, where a statement per record would be most of the
/// cost) one COPY on PostgreSQL and multi-row INSERTs on SQLite.
pub async fn append_many(tx: &mut Tx, entries: &[Entry]) -> Result<()> {
    store::bulk_insert!(tx, "audit_log", Entry::COLUMNS, entries, bind_audit_entry)?;
    Ok(())
}

/// Append these records already sealed, in the caller's transaction: their places in the
/// chain are taken now, under the sealer's lock (PostgreSQL) or the write lock (SQLite), so
/// that a bulk writer (the openIMIS import writes millions) does not make the sealer rewrite
/// every record afterwards. Records other writers left unsealed are sealed after these, as
/// usual; the chain is ordered by its positions, not by `seq`.
pub async fn append_sealed(tx: &mut Tx, entries: &[Entry]) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let (mut pos, mut prev) = chain_head(tx).await?;
    let seqs: Vec<i64> = match tx {
        Tx::Postgres(conn) => {
            // Numbers from the column's own sequence, which concurrent inserts never repeat.
            let taken: Vec<(i64,)> = sqlx::query_as(
                "SELECT nextval(pg_get_serial_sequence('audit_log', 'seq')) FROM generate_series(1, $1)",
            )
            .bind(entries.len() as i64)
            .fetch_all(&mut **conn)
            .await?;
            let mut seqs: Vec<i64> = taken.into_iter().map(|(s,)| s).collect();
            seqs.sort_unstable();
            seqs
        }
        _ => {
            // SQLite has one writer at a time: the numbers after the highest ever given.
            let (last,): (i64,) = on_tx!(&mut *tx, conn => {
                sqlx::query_as(
                    "SELECT MAX(COALESCE((SELECT MAX(seq) FROM audit_log), 0), \
                        COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'), 0))",
                )
                .fetch_one(&mut **conn)
                .await?
            });
            (1..=entries.len() as i64).map(|i| last + i).collect()
        }
    };
    let mut records = Vec::with_capacity(entries.len());
    for (e, seq) in entries.iter().zip(seqs) {
        let mut record = AuditRecord {
            seq,
            at: e.at,
            actor_id: e.actor_id,
            actor_name: e.actor_name.clone(),
            entity: e.entity.clone(),
            entity_id: e.entity_id,
            action: e.action.clone(),
            before_json: e.before.clone(),
            after_json: e.after.clone(),
            chain_pos: None,
            prev_hash: None,
            hash: None,
        };
        pos += 1;
        let hash = record.compute_hash(pos, &prev);
        record.chain_pos = Some(pos);
        record.prev_hash = Some(std::mem::replace(&mut prev, hash.clone()));
        record.hash = Some(hash);
        records.push(record);
    }
    store::bulk_insert!(tx, "audit_log", RECORD_COLUMNS, &records, bind_audit_record)?;
    Ok(())
}

/// Bind an [`AuditRecord`]'s columns in the order of `RECORD_COLUMNS`.
macro_rules! bind_audit_record {
    ($query:expr, $r:expr) => {{
        let r: &AuditRecord = $r;
        $query
            .bind(r.seq)
            .bind(r.at)
            .bind(r.actor_id)
            .bind(r.actor_name.as_str())
            .bind(r.entity.as_str())
            .bind(r.entity_id)
            .bind(r.action.as_str())
            .bind(r.before_json.as_deref())
            .bind(r.after_json.as_deref())
            .bind(r.chain_pos)
            .bind(r.prev_hash.as_deref())
            .bind(r.hash.as_deref())
    }};
}
use bind_audit_record;

/// The last place taken in the chain and its hash (0 and [`GENESIS`] for an empty chain), with
/// the sealer's lock taken on PostgreSQL until the transaction ends.
async fn chain_head(tx: &mut Tx) -> Result<(i64, String)> {
    if let Tx::Postgres(conn) = &mut *tx {
        // One sealer at a time, even with several servers on one database.
        sqlx::query("SELECT pg_advisory_xact_lock(72616962)")
            .execute(&mut **conn)
            .await?;
    }
    let head: Option<(i64, Option<String>)> = on_tx!(&mut *tx, conn => {
        sqlx::query_as("SELECT chain_pos, hash FROM audit_log WHERE chain_pos IS NOT NULL ORDER BY chain_pos DESC LIMIT 1")
            .fetch_optional(&mut **conn)
            .await?
    });
    Ok(match head {
        Some((pos, hash)) => (pos, hash.unwrap_or_default()),
        None => (0, GENESIS.to_string()),
    })
}

/// Now, truncated to microseconds so that it reads back the same from either engine.
pub fn now_micros() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1000 * 1000)
        .unwrap_or(now)
}

const RECORD_COLUMNS: &str = "seq, at, actor_id, actor_name, entity, entity_id, action, before_json, after_json, chain_pos, prev_hash, hash";

/// Give every unsealed record its place in the chain. Returns how many were sealed.
pub async fn seal(db: &Db) -> Result<u64> {
    let mut sealed = 0u64;
    loop {
        let mut tx = db.begin().await?;
        let (mut pos, mut prev) = chain_head(&mut tx).await?;
        let batch: Vec<AuditRecord> = on_tx!(&mut tx, conn => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {RECORD_COLUMNS} FROM audit_log WHERE chain_pos IS NULL ORDER BY seq LIMIT {SEAL_BATCH}"
            )))
            .fetch_all(&mut **conn)
            .await?
        });
        if batch.is_empty() {
            return Ok(sealed);
        }
        let mut seals = Seals::default();
        for record in &batch {
            pos += 1;
            let hash = record.compute_hash(pos, &prev);
            seals.seq.push(record.seq);
            seals.pos.push(pos);
            seals.prev.push(std::mem::replace(&mut prev, hash.clone()));
            seals.hash.push(hash);
        }
        seals.write(&mut tx).await?;
        tx.commit().await?;
        sealed += batch.len() as u64;
    }
}

/// The places in the chain one sealing transaction gives, column by column.
#[derive(Default)]
struct Seals {
    seq: Vec<i64>,
    pos: Vec<i64>,
    prev: Vec<String>,
    hash: Vec<String>,
}

impl Seals {
    /// On PostgreSQL one statement for the whole batch (a round trip per record made the sealer
    /// a large share of a busy server's statements); SQLite runs in-process, where a prepared
    /// statement per record costs no round trip.
    async fn write(self, tx: &mut Tx) -> Result<()> {
        match tx {
            Tx::Postgres(conn) => {
                sqlx::query(
                    "UPDATE audit_log a SET chain_pos = s.pos, prev_hash = s.prev, hash = s.hash \
                     FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::TEXT[], $4::TEXT[]) AS s(seq, pos, prev, hash) \
                     WHERE a.seq = s.seq",
                )
                .bind(&self.seq)
                .bind(&self.pos)
                .bind(&self.prev)
                .bind(&self.hash)
                .execute(&mut **conn)
                .await?;
            }
            _ => {
                for i in 0..self.seq.len() {
                    on_tx!(&mut *tx, conn => {
                        sqlx::query("UPDATE audit_log SET chain_pos = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
                            .bind(self.pos[i])
                            .bind(&self.prev[i])
                            .bind(&self.hash[i])
                            .bind(self.seq[i])
                            .execute(&mut **conn)
                            .await?;
                    });
                }
            }
        }
        Ok(())
    }
}

/// What `bima audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Intact {
        records: u64,
    },
    Broken {
        seq: i64,
        chain_pos: i64,
        reason: String,
    },
}

/// Seal what is pending, then recompute the whole chain from the first record.
pub async fn verify(db: &Db) -> Result<Verdict> {
    seal(db).await?;
    let mut expected_pos = 0i64;
    let mut prev = GENESIS.to_string();
    loop {
        let batch: Vec<AuditRecord> = on_db!(db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {RECORD_COLUMNS} FROM audit_log WHERE chain_pos > $1 ORDER BY chain_pos LIMIT 5000"
            )))
            .bind(expected_pos)
            .fetch_all(pool)
            .await?
        });
        if batch.is_empty() {
            break;
        }
        for record in batch {
            expected_pos += 1;
            let pos = record.chain_pos.unwrap_or_default();
            let broken = |reason: String| Verdict::Broken {
                seq: record.seq,
                chain_pos: pos,
                reason,
            };
            if pos != expected_pos {
                return Ok(broken(format!(
                    "record {} is at chain position {pos}, but position {expected_pos} is missing: a record was deleted",
                    record.seq
                )));
            }
            if record.prev_hash.as_deref() != Some(prev.as_str()) {
                return Ok(broken(format!(
                    "record {} does not point to the hash of the record before it",
                    record.seq
                )));
            }
            let hash = record.compute_hash(pos, &prev);
            if record.hash.as_deref() != Some(hash.as_str()) {
                return Ok(broken(format!(
                    "record {} ({} {} {}) was changed after it was written",
                    record.seq, record.action, record.entity, record.entity_id
                )));
            }
            prev = hash;
        }
    }
    let unsealed: (i64,) = on_db!(db, pool => {
        sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE chain_pos IS NULL OR hash IS NULL")
            .fetch_one(pool)
            .await?
    });
    if unsealed.0 > 0 {
        return Ok(Verdict::Broken {
            seq: 0,
            chain_pos: 0,
            reason: format!("{} records have lost their seal", unsealed.0),
        });
    }
    Ok(Verdict::Intact {
        records: expected_pos as u64,
    })
}

/// An entity's history, newest first.
pub async fn history(
    db: &Db,
    entity: &str,
    entity_id: Uuid,
    page: PageParams,
) -> Result<Paged<AuditEntry>> {
    let (rows, total): (Vec<AuditRecord>, (i64,)) = on_db!(db, pool => {
        let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {RECORD_COLUMNS} FROM audit_log WHERE entity = $1 AND entity_id = $2 ORDER BY seq DESC LIMIT $3 OFFSET $4"
        )))
        .bind(entity)
        .bind(entity_id)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(pool)
        .await?;
        let total = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE entity = $1 AND entity_id = $2")
            .bind(entity)
            .bind(entity_id)
            .fetch_one(pool)
            .await?;
        (rows, total)
    });
    let items = rows
        .into_iter()
        .map(|record| {
            let parse =
                |s: &Option<String>| s.as_deref().and_then(|s| serde_json::from_str(s).ok());
            AuditEntry {
                before: parse(&record.before_json),
                after: parse(&record.after_json),
                record,
            }
        })
        .collect();
    Ok(Paged::new(items, total.0, page))
}

/// Seal every second until the process ends.
pub fn spawn_sealer(db: Db, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = seal(&db).await {
                tracing::warn!(error = %e, "sealing the audit chain failed; will retry");
            }
        }
    })
}
