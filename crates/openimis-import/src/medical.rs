//! The medical module's tables: tblICDCodes, tblItems, tblServices, tblPLItems, tblPLItemsDetail, tblPLServices, tblPLServicesDetail (and the price lists of tblHF).

use crate::{LegacyIds, Progress, Report};
use kernel::Actor;
use std::path::Path;
use store::Db;

/// openIMIS integer ids of this module's tables → Bima UUIDs, for the tables imported after it.
#[derive(Default)]
#[allow(dead_code)] // filled by this module's import
pub(crate) struct Ids {
    /// tblICDCodes.ICDID → diagnosis.
    pub(crate) diagnoses: std::collections::HashMap<i64, uuid::Uuid>,
    /// tblItems.ItemID → medical item.
    pub(crate) items: std::collections::HashMap<i64, uuid::Uuid>,
    /// tblServices.ServiceID → medical service.
    pub(crate) services: std::collections::HashMap<i64, uuid::Uuid>,
    /// tblPLItems.PLItemID → item price list.
    pub(crate) item_pricelists: std::collections::HashMap<i64, uuid::Uuid>,
    /// tblPLServices.PLServiceID → service price list.
    pub(crate) service_pricelists: std::collections::HashMap<i64, uuid::Uuid>,
}

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
