//! Locations (region → district → ward → village) and health facilities, as the scheme names them.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

kernel::code_enum! {
    /// Level in the hierarchy: Region, District, Ward (municipality), Village.
    LocationType { Region = "R", District = "D", Ward = "W", Village = "V" }
}

impl LocationType {
    /// The level a location of this type must hang from (`None`: a region has no parent).
    pub fn parent_type(self) -> Option<LocationType> {
        match self {
            LocationType::Region => None,
            LocationType::District => Some(LocationType::Region),
            LocationType::Ward => Some(LocationType::District),
            LocationType::Village => Some(LocationType::Ward),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            LocationType::Region => "region",
            LocationType::District => "district",
            LocationType::Ward => "ward",
            LocationType::Village => "village",
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Location {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: LocationType,
    pub parent_id: Option<Uuid>,
    /// The district this location belongs to (itself for a district, none for a region).
    pub district_id: Option<Uuid>,
    pub male_population: Option<i64>,
    pub female_population: Option<i64>,
    pub other_population: Option<i64>,
    /// Number of families (used by capitation).
    pub families: Option<i64>,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// What a client sends to create or change a location.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationInput {
    pub code: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: LocationType,
    #[serde(default)]
    pub parent_id: Option<Uuid>,
    #[serde(default)]
    pub male_population: Option<i64>,
    #[serde(default)]
    pub female_population: Option<i64>,
    #[serde(default)]
    pub other_population: Option<i64>,
    #[serde(default)]
    pub families: Option<i64>,
    /// Required when changing: the version you read (a stale one is refused with 409).
    #[serde(default)]
    pub version: Option<i64>,
}

kernel::code_enum! {
    /// Legal form of a health facility (`tblLegalForms`).
    LegalForm { Charity = "C", DistrictOrganization = "D", Government = "G", PrivateOrganization = "P" }
}

kernel::code_enum! {
    /// Health facility level.
    FacilityLevel { Dispensary = "D", HealthCentre = "C", Hospital = "H" }
}

kernel::code_enum! {
    /// Health facility sub-level (`tblHFSublevel`).
    FacilitySubLevel { Integrated = "I", NoSubLevel = "N", Reference = "R" }
}

kernel::code_enum! {
    /// Which care the facility gives: in-patient, out-patient or both.
    CareType { InPatient = "I", OutPatient = "O", Both = "B" }
}

kernel::code_enum! {
    /// Contract status of a facility (openIMIS AC, IN, DE, ID).
    FacilityStatus { Active = "active", Inactive = "inactive", Delisted = "delisted", Idle = "idle" }
}

impl FacilityStatus {
    pub fn openimis_code(self) -> &'static str {
        match self {
            FacilityStatus::Active => "AC",
            FacilityStatus::Inactive => "IN",
            FacilityStatus::Delisted => "DE",
            FacilityStatus::Idle => "ID",
        }
    }

    pub fn from_openimis(code: &str) -> Option<Self> {
        FacilityStatus::ALL
            .iter()
            .copied()
            .find(|s| s.openimis_code() == code.trim())
    }
}

/// A village in a facility's catchment area, with the share of its population served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Catchment {
    pub location_id: Uuid,
    /// Percentage (0–100) of the village's population served by this facility.
    pub catchment: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HealthFacility {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub acc_code: Option<String>,
    pub legal_form: LegalForm,
    pub level: FacilityLevel,
    pub sub_level: Option<FacilitySubLevel>,
    /// The district the facility is in.
    pub location_id: Uuid,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub fax: Option<String>,
    pub email: Option<String>,
    pub care_type: CareType,
    pub items_pricelist_id: Option<Uuid>,
    pub services_pricelist_id: Option<Uuid>,
    pub offline: bool,
    pub contract_start_date: Option<Date>,
    pub contract_end_date: Option<Date>,
    pub status: FacilityStatus,
    pub catchments: Vec<Catchment>,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// What a client sends to create or change a health facility.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthFacilityInput {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub acc_code: Option<String>,
    pub legal_form: LegalForm,
    pub level: FacilityLevel,
    #[serde(default)]
    pub sub_level: Option<FacilitySubLevel>,
    pub location_id: Uuid,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub fax: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    pub care_type: CareType,
    #[serde(default)]
    pub items_pricelist_id: Option<Uuid>,
    #[serde(default)]
    pub services_pricelist_id: Option<Uuid>,
    #[serde(default)]
    pub offline: bool,
    #[serde(default)]
    pub contract_start_date: Option<Date>,
    #[serde(default)]
    pub contract_end_date: Option<Date>,
    #[serde(default)]
    pub status: Option<FacilityStatus>,
    #[serde(default)]
    pub catchments: Vec<Catchment>,
    /// Required when changing: the version you read.
    #[serde(default)]
    pub version: Option<i64>,
}
