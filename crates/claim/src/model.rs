//! Claims and their lines as the API shows them and as clients send them.

pub use crate::rules::{Category, LineKind, Reason, VisitType};
use product::model::{LimitationType, PriceOrigin};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

kernel::code_enum! {
    /// Where a claim is in its life (openIMIS 2 entered, 4 checked, 1 rejected, 8 processed,
    /// 16 valuated), serialised by name.
    ClaimStatus { Entered = "entered", Checked = "checked", Rejected = "rejected", Processed = "processed", Valuated = "valuated" }
}

kernel::code_enum! {
    /// Review and feedback: idle, not selected, selected, delivered, bypassed.
    ReviewStatus { Idle = "idle", NotSelected = "not_selected", Selected = "selected", Delivered = "delivered", Bypassed = "bypassed" }
}

kernel::code_enum! {
    /// A line's verdict.
    LineStatus { Passed = "passed", Rejected = "rejected" }
}

/// What a submission noticed without rejecting: the claim goes to review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Flag {
    /// `suspected_duplicate` or `unknown_diagnosis`.
    pub code: String,
    pub detail: String,
}

/// A claim line as a client sends it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    /// The item's or service's code.
    pub code: String,
    /// Quantity provided (≥ 1).
    pub qty: i64,
    /// Price asked per unit, minor units; default: the facility's price-list price.
    #[serde(default)]
    pub price_asked: Option<i64>,
    #[serde(default)]
    pub explanation: Option<String>,
}

/// What a client sends to enter or change a claim.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimInput {
    /// Unique among the facility's claims.
    pub code: String,
    pub health_facility_id: Uuid,
    /// The insuree: an insurance number (CHFID) or an id.
    pub insuree: String,
    /// The claim administrator (a user of the facility); default: you, if you are one.
    #[serde(default)]
    pub admin_id: Option<Uuid>,
    /// Default: the visit date.
    #[serde(default)]
    pub date_claimed: Option<Date>,
    /// The visit (admission) date.
    pub date_from: Date,
    /// The discharge date; a different day from `date_from` makes a stay.
    #[serde(default)]
    pub date_to: Option<Date>,
    /// E emergency, R referral, O other (default).
    #[serde(default)]
    pub visit_type: Option<VisitType>,
    /// Main diagnosis: an ICD code.
    pub icd: String,
    /// Up to 4 secondary diagnoses.
    #[serde(default)]
    pub secondary_icd: Vec<String>,
    #[serde(default)]
    pub explanation: Option<String>,
    #[serde(default)]
    pub guarantee_no: Option<String>,
    #[serde(default)]
    pub refer_from_id: Option<Uuid>,
    #[serde(default)]
    pub refer_to_id: Option<Uuid>,
    #[serde(default)]
    pub referral_code: Option<String>,
    #[serde(default)]
    pub items: Vec<LineInput>,
    #[serde(default)]
    pub services: Vec<LineInput>,
    /// Required when changing: the version you read.
    #[serde(default)]
    pub version: Option<i64>,
}

/// A claim line with its decision once submitted.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClaimLine {
    pub id: Uuid,
    /// The item or service.
    pub register_id: Uuid,
    pub code: String,
    pub name: String,
    pub qty: i64,
    pub price_asked: i64,
    pub explanation: Option<String>,
    pub status: LineStatus,
    /// openIMIS reason code: 0 accepted; none before submission.
    #[schema(value_type = Option<i16>)]
    pub rejection_reason: Option<Reason>,
    /// The rule that decided.
    pub rule: Option<String>,
    /// Why, in a sentence.
    pub decision: Option<String>,
    /// The figures the rule compared.
    #[schema(value_type = Object)]
    pub compared: Option<serde_json::Value>,
    pub qty_approved: Option<i64>,
    /// Approved price per unit.
    pub price_adjusted: Option<i64>,
    pub product_id: Option<Uuid>,
    pub policy_id: Option<Uuid>,
    #[schema(value_type = Option<String>)]
    pub price_origin: Option<PriceOrigin>,
    #[schema(value_type = Option<String>)]
    pub limitation: Option<LimitationType>,
    pub limitation_value: Option<i64>,
    /// Price per unit set by a medical officer at review.
    pub price_approved: Option<i64>,
    /// The reviewer's reason for a change.
    pub justification: Option<String>,
    /// At processing: taken by a deductible, above the general ceiling, above the category
    /// ceiling, and what the scheme pays for the line (minor units).
    pub deductible: Option<i64>,
    pub exceed_ceiling: Option<i64>,
    pub exceed_ceiling_category: Option<i64>,
    pub valuated: Option<i64>,
    /// Paid to the facility: the valuated amount, or at relative prices after the batch run.
    pub remunerated: Option<i64>,
}

