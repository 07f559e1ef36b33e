//! The insured population of a demo scheme: exactly N families in the villages, written in
//! large multi-row batches, all in one transaction: an interrupted run leaves no household
//! behind. Into an empty registry the rows go in first and the secondary indexes of families and
//! insurees are built after them (`store::bulk`), several times faster than keeping a million
//! random names in order row by row.

use crate::people::{self, Gender as PersonGender, Relation};
use kernel::{Actor, audit};
use rand::SeedableRng;
use rand::rngs::StdRng;
use registry::model::*;
use store::Db;
use store::bulk::DeferredIndexes;
use uuid::Uuid;

/// Families per multi-row batch (and per audit record).
const BATCH: u64 = 2_000;

/// What to build: how many families, from which seed, as of which day, where, in which product.
pub struct Request<'a> {
    pub families: u64,
    pub seed: u64,
    pub today: time::Date,
    pub places: &'a crate::places::Places,
    /// The product every family is enrolled in (none: no policies).
    pub product: Option<&'a product::model::Product>,
    /// Makes the families' claims (none: no claims).
    pub claims: Option<crate::claims::ClaimMaker<'a>>,
    pub show_progress: bool,
}

/// Build `families` families; answers the number of insurees and of claims.
pub async fn build(db: &Db, actor: &Actor, request: Request<'_>) -> anyhow::Result<(u64, u64)> {
    let Request {
        families,
        seed,
        today,
        places,
        product,
        mut claims,
        show_progress,
    } = request;
    let (villages, facilities) = (&places.villages, &places.facilities);
    let bar = if show_progress {
        indicatif::ProgressBar::new(families)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "families {wide_bar} {pos}/{len} ({per_sec}, {eta} left) {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut rng = StdRng::seed_from_u64(seed);
    let mut serial = 0u64;
    let mut insurees_total = 0u64;
    let mut claims_total = 0u64;
    let mut done = 0u64;
    let mut tx = db.begin().await?;
    let deferred = if registry::store::registry_is_empty(&mut tx).await? {
        vec![
            DeferredIndexes::drop_for_load(&mut tx, "families").await?,
            DeferredIndexes::drop_for_load(&mut tx, "insurees").await?,
            DeferredIndexes::drop_for_load(&mut tx, "policies").await?,
            DeferredIndexes::drop_for_load(&mut tx, "insuree_policies").await?,
            DeferredIndexes::drop_for_load(&mut tx, "contributions").await?,
            DeferredIndexes::drop_for_load(&mut tx, "claims").await?,
            DeferredIndexes::drop_for_load(&mut tx, "claim_lines").await?,
            DeferredIndexes::drop_for_load(&mut tx, "claim_ded_rem").await?,
        ]
    } else {
        Vec::new()
    };
    let mut maker = product.map(|p| crate::policies::PolicyMaker::new(p, today, seed));
    while done < families {
        let n = BATCH.min(families - done);
        let mut family_rows = Vec::with_capacity(n as usize);
        let mut insuree_rows = Vec::with_capacity(n as usize * 5);
        let mut policy_rows = Vec::with_capacity(n as usize);
        let mut window_rows = Vec::with_capacity(n as usize * 5);
        let mut contribution_rows = Vec::with_capacity(n as usize);
        let mut made = crate::claims::Made::default();
        for f in 0..n {
            let first_member = insuree_rows.len();
            let (village, district) = villages[((done + f) % villages.len() as u64) as usize];
            let fsp = facilities
                .iter()
                .find(|(_, d)| *d == district)
                .map(|(id, _)| *id);
            let now = audit::now_micros();
            let family_id = Uuid::now_v7();
            let mut head_id = None;
            for person in people::household(&mut rng, today) {
                serial += 1;
                let id = Uuid::now_v7();
                if person.relation == Relation::Head {
                    head_id = Some(id);
                }
                insuree_rows.push(Insuree {
                    id,
                    family_id: Some(family_id),
                    chfid: people::insurance_number(serial),
                    last_name: person.last_name,
                    other_names: person.other_names,
                    gender: match person.gender {
                        PersonGender::Male => Gender::Male,
                        PersonGender::Female => Gender::Female,
                    },
                    dob: person.dob,
                    head: person.relation == Relation::Head,
                    marital: None,
                    relationship: person.relation.openimis_code().map(|c| c as i16),
                    profession: None,
                    education: None,
                    passport: None,
                    type_of_id: None,
                    phone: None,
                    email: None,
                    current_address: None,
                    geolocation: None,
                    current_village_id: None,
                    health_facility_id: fsp,
                    card_issued: false,
                    status: InsureeStatus::Active,
                    status_date: None,
                    status_reason: None,
                    photo_date: None,
                    district_id: Some(district),
                    is_offline: false,
                    version: 1,
                    created_at: now,
                    updated_at: now,
                });
            }
            family_rows.push(Family {
                id: family_id,
                head_insuree_id: head_id,
                location_id: village,
                district_id: district,
                poverty: Some(false),
                family_type: Some(FamilyType::Household),
                address: None,
                ethnicity: None,
                confirmation_no: None,
                confirmation_type: None,
                is_offline: false,
                version: 1,
                created_at: now,
                updated_at: now,
            });
            if let (Some(maker), Some(family)) = (maker.as_mut(), family_rows.last()) {
                let enrolled = maker.enrol(family, &insuree_rows[first_member..])?;
                if let Some(claims) = claims.as_mut() {
                    let members = &insuree_rows[first_member..];
                    claims.family(done + f, family, members, Some(&enrolled), &mut made);
                }
                policy_rows.push(enrolled.policy);
                window_rows.extend(enrolled.insurees);
                contribution_rows.extend(enrolled.contributions);
            }
        }
        registry::store::insert_families_bulk(&mut tx, &family_rows).await?;
        registry::store::insert_insurees_bulk(&mut tx, &insuree_rows).await?;
        policy::store::insert_policies_bulk(&mut tx, &policy_rows).await?;
        policy::store::insert_insuree_policies(&mut tx, &window_rows).await?;
        policy::store::insert_contributions(&mut tx, &contribution_rows).await?;
        claim::store::insert_claims_bulk(&mut tx, &made.claims).await?;
        claim::store::insert_ledger_bulk(&mut tx, &made.ledger).await?;
        // One audit record per batch: who built which synthetic families.
        let summary = serde_json::json!({
            "families": family_rows.len(),
            "insurees": insuree_rows.len(),
            "policies": policy_rows.len(),
            "claims": made.claims.len(),
            "first_family": family_rows.first().map(|f| f.id),
            "last_family": family_rows.last().map(|f| f.id),
            "seed": seed,
        });
        audit::append(
            &mut tx,
            actor,
            "demo_batch",
            Uuid::now_v7(),
            "demo",
            None::<&()>,
            Some(&summary),
        )
        .await?;
        insurees_total += insuree_rows.len() as u64;
        claims_total += made.claims.len() as u64;
        done += n;
        bar.set_position(done);
    }
    bar.set_message("indexing");
    for indexes in deferred {
        indexes.rebuild(&mut tx).await?;
    }
    tx.commit().await?;
    bar.finish_and_clear();
    Ok((insurees_total, claims_total))
}
