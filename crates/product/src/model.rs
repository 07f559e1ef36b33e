//! Products (insurance plans) as the scheme names them: the header terms (§4.1), the items and
//! services covered (§4.2) and the relative distribution of contributions (§4.3).
//!
//! Units: money is `i64` minor units (12.50 → 1250); percentages are whole percents 0–100;
//! periods are months. The header is grouped in nested objects (`periods`, `premium`,
//! `deductibles`, `ceilings`, `limits`, `capitation`) whose numeric fields map one to one onto
//! columns of `products` (the column names are the CSV export's header).

use location::model::{FacilityLevel, FacilitySubLevel};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// A group of numeric header terms: each field is one column, one CSV column, and a JSON field
/// of the group. Every field may be omitted (0 or none).
macro_rules! terms_group {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident: $ty:ty = $column:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, sqlx::FromRow)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fmeta])* #[serde(default)] #[sqlx(rename = $column)] pub $field: $ty,)+
        }

        impl $name {
            /// The columns of this group, in field order.
            pub const COLUMNS: &'static [&'static str] = &[$($column),+];

            /// The values of this group, in the order of [`Self::COLUMNS`].
            pub fn values(&self) -> Vec<Option<i64>> {
                vec![$(Option::<i64>::from(self.$field)),+]
            }
        }
    };
}

terms_group! {
    /// Periods, in months.
    Periods {
        /// Months a policy lasts (12 = one year). Required, above 0.
        insurance_period: i64 = "insurance_period",
        /// Months added to the enrolment date before a cycle is chosen (new policies only).
        administration_period: Option<i64> = "administration_period",
        max_installments: Option<i64> = "max_installments",
        /// Enrolment grace around the cycle start dates.
        grace_period_enrolment: Option<i64> = "grace_period_enrolment",
        grace_period_renewal: Option<i64> = "grace_period_renewal",
        /// Time allowed to pay in the free-cycle mode (openIMIS column `WaitingPeriod`).
        grace_period_payment: Option<i64> = "grace_period_payment",
        /// Legacy, unused by the core.
        recurrence: Option<i64> = "recurrence",
    }
}

terms_group! {
    /// The value of a policy: money in minor units, discounts in percent and months.
    Premium {
        lump_sum: i64 = "lump_sum",
        /// Most members a policy covers. Required, above 0.
        max_members: i64 = "max_members",
        /// Members included in the lump sum (required with a lump sum; at most `max_members`).
        threshold: Option<i64> = "threshold",
        adult: Option<i64> = "premium_adult",
        child: Option<i64> = "premium_child",
        registration_lump_sum: Option<i64> = "registration_lump_sum",
        /// Per member.
        registration_fee: Option<i64> = "registration_fee",
        general_assembly_lump_sum: Option<i64> = "general_assembly_lump_sum",
        /// Per member.
        general_assembly_fee: Option<i64> = "general_assembly_fee",
        enrolment_discount_percent: Option<i64> = "enrolment_discount_percent",
        enrolment_discount_period: Option<i64> = "enrolment_discount_period",
        renewal_discount_percent: Option<i64> = "renewal_discount_percent",
        renewal_discount_period: Option<i64> = "renewal_discount_period",
    }
}

terms_group! {
    /// Deductibles (minor units): "all" care, or in-patient and out-patient, per insuree, per
    /// treatment (claim) or per policy. "All" cannot be combined with IP/OP of the same scope.
    Deductibles {
        insuree: Option<i64> = "ded_insuree",
        ip_insuree: Option<i64> = "ded_ip_insuree",
        op_insuree: Option<i64> = "ded_op_insuree",
        treatment: Option<i64> = "ded_treatment",
        ip_treatment: Option<i64> = "ded_ip_treatment",
        op_treatment: Option<i64> = "ded_op_treatment",
        policy: Option<i64> = "ded_policy",
        ip_policy: Option<i64> = "ded_ip_policy",
        op_policy: Option<i64> = "ded_op_policy",
    }
}