impl ClaimLine {
    /// A line as entered: what was asked, nothing decided yet.
    pub fn entered(
        register_id: Uuid,
        code: String,
        name: String,
        qty: i64,
        price_asked: i64,
        explanation: Option<String>,
    ) -> ClaimLine {
        ClaimLine {
            id: Uuid::now_v7(),
            register_id,
            code,
            name,
            qty,
            price_asked,
            explanation,
            status: LineStatus::Passed,
            rejection_reason: None,
            rule: None,
            decision: None,
            compared: None,
            qty_approved: None,
            price_adjusted: None,
            product_id: None,
            policy_id: None,
            price_origin: None,
            limitation: None,
            limitation_value: None,
            price_approved: None,
            justification: None,
            deductible: None,
            exceed_ceiling: None,
            exceed_ceiling_category: None,
            valuated: None,
            remunerated: None,
        }
    }
}

/// A claim with its items and services.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Claim {
    pub id: Uuid,
    pub code: String,
    pub health_facility_id: Uuid,
    /// The facility's district.
    pub district_id: Uuid,
    pub insuree_id: Uuid,
    pub chfid: String,
    pub admin_id: Option<Uuid>,
    pub date_claimed: Date,
    pub date_from: Date,
    pub date_to: Option<Date>,
    pub visit_type: VisitType,
    pub icd: String,
    pub secondary_icd: Vec<String>,
    pub explanation: Option<String>,
    pub guarantee_no: Option<String>,
    pub refer_from_id: Option<Uuid>,
    pub refer_to_id: Option<Uuid>,
    pub referral_code: Option<String>,
    pub status: ClaimStatus,
    pub review_status: ReviewStatus,
    pub feedback_status: ReviewStatus,
    /// Claim level: 0 checked; 9, 7, 21 for the dates or the insuree; 1 every line rejected.
    #[schema(value_type = Option<i16>)]
    pub rejection_reason: Option<Reason>,
    /// The decision in a sentence.
    pub decision: Option<String>,
    #[schema(value_type = Option<String>)]
    pub category: Option<Category>,
    pub flags: Vec<Flag>,
    /// Σ quantity × asked price, minor units.
    pub claimed: i64,
    pub approved: Option<i64>,
    pub valuated: Option<i64>,
    pub remunerated: Option<i64>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub submitted_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub processed_at: Option<OffsetDateTime>,
    /// Bima's risk score at submission, 0–100 (see `claim::rules::review`).
    pub risk: Option<i64>,
    /// The medical officer the review is assigned to.
    pub reviewer_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub review_selected_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub reviewed_at: Option<OffsetDateTime>,
    /// The reviewer's note on the claim.
    pub adjustment: Option<String>,
    /// Feedback asked of an officer, and the answer.
    pub feedback: Option<Feedback>,
    /// The batch run that valuated it (relative prices).
    pub batch_run_id: Option<Uuid>,
    pub items: Vec<ClaimLine>,
    pub services: Vec<ClaimLine>,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Claim {
    /// The claim as a list shows it.
    pub fn summary(self) -> ClaimSummary {
        ClaimSummary {
            id: self.id,
            code: self.code,
            health_facility_id: self.health_facility_id,
            district_id: self.district_id,
            insuree_id: self.insuree_id,
            chfid: self.chfid,
            date_claimed: self.date_claimed,
            date_from: self.date_from,
            date_to: self.date_to,
            status: self.status,
            review_status: self.review_status,
            rejection_reason: self.rejection_reason,
            claimed: self.claimed,
            approved: self.approved,
            version: self.version,
        }
    }
}

