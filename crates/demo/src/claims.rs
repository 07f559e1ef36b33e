//! The claims of a demo scheme: visits of its families over the months before today, each
//! adjudicated and valued by the claims module's own rules (`claim::decide`, the same code the
//! service runs), so that a demo claim reads as a real one does. Visits of the last week are
//! left submitted (checked or rejected); older ones are processed: valuated, or waiting for the
//! month's batch run where a line is paid at the relative price.

use crate::policies::Enrolled;
use claim::decide;
use claim::model::*;
use claim::rules::valuation::{Ledger, Used};
use claim::rules::{self, ClaimFacts, History, LineKind, PastClaim, Provision};
use claim::store::{ClaimFacility, LedgerRow, PriceAsk, Priced, RegisterKey};
use product::model::Product;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use registry::model::{Family, Gender, Insuree};
use std::collections::HashMap;
use std::sync::Arc;
use store::Db;
use time::{Date, Duration, OffsetDateTime, Time};
use uuid::Uuid;

/// The ICD codes a demo scheme knows, and its claims are diagnosed with.
pub const DIAGNOSES: &[(&str, &str)] = &[
    ("A09", "Infectious gastroenteritis and colitis"),
    ("B54", "Unspecified malaria"),
    ("J06.9", "Acute upper respiratory infection"),
    ("O80", "Single spontaneous delivery"),
    ("K35.8", "Acute appendicitis"),
    ("Z34.9", "Supervision of normal pregnancy"),
];

/// A visit of the last this many days is left submitted, not yet processed.
const UNPROCESSED_DAYS: i64 = 7;

type PriceBook = HashMap<(LineKind, Uuid), Priced>;

/// What claims are made against: the facilities, as the rules see them, by district, with each
/// facility's prices.
struct Facilities {
    all: Vec<(ClaimFacility, rules::Facility, Arc<PriceBook>)>,
    by_district: HashMap<Uuid, Vec<usize>>,
    /// The hospitals among them.
    hospitals_by_district: HashMap<Uuid, Vec<usize>>,
}

/// Makes the claims of one demo run, family by family.
pub struct ClaimMaker<'a> {
    product: &'a Product,
    facilities: Arc<Facilities>,
    items: Vec<Uuid>,
    services: Vec<Uuid>,
    config: claim::service::Config,
    today: Date,
    rng: StdRng,
    /// Claims wanted over how many families.
    claims: u64,
    families: u64,
    serial: u64,
}

/// What the maker made for a batch of families.
#[derive(Default)]
pub struct Made {
    pub claims: Vec<Claim>,
    pub ledger: Vec<LedgerRow>,
}

