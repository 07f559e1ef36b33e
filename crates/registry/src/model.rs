//! Families and insurees, as the scheme names them (openIMIS `tblFamilies`, `tblInsuree`).

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

kernel::code_enum! {
    /// Kind of family (`tblFamilyTypes`).
    FamilyType { Council = "C", Organization = "G", Household = "H", Other = "O", Priests = "P", Students = "S", Teachers = "T" }
}

kernel::code_enum! {
    /// Who confirmed the family's poverty status (`tblConfirmationTypes`).
    ConfirmationType { LocalCouncil = "A", Municipality = "B", State = "C", Other = "D" }
}

kernel::code_enum! {
    Gender { Male = "M", Female = "F", Other = "O" }
}

kernel::code_enum! {
    Marital { NotSpecified = "N", Single = "S", Married = "M", Divorced = "D", Widowed = "W" }
}

kernel::code_enum! {
    /// Kind of identity document (`tblIdentificationTypes`).
    IdType { DriversLicence = "D", NationalId = "N", Passport = "P", VoterCard = "V" }
}

kernel::code_enum! {
    /// Whether the insuree is covered at all: inactive and dead insurees lose their coverage.
    InsureeStatus { Active = "active", Inactive = "inactive", Dead = "dead" }
}

impl InsureeStatus {
    /// openIMIS's two-letter code (AC, IN, DE).
    pub fn openimis_code(self) -> &'static str {
        match self {
            InsureeStatus::Active => "AC",
            InsureeStatus::Inactive => "IN",
            InsureeStatus::Dead => "DE",
        }
    }

    pub fn from_openimis(code: &str) -> Option<Self> {
        InsureeStatus::ALL
            .iter()
            .copied()
            .find(|s| s.openimis_code() == code.trim())
    }
}

/// A family (household or group): the unit a policy covers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Family {
    pub id: Uuid,
    /// The head of family (HOF).
    pub head_insuree_id: Option<Uuid>,
    /// The village the family lives in.
    pub location_id: Uuid,
    /// The district of that village (the family's scope).
    pub district_id: Uuid,
    pub poverty: Option<bool>,
    pub family_type: Option<FamilyType>,
    pub address: Option<String>,
    pub ethnicity: Option<String>,
    pub confirmation_no: Option<String>,
    pub confirmation_type: Option<ConfirmationType>,
    pub is_offline: bool,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A family as lists and reads show it: with its head's name and number.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FamilyView {
    #[serde(flatten)]
    pub family: Family,
    pub head_chfid: Option<String>,
    pub head_last_name: Option<String>,
    pub head_other_names: Option<String>,
}

/// One family with its current members.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FamilyDetail {
    #[serde(flatten)]
    pub family: FamilyView,
    pub members: Vec<Insuree>,
}

/// What a client sends to create a family (with `head`) or change one (without).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FamilyInput {
    /// A village.
    pub location_id: Uuid,
    #[serde(default)]
    pub poverty: Option<bool>,
    #[serde(default)]
    pub family_type: Option<FamilyType>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub ethnicity: Option<String>,
    #[serde(default)]
    pub confirmation_no: Option<String>,
    #[serde(default)]
    pub confirmation_type: Option<ConfirmationType>,
    #[serde(default)]
    pub is_offline: bool,
    /// The head of family, created with the family (required when creating).
    #[serde(default)]
    pub head: Option<InsureeInput>,
    /// Required when changing: the version you read.
    #[serde(default)]
    pub version: Option<i64>,
}