/// A claim in a list: the header without its lines.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClaimSummary {
    pub id: Uuid,
    pub code: String,
    pub health_facility_id: Uuid,
    /// The facility's district: who may see the claim.
    pub district_id: Uuid,
    pub insuree_id: Uuid,
    pub chfid: String,
    pub date_claimed: Date,
    pub date_from: Date,
    pub date_to: Option<Date>,
    pub status: ClaimStatus,
    pub review_status: ReviewStatus,
    #[schema(value_type = Option<i16>)]
    pub rejection_reason: Option<Reason>,
    pub claimed: i64,
    pub approved: Option<i64>,
    pub version: i64,
}

/// `POST /api/v1/claims/submit` and `/process`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitInput {
    /// Claim ids.
    pub claims: Vec<Uuid>,
}

/// What a submission or processing did to one claim.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubmitResult {
    pub id: Uuid,
    pub code: String,
    /// False when the claim was not in the status the step takes (entered to submit, checked to
    /// process); it is left as it was.
    pub submitted: bool,
    pub status: ClaimStatus,
    /// The decision in a sentence, or why it was not submitted.
    pub detail: String,
    pub claim: Claim,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubmitResults {
    pub results: Vec<SubmitResult>,
}

/// Feedback on a claim: asked of an enrolment officer, answered after talking to the patient.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Feedback {
    pub officer_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub answered_at: Option<OffsetDateTime>,
    pub care_rendered: Option<bool>,
    pub payment_asked: Option<bool>,
    pub drug_prescribed: Option<bool>,
    pub drug_received: Option<bool>,
    /// 0 (bad) – 5 (excellent).
    pub assessment: Option<i64>,
    pub feedback_date: Option<Date>,
}

/// `POST /api/v1/claims/review/select`: these claims go to review.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SelectInput {
    pub claims: Vec<Uuid>,
    /// The medical officer who reviews them.
    #[serde(default)]
    pub officer_id: Option<Uuid>,
}

/// `POST /api/v1/claims/review/draw`: select checked claims not yet selected that meet any of
/// the criteria given.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DrawInput {
    /// This share of the claims, at random.
    #[serde(default)]
    pub random_percent: Option<i64>,
    /// Claims approved for at least this much (minor units).
    #[serde(default)]
    pub amount_at_least: Option<i64>,
    /// Claims whose risk score is at least this.
    #[serde(default)]
    pub risk_at_least: Option<i64>,
    /// Claims flagged at submission.
    #[serde(default)]
    pub flagged: bool,
    #[serde(default)]
    pub health_facility_id: Option<Uuid>,
    /// Visits on or after / before this day.
    #[serde(default)]
    pub date_from: Option<Date>,
    #[serde(default)]
    pub date_to: Option<Date>,
    #[serde(default)]
    pub officer_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DrawResult {
    /// How many checked, unselected claims were looked at.
    pub considered: i64,
    pub selected: Vec<Uuid>,
}

/// One line's review.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineReviewInput {
    /// The line's id.
    pub id: Uuid,
    /// Reject the line (reason −1, the medical officer).
    #[serde(default)]
    pub reject: bool,
    #[serde(default)]
    pub qty_approved: Option<i64>,
    /// Minor units per unit.
    #[serde(default)]
    pub price_approved: Option<i64>,
    /// Required with any change.
    #[serde(default)]
    pub justification: Option<String>,
}

/// `POST /api/v1/claims/{id}/review`: a medical officer's review of a checked claim.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    #[serde(default)]
    pub items: Vec<LineReviewInput>,
    #[serde(default)]
    pub services: Vec<LineReviewInput>,
    /// A note on the claim.
    #[serde(default)]
    pub adjustment: Option<String>,
    /// The version you read.
    #[serde(default)]
    pub version: Option<i64>,
}