impl<'a> ClaimMaker<'a> {
    /// Reads the facilities and their price lists once. `claims` claims over `families` families.
    pub async fn new(
        db: &Db,
        places: &crate::places::Places,
        product: &'a Product,
        (items, services): (&[Uuid], &[Uuid]),
        (claims, families): (u64, u64),
        today: Date,
        seed: u64,
    ) -> anyhow::Result<ClaimMaker<'a>> {
        let mut tx = db.read().await?;
        let mut books: HashMap<(Option<Uuid>, Option<Uuid>), Arc<PriceBook>> = HashMap::new();
        let mut facilities = Facilities {
            all: Vec::new(),
            by_district: HashMap::new(),
            hospitals_by_district: HashMap::new(),
        };
        for (id, district) in &places.facilities {
            let Some(f) = claim::store::facility(&mut tx, *id).await? else {
                continue;
            };
            let lists = (f.items_pricelist_id, f.services_pricelist_id);
            let book = match books.get(&lists) {
                Some(b) => b.clone(),
                None => {
                    let priced = claim::store::priced(
                        &mut tx,
                        &[
                            PriceAsk {
                                kind: LineKind::Item,
                                list: lists.0,
                                key: RegisterKey::Ids(items),
                            },
                            PriceAsk {
                                kind: LineKind::Service,
                                list: lists.1,
                                key: RegisterKey::Ids(services),
                            },
                        ],
                    )
                    .await?;
                    let book: Arc<PriceBook> = Arc::new(
                        priced
                            .into_iter()
                            .map(|(kind, p)| ((kind, p.id), p))
                            .collect(),
                    );
                    books.insert(lists, book.clone());
                    book
                }
            };
            let rules_facility = decide::rule_facility(&f);
            let at = facilities.all.len();
            facilities
                .by_district
                .entry(*district)
                .or_default()
                .push(at);
            if rules_facility.level == rules::FacilityLevel::Hospital {
                facilities
                    .hospitals_by_district
                    .entry(*district)
                    .or_default()
                    .push(at);
            }
            facilities.all.push((f, rules_facility, book));
        }
        Ok(ClaimMaker {
            product,
            facilities: Arc::new(facilities),
            items: items.to_vec(),
            services: services.to_vec(),
            config: claim::service::Config::default(),
            today,
            rng: StdRng::seed_from_u64(seed ^ 0x636c_6169_6d73),
            claims,
            families,
            serial: 0,
        })
    }

    /// The claims of family number `index` (from 0): its share of the claims wanted, each for
    /// one of its members.
    pub fn family(
        &mut self,
        index: u64,
        family: &Family,
        members: &[Insuree],
        enrolled: Option<&Enrolled>,
        out: &mut Made,
    ) {
        let share = |i: u64| {
            (i128::from(i) * i128::from(self.claims) / i128::from(self.families.max(1))) as u64
        };
        let count = share(index + 1) - share(index);
        if count == 0 || members.is_empty() {
            return;
        }
        let facilities = self.facilities.clone();
        let Some(sites) = facilities.by_district.get(&family.district_id) else {
            return;
        };
        let hospitals = facilities
            .hospitals_by_district
            .get(&family.district_id)
            .map_or(&[][..], Vec::as_slice);
        // What the family already received, and what its policy already paid, as the claims
        // are made (the rules measure limits and ceilings against them).
        let mut history: HashMap<Uuid, History> = HashMap::new();
        let mut used_by: HashMap<Uuid, Used> = HashMap::new();
        let mut used_policy = Used::default();
        for _ in 0..count {
            let member = &members[self.rng.random_range(0..members.len())];
            let window =
                enrolled.and_then(|e| e.insurees.iter().find(|w| w.insuree_id == member.id));
            let covered_from = window
                .and_then(|w| w.effective_date)
                .or(enrolled.map(|e| e.policy.enroll_date))
                .unwrap_or(self.today);
            let last = self.today - Duration::days(1);
            let first = covered_from.max(self.today - Duration::days(330)).min(last);
            let date_from =
                first + Duration::days(self.rng.random_range(0..=(last - first).whole_days()));
            let site = if !hospitals.is_empty() && self.rng.random_bool(0.3) {
                hospitals[self.rng.random_range(0..hospitals.len())]
            } else {
                sites[self.rng.random_range(0..sites.len())]
            };
            let (facility, rules_facility, book) = &facilities.all[site];
            let at_hospital = rules_facility.level == rules::FacilityLevel::Hospital;
            let date_to = (at_hospital && self.rng.random_bool(0.2))
                .then(|| (date_from + Duration::days(self.rng.random_range(1..=3))).min(last))
                .filter(|to| *to > date_from);
            self.serial += 1;
            let mut claim = self.entered(facility, member, book, date_from, date_to);
            let patient = rules::Patient {
                chfid: member.chfid.clone(),
                deleted: false,
                female: member.gender == Gender::Female,
                dob: member.dob,
            };
            let lines = decide::rule_lines(&claim, book);
            let covers: Vec<rules::Cover> = match (enrolled, window) {
                (Some(e), Some(w)) => decide::cover(&e.policy, w, &self.product.terms)
                    .into_iter()
                    .collect(),
                _ => Vec::new(),
            };
            let past = history.entry(member.id).or_default();
            let decision = rules::submit(&ClaimFacts {
                date_claimed: claim.date_claimed,
                date_from: claim.date_from,
                date_to: claim.date_to,
                visit_type: claim.visit_type,
                facility: rules_facility,
                patient: &patient,
                lines: &lines,
                covers: &covers,
                history: past,
            });
            let target = date_to.unwrap_or(date_from);
            let submitted = stamp(target, 10);
            decide::apply_decision(&mut claim, &decision, Vec::new(), &self.config, submitted);
            claim.created_at = stamp(date_from, 9);
            if claim.status != ClaimStatus::Checked {
                out.claims.push(claim);
                continue;
            }
            past.claims.push(PastClaim {
                category: claim.category,
                date: target,
            });
            for (kind, lines) in [
                (LineKind::Item, &claim.items),
                (LineKind::Service, &claim.services),
            ] {
                for l in lines.iter().filter(|l| l.status == LineStatus::Passed) {
                    past.provisions.push(Provision {
                        kind,
                        register_id: l.register_id,
                        date: target,
                        qty: l.qty_approved.unwrap_or(l.qty),
                    });
                }
            }
            if (self.today - target).whole_days() <= UNPROCESSED_DAYS {
                out.claims.push(claim);
                continue;
            }
            // Processed a few days after the visit, against the policy's ledger so far.
            let processed = stamp(
                (target + Duration::days(self.rng.random_range(2..6))).min(last),
                15,
            );
            let adult = decide::adult(&claim, member.dob);
            let (mut total, mut relative) = (0i64, false);
            for (policy_id, _, at) in decide::policy_lines(&claim) {
                let Some(e) = enrolled.filter(|e| e.policy.id == policy_id) else {
                    continue;
                };
                let members_on = e
                    .insurees
                    .iter()
                    .filter(|w| {
                        w.effective_date.is_some_and(|d| d <= target) && w.expiry_date >= target
                    })
                    .count() as i64;
                let treatment = decide::treatment(&claim, rules_facility.level, members_on);
                let ledger = Ledger {
                    insuree: used_by.get(&member.id).copied().unwrap_or_default(),
                    policy: used_policy,
                };
                let (used, valued, at_relative) = decide::value_policy_lines(
                    &mut claim,
                    &at,
                    &self.product.terms,
                    &treatment,
                    &ledger,
                    adult,
                );
                total = total.saturating_add(valued);
                relative |= at_relative;
                let mine = used_by.entry(member.id).or_default();
                *mine = mine.plus(&used);
                used_policy = used_policy.plus(&used);
                out.ledger.push(LedgerRow {
                    claim_id: claim.id,
                    policy_id,
                    insuree_id: member.id,
                    used,
                    created_at: processed,
                });
            }
            decide::finish_valuation(&mut claim, total, relative, processed);
            out.claims.push(claim);
        }
    }

    /// A claim as the facility entered it: a service (the visit itself) and up to four more
    /// lines of the registers, at the facility's prices.
    fn entered(
        &mut self,
        facility: &ClaimFacility,
        member: &Insuree,
        book: &PriceBook,
        date_from: Date,
        date_to: Option<Date>,
    ) -> Claim {
        let (mut items, mut services) = (Vec::new(), Vec::new());
        for n in 0..self.rng.random_range(1..=5) {
            let (kind, register_id, qty) = if n > 0 && self.rng.random_bool(0.65) {
                let id = self.items[self.rng.random_range(0..self.items.len())];
                (LineKind::Item, id, self.rng.random_range(1..=20))
            } else {
                let id = self.services[self.rng.random_range(0..self.services.len())];
                (LineKind::Service, id, 1)
            };
            let Some(p) = book.get(&(kind, register_id)) else {
                continue;
            };
            let lines = match kind {
                LineKind::Item => &mut items,
                LineKind::Service => &mut services,
            };
            if lines
                .iter()
                .any(|l: &ClaimLine| l.register_id == register_id)
            {
                continue;
            }
            lines.push(ClaimLine::entered(
                register_id,
                p.code.clone(),
                p.name.clone(),
                qty,
                p.list_price.unwrap_or(p.price),
                None,
            ));
        }
        let claimed = items
            .iter()
            .chain(&services)
            .map(|l| l.qty * l.price_asked)
            .sum();
        let created = stamp(date_from, 9);
        Claim {
            id: Uuid::now_v7(),
            code: format!("DM{:08}", self.serial),
            health_facility_id: facility.id,
            district_id: facility.location_id,
            insuree_id: member.id,
            chfid: member.chfid.clone(),
            admin_id: None,
            date_claimed: date_to.unwrap_or(date_from),
            date_from,
            date_to,
            visit_type: VisitType::Other,
            icd: DIAGNOSES[self.rng.random_range(0..DIAGNOSES.len())]
                .0
                .to_string(),
            secondary_icd: Vec::new(),
            explanation: None,
            guarantee_no: None,
            refer_from_id: None,
            refer_to_id: None,
            referral_code: None,
            status: ClaimStatus::Entered,
            review_status: ReviewStatus::Idle,
            feedback_status: ReviewStatus::Idle,
            rejection_reason: None,
            decision: None,
            category: None,
            flags: Vec::new(),
            claimed,
            approved: None,
            valuated: None,
            remunerated: None,
            submitted_at: None,
            processed_at: None,
            risk: None,
            reviewer_id: None,
            review_selected_at: None,
            reviewed_at: None,
            adjustment: None,
            feedback: None,
            batch_run_id: None,
            items,
            services,
            version: 1,
            created_at: created,
            updated_at: created,
        }
    }
}

/// `day` at `hour`:00 UTC.
fn stamp(day: Date, hour: u8) -> OffsetDateTime {
    day.with_time(Time::from_hms(hour, 0, 0).unwrap_or(Time::MIDNIGHT))
        .assume_utc()
}