/// An insured person.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Insuree {
    pub id: Uuid,
    pub family_id: Option<Uuid>,
    /// The insurance number (CHFID).
    pub chfid: String,
    pub last_name: String,
    pub other_names: String,
    pub gender: Gender,
    pub dob: Date,
    /// Head of their family.
    pub head: bool,
    pub marital: Option<Marital>,
    /// 1 brother/sister, 2 father/mother, 3 uncle/aunt, 4 son/daughter, 5 grandparent, 6 employee, 7 other, 8 spouse.
    pub relationship: Option<i16>,
    /// 1 housewife, 2 employee, 3 self-employed, 4 other.
    pub profession: Option<i16>,
    /// 1 nursery, 2 primary, 3 secondary, 4 university, 5 postgraduate, 6 PhD, 7 other.
    pub education: Option<i16>,
    /// Identification number.
    pub passport: Option<String>,
    pub type_of_id: Option<IdType>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub current_address: Option<String>,
    pub geolocation: Option<String>,
    pub current_village_id: Option<Uuid>,
    /// First point of service (FSP).
    pub health_facility_id: Option<Uuid>,
    pub card_issued: bool,
    pub status: InsureeStatus,
    pub status_date: Option<Date>,
    pub status_reason: Option<String>,
    pub photo_date: Option<Date>,
    /// The district of the family's village (the insuree's scope).
    pub district_id: Option<Uuid>,
    pub is_offline: bool,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// One insuree with their family, as a read by UUID or CHFID answers it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InsureeDetail {
    #[serde(flatten)]
    pub insuree: Insuree,
    pub family: Option<FamilyView>,
    /// The insuree's policies (filled in by the policy module).
    #[schema(value_type = Vec<Object>)]
    pub policies: Vec<serde_json::Value>,
}

/// What a client sends to create or change an insuree.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InsureeInput {
    /// The family to join (required when adding a member; moves go through `/move`).
    #[serde(default)]
    pub family_id: Option<Uuid>,
    pub chfid: String,
    pub last_name: String,
    pub other_names: String,
    pub gender: Gender,
    pub dob: Date,
    #[serde(default)]
    pub marital: Option<Marital>,
    #[serde(default)]
    pub relationship: Option<i16>,
    #[serde(default)]
    pub profession: Option<i16>,
    #[serde(default)]
    pub education: Option<i16>,
    #[serde(default)]
    pub passport: Option<String>,
    #[serde(default)]
    pub type_of_id: Option<IdType>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub current_address: Option<String>,
    #[serde(default)]
    pub geolocation: Option<String>,
    #[serde(default)]
    pub current_village_id: Option<Uuid>,
    #[serde(default)]
    pub health_facility_id: Option<Uuid>,
    #[serde(default)]
    pub card_issued: bool,
    #[serde(default)]
    pub status: Option<InsureeStatus>,
    #[serde(default)]
    pub status_date: Option<Date>,
    #[serde(default)]
    pub status_reason: Option<String>,
    #[serde(default)]
    pub is_offline: bool,
    /// Required when changing: the version you read.
    #[serde(default)]
    pub version: Option<i64>,
}

impl Insuree {
    /// What a client would send to keep this record as it is (at its version): the start of
    /// an edit that changes some fields and leaves the others.
    pub fn as_input(&self) -> InsureeInput {
        InsureeInput {
            family_id: self.family_id,
            chfid: self.chfid.clone(),
            last_name: self.last_name.clone(),
            other_names: self.other_names.clone(),
            gender: self.gender,
            dob: self.dob,
            marital: self.marital,
            relationship: self.relationship,
            profession: self.profession,
            education: self.education,
            passport: self.passport.clone(),
            type_of_id: self.type_of_id,
            phone: self.phone.clone(),
            email: self.email.clone(),
            current_address: self.current_address.clone(),
            geolocation: self.geolocation.clone(),
            current_village_id: self.current_village_id,
            health_facility_id: self.health_facility_id,
            card_issued: self.card_issued,
            status: Some(self.status),
            status_date: self.status_date,
            status_reason: self.status_reason.clone(),
            is_offline: self.is_offline,
            version: Some(self.version),
        }
    }
}

/// Kind of photo file, recognised by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ImageKind {
    Jpeg,
    Png,
}

impl ImageKind {
    pub fn content_type(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Png => "image/png",
        }
    }

    pub fn from_content_type(value: &str) -> Option<Self> {
        match value.split(';').next().unwrap_or("").trim() {
            "image/jpeg" | "image/jpg" => Some(ImageKind::Jpeg),
            "image/png" => Some(ImageKind::Png),
            _ => None,
        }
    }
}

/// A stored photo.
#[derive(Debug, Clone)]
pub struct Photo {
    pub content_type: String,
    pub bytes: Vec<u8>,
}