/// The review queue and its figures.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReviewQueue {
    /// The officer whose queue it is; none: claims selected for nobody in particular.
    pub officer_id: Option<Uuid>,
    /// Claims selected and not yet reviewed.
    pub open: i64,
    /// Days since the oldest open claim was selected.
    pub oldest_days: Option<i64>,
    /// Average days open claims have waited.
    pub average_age_days: Option<f64>,
    /// Reviews delivered in the last 30 days, and their average days from selection to review.
    pub delivered_30_days: i64,
    pub average_turnaround_days: Option<f64>,
    /// The open claims, oldest selection first (at most 100).
    pub claims: Vec<ClaimSummary>,
}

/// `POST /api/v1/claims/{id}/feedback/request`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequestInput {
    /// The enrolment officer who will ask the patient.
    #[serde(default)]
    pub officer_id: Option<Uuid>,
}

/// `POST /api/v1/claims/{id}/feedback`: what the patient said.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackInput {
    pub care_rendered: bool,
    pub payment_asked: bool,
    pub drug_prescribed: bool,
    pub drug_received: bool,
    /// 0 (bad) – 5 (excellent).
    pub assessment: i64,
    /// Default: today.
    #[serde(default)]
    pub feedback_date: Option<Date>,
    #[serde(default)]
    pub officer_id: Option<Uuid>,
}

kernel::code_enum! {
    /// Where a batch run is: running (or interrupted, resumed at the next start), done, failed.
    BatchStatus { Running = "running", Done = "done", Failed = "failed" }
}

/// `POST /api/v1/batch-runs`: value the month's relative-price claims of a region, a district
/// or the nation.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRunInput {
    pub year: i32,
    /// 1–12; the month must be over.
    pub month: u8,
    /// A region or district; none: the national products.
    #[serde(default)]
    pub location_id: Option<Uuid>,
}

/// A batch run and its progress.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BatchRun {
    pub id: Uuid,
    pub location_id: Option<Uuid>,
    pub year: i32,
    pub month: u8,
    pub status: BatchStatus,
    /// 0–100.
    pub progress: i64,
    pub claims_valuated: i64,
    pub error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub run_date: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    pub indexes: Vec<RelativeIndex>,
    pub version: i64,
}

/// A product's relative-price index in a run.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RelativeIndex {
    pub product_id: Uuid,
    /// B both, I in-patient, O out-patient.
    pub care_type: String,
    pub period_start: Date,
    pub period_end: Date,
    /// Contributions earned over the period (minor units).
    pub allocated: i64,
    /// The share distributed to relative-price claims.
    pub percent: i64,
    /// The valuated amounts of the relative-price lines of the period.
    pub claimed_points: i64,
    pub rel_index: f64,
}

/// What a batch run paid one facility.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FacilityStatement {
    pub health_facility_id: Uuid,
    pub code: String,
    pub name: String,
    pub claims: i64,
    pub approved: i64,
    pub valuated: i64,
    pub remunerated: i64,
}

/// A facility's capitation payment for a product in a batch run.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CapitationPayment {
    pub product_id: Uuid,
    pub health_facility_id: Uuid,
    /// The six factors' quantities: population, families and the insured ×100 (catchment
    /// percentages keep two decimals); visits and the adjusted amount as counted.
    pub population: i64,
    pub families: i64,
    pub insured_insurees: i64,
    pub insured_families: i64,
    pub visits: i64,
    pub adjusted: i64,
    /// What each factor pays (minor units), and the sum.
    pub amount_population: i64,
    pub amount_families: i64,
    pub amount_insured_insurees: i64,
    pub amount_insured_families: i64,
    pub amount_visits: i64,
    pub amount_adjusted: i64,
    pub payment: i64,
}

/// A document attached to a claim (its bytes are fetched separately).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Attachment {
    pub id: Uuid,
    pub claim_id: Uuid,
    pub title: String,
    pub filename: Option<String>,
    /// application/pdf, image/jpeg or image/png.
    pub content_type: String,
    pub size: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}
