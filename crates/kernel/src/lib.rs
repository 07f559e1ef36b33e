//! The shared kernel: errors, paging, the acting user and their rights, validation, the audit
//! chain, and the state every module's HTTP handlers share.

pub mod actor;
pub mod audit;
pub mod codes;
pub mod error;
pub mod export;
pub mod extract;
pub mod money;
pub mod page;
pub mod rights;
pub mod settings;
pub mod validate;

pub use actor::{Actor, Scope};
pub use error::{Error, FieldError, Problem, Result};
pub use extract::{ValidJson, ValidQuery};
pub use page::{PageParams, Paged, VersionQuery, required_version};
pub use rights::Right;
pub use validate::Checks;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use uuid::Uuid;

pub static MIGRATIONS: &[store::Migration] = store::migrations!("kernel": "0001_kernel");

/// Decides whether an actor may read the audit history of one entity of a module's.
pub type AuditGuard = Arc<
    dyn Fn(store::Db, Actor, Uuid) -> Pin<Box<dyn Future<Output = Result<()>> + Send>>
        + Send
        + Sync,
>;

/// Build an [`AuditGuard`] from an async check.
pub fn audit_guard<F, Fut>(check: F) -> AuditGuard
where
    F: Fn(store::Db, Actor, Uuid) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    Arc::new(move |db, actor, id| Box::pin(check(db, actor, id)))
}

/// What every module's handlers share.
#[derive(Clone)]
pub struct AppState {
    pub db: store::Db,
    /// Entity name → who may read its audit history. Modules register theirs.
    pub audit_guards: Arc<HashMap<&'static str, AuditGuard>>,
}

impl AppState {
    /// The audit history of one record, newest first, for an actor allowed to read the record
    /// (its module's guard decides; an administrator also reads deleted records' history). An
    /// entity no module registered is a 422 naming the ones there are.
    pub async fn record_history(
        &self,
        actor: &Actor,
        entity: &str,
        id: Uuid,
        page: PageParams,
    ) -> Result<Paged<audit::AuditEntry>> {
        let Some(guard) = self.audit_guards.get(entity) else {
            let mut known: Vec<&str> = self.audit_guards.keys().copied().collect();
            known.sort();
            return Err(Error::invalid(
                "entity",
                "not_allowed",
                format!("entity must be one of {}", known.join(", ")),
            ));
        };
        if !actor.is_admin {
            guard(self.db.clone(), actor.clone(), id).await?;
        }
        audit::history(&self.db, entity, id, page).await
    }
}

/// Parse a path id: a UUID, else `None` (the caller may then look the value up as a code).
pub fn parse_uuid(id: &str) -> Option<Uuid> {
    Uuid::parse_str(id.trim()).ok()
}
