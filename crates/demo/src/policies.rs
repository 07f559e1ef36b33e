//! The policies of a demo scheme: every family enrolled in the national product some time in the
//! last eleven months, most of them paid (active), some not yet (idle), some half paid. Dates and
//! values come from the policy module's own rules, so the demo shows what the product says.

use policy::model::{Contribution, InsureePolicy, PayType, Policy, PolicyStatus, Stage};
use policy::rules::period;
use policy::rules::value::{Member, ValueInput, policy_value};
use product::model::Product;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use registry::model::{Family, Insuree};
use time::{Date, Duration};
use uuid::Uuid;

/// Makes the policies of one demo run.
pub struct PolicyMaker<'a> {
    product: &'a Product,
    today: Date,
    rng: StdRng,
    receipts: u64,
}

/// One family's policy with its members' windows and its contributions.
pub struct Enrolled {
    pub policy: Policy,
    pub insurees: Vec<InsureePolicy>,
    pub contributions: Vec<Contribution>,
}

impl<'a> PolicyMaker<'a> {
    /// Its own random stream (from `seed`), so that adding policies leaves the people as they were.
    pub fn new(product: &'a Product, today: Date, seed: u64) -> Self {
        PolicyMaker {
            product,
            today,
            rng: StdRng::seed_from_u64(seed ^ 0x706f_6c69_6379),
            receipts: 0,
        }
    }

    pub fn enrol(&mut self, family: &Family, members: &[Insuree]) -> anyhow::Result<Enrolled> {
        let terms = &self.product.terms;
        let enroll =
            (self.today - Duration::days(self.rng.random_range(0..330))).max(terms.date_from);
        let span = period::policy_period(terms, Stage::New, enroll, None)
            .map_err(|e| anyhow::anyhow!("demo product {}: {e}", terms.code))?;
        let counted: Vec<Member> = members
            .iter()
            .map(|m| Member {
                dob: m.dob,
                relationship: m.relationship,
            })
            .collect();
        let value = policy_value(&ValueInput {
            product: terms,
            stage: Stage::New,
            members: &counted,
            enroll,
            start: span.start,
            previous_expiry: None,
        })
        .value;
        let roll = self.rng.random_range(0..100);
        let paid_on = (enroll + Duration::days(self.rng.random_range(0..7))).min(self.today);
        let (status, effective, paid) = match roll {
            0..85 => (PolicyStatus::Active, Some(paid_on.max(span.start)), value),
            85..95 => (PolicyStatus::Idle, None, 0),
            _ => (PolicyStatus::Idle, None, value / 2),
        };
        let now = kernel::audit::now_micros();
        let policy = Policy {
            id: Uuid::now_v7(),
            family_id: family.id,
            product_id: self.product.id,
            officer_id: None,
            previous_policy_id: None,
            stage: Stage::New,
            status,
            status_reason: None,
            value,
            enroll_date: enroll,
            start_date: span.start,
            effective_date: effective,
            expiry_date: span.expiry,
            district_id: family.district_id,
            is_offline: false,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let max = usize::try_from(terms.premium.max_members).unwrap_or(0);
        let insurees = members
            .iter()
            .take(max)
            .map(|m| InsureePolicy {
                id: Uuid::now_v7(),
                insuree_id: m.id,
                policy_id: policy.id,
                enrollment_date: enroll,
                start_date: span.start,
                effective_date: effective,
                expiry_date: span.expiry,
                is_offline: false,
                created_at: now,
                updated_at: now,
            })
            .collect();
        let mut contributions = Vec::new();
        if paid > 0 {
            self.receipts += 1;
            contributions.push(Contribution {
                id: Uuid::now_v7(),
                policy_id: policy.id,
                product_id: self.product.id,
                payer_id: None,
                amount: paid,
                receipt: format!("DEMO-{:08}", self.receipts),
                pay_date: paid_on,
                pay_type: if self.rng.random_bool(0.6) {
                    PayType::MobilePhone
                } else {
                    PayType::Cash
                },
                is_photo_fee: false,
                district_id: family.district_id,
                is_offline: false,
                version: 1,
                created_at: now,
                updated_at: now,
            });
        }
        Ok(Enrolled {
            policy,
            insurees,
            contributions,
        })
    }
}