terms_group! {
    /// Ceilings (minor units), the same grid as the deductibles, plus the policy-ceiling increase
    /// per member above the threshold and its absolute cap.
    Ceilings {
        insuree: Option<i64> = "max_insuree",
        ip_insuree: Option<i64> = "max_ip_insuree",
        op_insuree: Option<i64> = "max_op_insuree",
        treatment: Option<i64> = "max_treatment",
        ip_treatment: Option<i64> = "max_ip_treatment",
        op_treatment: Option<i64> = "max_op_treatment",
        policy: Option<i64> = "max_policy",
        ip_policy: Option<i64> = "max_ip_policy",
        op_policy: Option<i64> = "max_op_policy",
        extra_member: Option<i64> = "max_policy_extra_member",
        extra_member_ip: Option<i64> = "max_policy_extra_member_ip",
        extra_member_op: Option<i64> = "max_policy_extra_member_op",
        policy_cap: Option<i64> = "max_ceiling_policy",
        policy_cap_ip: Option<i64> = "max_ceiling_policy_ip",
        policy_cap_op: Option<i64> = "max_ceiling_policy_op",
    }
}

terms_group! {
    /// Per insuree per policy period: number of claims (`max_no_*`) and money (`max_amount_*`)
    /// by claim category; none = unlimited.
    Limits {
        max_no_consultation: Option<i64> = "max_no_consultation",
        max_no_surgery: Option<i64> = "max_no_surgery",
        max_no_delivery: Option<i64> = "max_no_delivery",
        max_no_hospitalization: Option<i64> = "max_no_hospitalization",
        max_no_visits: Option<i64> = "max_no_visits",
        max_no_antenatal: Option<i64> = "max_no_antenatal",
        max_amount_consultation: Option<i64> = "max_amount_consultation",
        max_amount_surgery: Option<i64> = "max_amount_surgery",
        max_amount_delivery: Option<i64> = "max_amount_delivery",
        max_amount_hospitalization: Option<i64> = "max_amount_hospitalization",
        max_amount_antenatal: Option<i64> = "max_amount_antenatal",
    }
}

terms_group! {
    /// Capitation: the weights (percent, summing to 100 when any is set) and the share of the
    /// allocated contributions used for capitation (percent).
    Capitation {
        weight_population: Option<i64> = "weight_population",
        weight_nb_families: Option<i64> = "weight_nb_families",
        weight_insured_population: Option<i64> = "weight_insured_population",
        weight_nb_insured_families: Option<i64> = "weight_nb_insured_families",
        weight_nb_visits: Option<i64> = "weight_nb_visits",
        weight_adjusted_amount: Option<i64> = "weight_adjusted_amount",
        share_contribution: Option<i64> = "share_contribution",
    }
}

impl Capitation {
    pub fn weights(&self) -> [(&'static str, Option<i64>); 6] {
        [
            ("weight_population", self.weight_population),
            ("weight_nb_families", self.weight_nb_families),
            ("weight_insured_population", self.weight_insured_population),
            (
                "weight_nb_insured_families",
                self.weight_nb_insured_families,
            ),
            ("weight_nb_visits", self.weight_nb_visits),
            ("weight_adjusted_amount", self.weight_adjusted_amount),
        ]
    }
}

kernel::code_enum! {
    /// Which ceiling the product applies: per Insuree, per Treatment, per Policy.
    CeilingType { Insuree = "I", Treatment = "T", Policy = "P" }
}

kernel::code_enum! {
    /// What makes a claim in-patient: I = the claim type (date_to ≠ date_from), H = the HF level (hospital).
    CeilingInterpretation { ClaimType = "I", FacilityType = "H" }
}

kernel::code_enum! {
    /// Distribution period of relative prices: Month, Quarter, Year.
    RelPricePeriod { Month = "M", Quarter = "Q", Year = "Y" }
}

impl RelPricePeriod {
    /// The period of a distribution with this many periods (1, 4 or 12).
    pub fn from_len(len: usize) -> Option<Self> {
        match len {
            1 => Some(RelPricePeriod::Year),
            4 => Some(RelPricePeriod::Quarter),
            12 => Some(RelPricePeriod::Month),
            _ => None,
        }
    }
}

kernel::code_enum! {
    /// Care type of a relative distribution: Both, In-patient, Out-patient.
    DistributionCareType { Both = "B", InPatient = "I", OutPatient = "O" }
}

kernel::code_enum! {
    /// P: the scheme's price (HF price list); O: the provider's own price; R: relative price (batch run).
    PriceOrigin { Schema = "P", Own = "O", Relative = "R" }
}

kernel::code_enum! {
    /// C: co-insurance (limit = percent paid by the insurer); F: fixed amount (limit = most paid per unit).
    LimitationType { CoInsurance = "C", Fixed = "F" }
}

kernel::code_enum! {
    /// Excluded from the ceiling: H for hospital claims, N for non-hospital claims, B always.
    CeilingExclusion { Hospital = "H", NonHospital = "N", Both = "B" }
}

/// One capitation level: the HF level and optionally its sub-level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapitationLevel {
    pub level: FacilityLevel,
    #[serde(default)]
    pub sublevel: Option<FacilitySubLevel>,
}

