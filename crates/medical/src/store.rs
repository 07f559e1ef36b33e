//! SQL for the medical registers and price lists.

use kernel::Result;
use store::{Sql, Tx, bind_args, on_tx};
use uuid::Uuid;

/// Which of `ids` are current medical items (for modules that reference items, e.g. products).
pub async fn existing_items(tx: &mut Tx, ids: &[Uuid]) -> Result<Vec<Uuid>> {
    existing(tx, "medical_items", ids).await
}

/// Which of `ids` are current medical services.
pub async fn existing_services(tx: &mut Tx, ids: &[Uuid]) -> Result<Vec<Uuid>> {
    existing(tx, "medical_services", ids).await
}

async fn existing(tx: &mut Tx, table: &'static str, ids: &[Uuid]) -> Result<Vec<Uuid>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new(&format!("SELECT id FROM {table} WHERE deleted_at IS NULL AND id IN "));
    sql.list(ids.iter().copied());
    let rows: Vec<(Uuid,)> = on_tx!(tx, conn => {
        bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), sql.args)
            .fetch_all(&mut **conn)
            .await?
    });
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
