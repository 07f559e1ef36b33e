//! Small values the system keeps in its own database, such as the token signing key, so that
//! every server on one database agrees on them.

use crate::error::Result;
use store::{Db, on_db};

/// The value under `key`, created with `init` the first time (first writer wins).
pub async fn get_or_init(db: &Db, key: &str, init: impl FnOnce() -> String) -> Result<String> {
    let value = init();
    on_db!(db, pool => {
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(&value)
            .execute(pool)
            .await?;
        let (stored,): (String,) = sqlx::query_as("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_one(pool)
            .await?;
        Ok(stored)
    })
}
