//! Medical registers (diagnoses, items, services) and the price lists of items and services,
//! in openIMIS's own letter codes.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

pub use location::model::CareType;

kernel::code_enum! {
    /// What a medical item is: a drug or a medical consumable.
    ItemType { Drug = "D", Consumable = "M" }
}

kernel::code_enum! {
    /// Category of a service (Surgery, Delivery, Antenatal, Hospitalization, Consultation, Other, Visit).
    ServiceCategory { Surgery = "S", Delivery = "D", Antenatal = "A", Hospitalization = "H", Consultation = "C", Other = "O", Visit = "V" }
}

kernel::code_enum! {
    /// Preventive or curative service.
    ServiceType { Preventive = "P", Curative = "C" }
}

kernel::code_enum! {
    /// Level of a service: simple service, visit, day hospital, hospital care.
    ServiceLevel { Simple = "S", Visit = "V", DayHospital = "D", Hospital = "H" }
}

kernel::code_enum! {
    /// How a service is priced: on its own, as a package of sub-lines, or as a flat-rate package.
    PackageType { Simple = "S", Package = "P", FlatRate = "F" }
}

/// A diagnosis of the ICD register.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Diagnosis {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiagnosisInput {
    pub code: String,
    pub name: String,
    /// Required when changing: the version you read.
    #[serde(default)]
    pub version: Option<i64>,
}

/// A drug or consumable of the items register.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MedicalItem {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ItemType,
    pub package: Option<String>,
    /// The register (scheme) price, in minor units.
    pub price: i64,
    pub quantity: Option<i64>,
    /// Largest quantity one claim line may ask for.
    pub maximum_amount: Option<i64>,
    pub care_type: CareType,
    /// Minimum number of days between two provisions to the same insuree (none or 0: no check).
    pub frequency: Option<i64>,
    /// Who may receive it: 1 man, 2 woman, 4 adult, 8 child (15 everyone).
    pub patient_category: i64,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MedicalItemInput {
    pub code: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ItemType,
    #[serde(default)]
    pub package: Option<String>,
    pub price: i64,
    #[serde(default)]
    pub quantity: Option<i64>,
    #[serde(default)]
    pub maximum_amount: Option<i64>,
    pub care_type: CareType,
    #[serde(default)]
    pub frequency: Option<i64>,
    #[serde(default = "everyone")]
    pub patient_category: i64,
    #[serde(default)]
    pub version: Option<i64>,
}

/// Patient category of everyone: men, women, adults and children.
pub const EVERYONE: i64 = 15;

fn everyone() -> i64 {
    EVERYONE
}

/// A service of the services register.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MedicalService {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub category: Option<ServiceCategory>,
    #[serde(rename = "type")]
    pub kind: ServiceType,
    pub level: ServiceLevel,
    pub package_type: PackageType,
    pub manual_price: bool,
    pub price: i64,
    pub maximum_amount: Option<i64>,
    pub care_type: CareType,
    pub frequency: Option<i64>,
    pub patient_category: i64,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MedicalServiceInput {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub category: Option<ServiceCategory>,
    #[serde(rename = "type")]
    pub kind: ServiceType,
    pub level: ServiceLevel,
    #[serde(default)]
    pub package_type: Option<PackageType>,
    #[serde(default)]
    pub manual_price: bool,
    pub price: i64,
    #[serde(default)]
    pub maximum_amount: Option<i64>,
    pub care_type: CareType,
    #[serde(default)]
    pub frequency: Option<i64>,
    #[serde(default = "everyone")]
    pub patient_category: i64,
    #[serde(default)]
    pub version: Option<i64>,
}

/// Which register a price list prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceListKind {
    Items,
    Services,
}

