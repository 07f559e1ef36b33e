//! Users, roles and what a login returns.

use kernel::Right;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

kernel::code_enum! {
    /// Which openIMIS identity a user is: an interactive user, an enrolment officer or a claim administrator.
    UserKind { Interactive = "interactive", EnrolmentOfficer = "enrolment_officer", ClaimAdministrator = "claim_administrator" }
}

kernel::code_enum! {
    /// Where the account comes from. Imported accounts never count as the bootstrap administrator.
    UserOrigin { Bima = "bima", Openimis = "openimis" }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub last_name: String,
    pub other_names: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// `en` or `fr`.
    pub language: String,
    /// Set for a user who works for one health facility only.
    pub health_facility_id: Option<Uuid>,
    pub kind: UserKind,
    pub origin: UserOrigin,
    pub active: bool,
    /// False for an account that cannot log in yet (imported, or created without a password).
    pub has_password: bool,
    pub role_ids: Vec<Uuid>,
    pub district_ids: Vec<Uuid>,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    pub username: String,
    /// Set or replace the password (at least 8 characters). Never returned.
    #[serde(default)]
    pub password: Option<String>,
    pub last_name: String,
    pub other_names: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub health_facility_id: Option<Uuid>,
    #[serde(default)]
    pub role_ids: Vec<Uuid>,
    #[serde(default)]
    pub district_ids: Vec<Uuid>,
    #[serde(default)]
    pub active: Option<bool>,
    /// Required when changing: the version you read.
    #[serde(default)]
    pub version: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Role {
    pub id: Uuid,
    pub name: String,
    pub alt_language: Option<String>,
    /// openIMIS `IsSystem` bitmask (1 Enrolment Officer … 64 IMIS Administrator …); 0 for a custom role.
    pub system_code: i64,
    pub is_system: bool,
    pub blocked: bool,
    pub rights: Vec<Right>,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleInput {
    pub name: String,
    #[serde(default)]
    pub alt_language: Option<String>,
    #[serde(default)]
    pub blocked: bool,
    /// openIMIS right numbers, e.g. 121901.
    #[serde(default)]
    pub rights: Vec<u32>,
    #[serde(default)]
    pub version: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// The caller, as `GET /api/v1/auth/me` shows them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub user: User,
    pub is_admin: bool,
    pub rights: Vec<Right>,
}
