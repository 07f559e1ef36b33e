//! Policies, insuree policies, payers and contributions as the scheme names them (openIMIS
//! `tblPolicy`, `tblInsureePolicy`, `tblPayer`, `tblPremium`). Money is `i64` minor units.

pub use crate::rules::contribution::{ActivationOption, Outcome, Shortfall};
pub use crate::rules::eligibility::{LineEligibility, Remaining, StatusLetter};
pub use crate::rules::value::PolicyValue;
pub use crate::rules::{PolicyStatus, Stage};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

kernel::code_enum! {
    /// Kind of payer (`tblPayerType`).
    PayerType { CoOperative = "C", Donor = "D", Government = "G", LocalAuthority = "L", Other = "O", PrivateOrganization = "P" }
}

kernel::code_enum! {
    /// How a contribution was paid: Cash, Bank transfer, Mobile phone, Funding.
    PayType { Cash = "C", BankTransfer = "B", MobilePhone = "M", Funding = "F" }
}

/// A family's policy in a product.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Policy {
    pub id: Uuid,
    pub family_id: Uuid,
    pub product_id: Uuid,
    /// The enrolment officer (a user).
    pub officer_id: Option<Uuid>,
    /// The policy this one renews.
    pub previous_policy_id: Option<Uuid>,
    pub stage: Stage,
    pub status: PolicyStatus,
    /// Why it was suspended or cancelled.
    pub status_reason: Option<String>,
    /// The amount due, minor units.
    pub value: i64,
    pub enroll_date: Date,
    pub start_date: Date,
    /// Set when the policy is paid.
    pub effective_date: Option<Date>,
    pub expiry_date: Date,
    /// The family's district (scope).
    pub district_id: Uuid,
    pub is_offline: bool,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A policy with what has been paid towards it and whom it covers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PolicyDetail {
    #[serde(flatten)]
    pub policy: Policy,
    pub product_code: String,
    pub product_name: String,
    /// Non-photo contributions so far, minor units.
    pub paid: i64,
    /// What is still due (never negative).
    pub balance: i64,
    pub insurees: Vec<InsureePolicy>,
}

/// Who a policy covers, from when to when.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InsureePolicy {
    pub id: Uuid,
    pub insuree_id: Uuid,
    pub policy_id: Uuid,
    pub enrollment_date: Date,
    pub start_date: Date,
    /// None: not covered yet (policy unpaid, or a member added before the top-up was paid).
    pub effective_date: Option<Date>,
    pub expiry_date: Date,
    pub is_offline: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Enrol a family in a product (a new policy) or renew an earlier policy.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    pub family_id: Uuid,
    pub product_id: Uuid,
    #[serde(default)]
    pub officer_id: Option<Uuid>,
    /// Not in the future.
    pub enroll_date: Date,
    #[serde(default)]
    pub is_offline: bool,
}

/// Renew a policy: a new policy of the same family, in the product's conversion product when it
/// has one, continuing the old one without a gap.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenewInput {
    pub enroll_date: Date,
    #[serde(default)]
    pub officer_id: Option<Uuid>,
    /// Renew into this product instead (default: the conversion product, or the same one).
    #[serde(default)]
    pub product_id: Option<Uuid>,
}

/// Change an idle policy: its officer or enrolment date (dates and value are recomputed).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyChange {
    pub enroll_date: Date,
    #[serde(default)]
    pub officer_id: Option<Uuid>,
    pub version: i64,
}

/// Suspend, reinstate or cancel a policy.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// Why (kept on the policy and in the audit trail).
    #[serde(default)]
    pub reason: Option<String>,
    /// Cancellation only: the last day of coverage (default: today).
    #[serde(default)]
    pub date: Option<Date>,
    pub version: i64,
}

/// What a policy would be, before it is created (`GET /api/v1/policies/quote`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Quote {
    pub stage: Stage,
    pub enroll_date: Date,
    pub start_date: Date,
    pub expiry_date: Date,
    pub last_payment_date: Date,
    #[serde(flatten)]
    pub value: PolicyValue,
}

/// A payer (`tblPayer`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Payer {
    pub id: Uuid,
    pub payer_type: PayerType,
    pub name: String,
    pub address: Option<String>,
    /// Region or district; none = national.
    pub location_id: Option<Uuid>,
    pub phone: Option<String>,
    pub fax: Option<String>,
    pub email: Option<String>,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayerInput {
    pub payer_type: PayerType,
    pub name: String,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub location_id: Option<Uuid>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub fax: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Required to change a payer.
    #[serde(default)]
    pub version: Option<i64>,
}

/// A contribution (`tblPremium`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Contribution {
    pub id: Uuid,
    pub policy_id: Uuid,
    pub product_id: Uuid,
    pub payer_id: Option<Uuid>,
    /// Minor units.
    pub amount: i64,
    pub receipt: String,
    pub pay_date: Date,
    pub pay_type: PayType,
    /// Photo fees never count toward the policy value.
    pub is_photo_fee: bool,
    pub district_id: Uuid,
    pub is_offline: bool,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContributionInput {
    pub policy_id: Uuid,
    #[serde(default)]
    pub payer_id: Option<Uuid>,
    /// Minor units, above 0.
    pub amount: i64,
    /// Unique per product and per payer.
    pub receipt: String,
    pub pay_date: Date,
    pub pay_type: PayType,
    #[serde(default)]
    pub is_photo_fee: bool,
    /// A partial payment: `wait` for the rest (default) or `enforce` activation now.
    #[serde(default)]
    pub shortfall: Shortfall,
    #[serde(default)]
    pub is_offline: bool,
}

/// A recorded contribution and what it did to its policy.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ContributionReceipt {
    pub contribution: Contribution,
    pub outcome: Outcome,
}

/// One covering product in an eligibility answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProductEligibility {
    pub policy_id: Uuid,
    pub product_id: Uuid,
    pub product_code: String,
    pub product_name: String,
    pub policy_status: PolicyStatus,
    /// I idle or not yet effective, A active, S suspended, R ready, E expired.
    pub status: StatusLetter,
    pub effective_date: Option<Date>,
    pub expiry_date: Date,
    pub remaining: Remaining,
    /// The item asked about (`?item=`).
    pub item: Option<LineEligibility>,
    /// The service asked about (`?service=`).
    pub service: Option<LineEligibility>,
}

/// `GET /api/v1/insurees/{id}/eligibility`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Eligibility {
    pub insuree_id: Uuid,
    pub chfid: String,
    pub date: Date,
    /// Covered by at least one product on `date` (for the item or service asked about, when one is).
    pub eligible: bool,
    pub products: Vec<ProductEligibility>,
}