/// The share of each period's allocated contributions distributed to relative-price claims of
/// one care type: 1 (year), 4 (quarters) or 12 (months) percentages summing to 100.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Distribution {
    pub care_type: DistributionCareType,
    pub periods: Vec<i64>,
}

/// The limit of one visit type of a coverage line: (field suffix, type, adult, child).
pub type VisitLimit = (
    &'static str,
    Option<LimitationType>,
    Option<i64>,
    Option<i64>,
);

/// Declare a coverage line (a product item or service): defaults price origin P, limitation C
/// with 100 percent (F: 0).
macro_rules! coverage_line {
    ($(#[$meta:meta])* $name:ident, $id:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            pub $id: Uuid,
            /// P (default), O or R.
            #[serde(default)]
            pub price_origin: Option<PriceOrigin>,
            /// Ordinary visits: C (default) or F.
            #[serde(default)]
            pub limitation_type: Option<LimitationType>,
            /// Referrals.
            #[serde(default)]
            pub limitation_type_r: Option<LimitationType>,
            /// Emergencies.
            #[serde(default)]
            pub limitation_type_e: Option<LimitationType>,
            /// C: percent paid by the insurer (0–100, default 100); F: most paid per unit, minor units (default 0).
            #[serde(default)]
            pub limit_adult: Option<i64>,
            #[serde(default)]
            pub limit_child: Option<i64>,
            #[serde(default)]
            pub limit_adult_r: Option<i64>,
            #[serde(default)]
            pub limit_child_r: Option<i64>,
            #[serde(default)]
            pub limit_adult_e: Option<i64>,
            #[serde(default)]
            pub limit_child_e: Option<i64>,
            /// Months without coverage after the insuree's policy takes effect.
            #[serde(default)]
            pub waiting_period_adult: Option<i64>,
            #[serde(default)]
            pub waiting_period_child: Option<i64>,
            /// Most units per insuree per policy period.
            #[serde(default)]
            pub limit_no_adult: Option<i64>,
            #[serde(default)]
            pub limit_no_child: Option<i64>,
            #[serde(default)]
            pub ceiling_exclusion_adult: Option<CeilingExclusion>,
            #[serde(default)]
            pub ceiling_exclusion_child: Option<CeilingExclusion>,
        }

        impl $name {
            /// The line with §4.1's defaults filled in.
            pub fn with_defaults(mut self) -> Self {
                fn limit(kind: Option<LimitationType>, value: Option<i64>) -> Option<i64> {
                    value.or(Some(match kind {
                        Some(LimitationType::Fixed) => 0,
                        _ => 100,
                    }))
                }
                self.price_origin = self.price_origin.or(Some(PriceOrigin::Schema));
                self.limitation_type = self.limitation_type.or(Some(LimitationType::CoInsurance));
                self.limitation_type_r = self.limitation_type_r.or(Some(LimitationType::CoInsurance));
                self.limitation_type_e = self.limitation_type_e.or(Some(LimitationType::CoInsurance));
                self.limit_adult = limit(self.limitation_type, self.limit_adult);
                self.limit_child = limit(self.limitation_type, self.limit_child);
                self.limit_adult_r = limit(self.limitation_type_r, self.limit_adult_r);
                self.limit_child_r = limit(self.limitation_type_r, self.limit_child_r);
                self.limit_adult_e = limit(self.limitation_type_e, self.limit_adult_e);
                self.limit_child_e = limit(self.limitation_type_e, self.limit_child_e);
                self
            }

            pub fn line_id(&self) -> Uuid {
                self.$id
            }

            /// The limits by visit type: (field suffix, type, adult, child).
            pub fn limits(&self) -> [VisitLimit; 3] {
                [
                    ("", self.limitation_type, self.limit_adult, self.limit_child),
                    ("_r", self.limitation_type_r, self.limit_adult_r, self.limit_child_r),
                    ("_e", self.limitation_type_e, self.limit_adult_e, self.limit_child_e),
                ]
            }

            pub fn counts(&self) -> [(&'static str, Option<i64>); 4] {
                [
                    ("waiting_period_adult", self.waiting_period_adult),
                    ("waiting_period_child", self.waiting_period_child),
                    ("limit_no_adult", self.limit_no_adult),
                    ("limit_no_child", self.limit_no_child),
                ]
            }
        }
    };
}

coverage_line!(
    /// A medical item covered by the product.
    ProductItem,
    item_id
);
coverage_line!(
    /// A medical service covered by the product.
    ProductService,
    service_id
);

/// What a client sends to create or change a product; also the body of a product as read.
/// Money is in minor units (12.50 → 1250), percentages are whole percents 0–100, periods are
/// months. Items, services and the relative distribution are replaced as a whole on a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    /// At most 8 characters, unique among current products.
    pub code: String,
    /// At most 100 characters.
    pub name: String,
    /// A region or a district; none = a national product.
    #[serde(default)]
    pub location_id: Option<Uuid>,
    pub date_from: Date,
    pub date_to: Date,
    /// The product a policy of this one renews into.
    #[serde(default)]
    pub conversion_product_id: Option<Uuid>,
    #[serde(default)]
    pub periods: Periods,
    /// Up to 4 cycle start dates "DD-MM"; any set = the product has cycles.
    #[serde(default)]
    pub start_cycles: Vec<String>,
    #[serde(default)]
    pub premium: Premium,
    #[serde(default)]
    pub deductibles: Deductibles,
    #[serde(default)]
    pub ceilings: Ceilings,
    #[serde(default)]
    pub ceiling_type: Option<CeilingType>,
    pub ceiling_interpretation: CeilingInterpretation,
    #[serde(default)]
    pub limits: Limits,
    /// Up to 4 capitation levels.
    #[serde(default)]
    pub capitation_levels: Vec<CapitationLevel>,
    #[serde(default)]
    pub capitation: Capitation,
    #[serde(default)]
    pub acc_code_premiums: Option<String>,
    #[serde(default)]
    pub acc_code_remuneration: Option<String>,
    #[serde(default)]
    pub items: Vec<ProductItem>,
    #[serde(default)]
    pub services: Vec<ProductService>,
    /// Per care type at most one list; sets `period_rel_prices{,_ip,_op}`.
    #[serde(default)]
    pub relative_distribution: Vec<Distribution>,
    /// Required when changing: the version you read (a stale one is refused with 409).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

/// The terms as part of a stored product: [`ProductInput`]'s schema without its ban on other
/// fields (a request may not carry unknown fields; the stored product has its id and dates).
fn open_terms() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::{RefOr, schema::Schema};
    match <ProductInput as utoipa::PartialSchema>::schema() {
        RefOr::T(Schema::Object(mut object)) => {
            object.additional_properties = None;
            RefOr::T(Schema::Object(object))
        }
        other => other,
    }
}

/// A product as stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Product {
    pub id: Uuid,
    #[serde(flatten)]
    #[schema(schema_with = open_terms)]
    pub terms: ProductInput,
    /// Set from the relative distribution of care type B, I and O (Y/Q/M).
    pub period_rel_prices: Option<RelPricePeriod>,
    pub period_rel_prices_ip: Option<RelPricePeriod>,
    pub period_rel_prices_op: Option<RelPricePeriod>,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A new code and name for a copy of a product.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ProductCopyInput)]
pub struct DuplicateInput {
    pub code: String,
    pub name: String,
}