/// A price list of either kind, as stored; the HTTP layer shows it with `item_id` or `service_id`.
#[derive(Debug, Clone, Serialize)]
pub struct PriceList {
    pub id: Uuid,
    pub name: String,
    /// A region or a district; `None` for a national list.
    pub location_id: Option<Uuid>,
    pub lines: Vec<PriceListLine>,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PriceListLine {
    /// The item or service priced.
    pub register_id: Uuid,
    pub price_overrule: Option<i64>,
    /// The price at facilities using this list: the overrule if set, else the register price.
    pub price: i64,
}

/// What a client sends to create or change a price list, whichever its kind.
#[derive(Debug, Clone)]
pub struct PriceListInput {
    pub name: String,
    pub location_id: Option<Uuid>,
    /// (item or service, price overrule)
    pub lines: Vec<(Uuid, Option<i64>)>,
    pub version: Option<i64>,
}

// ---------------------------------------------------------------- price lists as the API shows them

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemPriceList {
    pub id: Uuid,
    pub name: String,
    pub location_id: Option<Uuid>,
    pub lines: Vec<ItemPriceLine>,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemPriceLine {
    pub item_id: Uuid,
    pub price_overrule: Option<i64>,
    /// The price-list price: the overrule if set, else the item's register price.
    pub price: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ServicePriceList {
    pub id: Uuid,
    pub name: String,
    pub location_id: Option<Uuid>,
    pub lines: Vec<ServicePriceLine>,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ServicePriceLine {
    pub service_id: Uuid,
    pub price_overrule: Option<i64>,
    /// The price-list price: the overrule if set, else the service's register price.
    pub price: i64,
}

impl From<PriceList> for ItemPriceList {
    fn from(p: PriceList) -> Self {
        ItemPriceList {
            id: p.id,
            name: p.name,
            location_id: p.location_id,
            lines: p
                .lines
                .into_iter()
                .map(|l| ItemPriceLine {
                    item_id: l.register_id,
                    price_overrule: l.price_overrule,
                    price: l.price,
                })
                .collect(),
            version: p.version,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

impl From<PriceList> for ServicePriceList {
    fn from(p: PriceList) -> Self {
        ServicePriceList {
            id: p.id,
            name: p.name,
            location_id: p.location_id,
            lines: p
                .lines
                .into_iter()
                .map(|l| ServicePriceLine {
                    service_id: l.register_id,
                    price_overrule: l.price_overrule,
                    price: l.price,
                })
                .collect(),
            version: p.version,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemPriceListInput {
    pub name: String,
    #[serde(default)]
    pub location_id: Option<Uuid>,
    #[serde(default)]
    pub lines: Vec<ItemPriceLineInput>,
    #[serde(default)]
    pub version: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemPriceLineInput {
    pub item_id: Uuid,
    #[serde(default)]
    pub price_overrule: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServicePriceListInput {
    pub name: String,
    #[serde(default)]
    pub location_id: Option<Uuid>,
    #[serde(default)]
    pub lines: Vec<ServicePriceLineInput>,
    #[serde(default)]
    pub version: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServicePriceLineInput {
    pub service_id: Uuid,
    #[serde(default)]
    pub price_overrule: Option<i64>,
}

impl From<ItemPriceListInput> for PriceListInput {
    fn from(i: ItemPriceListInput) -> Self {
        PriceListInput {
            name: i.name,
            location_id: i.location_id,
            lines: i
                .lines
                .into_iter()
                .map(|l| (l.item_id, l.price_overrule))
                .collect(),
            version: i.version,
        }
    }
}

impl From<ServicePriceListInput> for PriceListInput {
    fn from(i: ServicePriceListInput) -> Self {
        PriceListInput {
            name: i.name,
            location_id: i.location_id,
            lines: i
                .lines
                .into_iter()
                .map(|l| (l.service_id, l.price_overrule))
                .collect(),
            version: i.version,
        }
    }
}

/// `POST …/{id}/duplicate`: a copy of a price list under a new name.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PriceListCopyInput)]
pub struct DuplicateInput {
    pub name: String,
}
