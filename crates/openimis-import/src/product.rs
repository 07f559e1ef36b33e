//! The product module's tables: tblProduct, tblProductItems, tblProductServices, tblRelDistr.

use crate::{LegacyIds, Progress, Report};
use kernel::Actor;
use std::path::Path;
use store::Db;

/// openIMIS integer ids of this module's tables → Bima UUIDs, for the tables imported after it.
#[derive(Default)]
pub(crate) struct Ids {}

pub(crate) async fn import(
    _db: &Db,
    _dir: &Path,
    _actor: &Actor,
    _progress: Progress,
    _report: &mut Report,
    _ids: &mut LegacyIds,
) -> anyhow::Result<()> {
    Ok(())
}
