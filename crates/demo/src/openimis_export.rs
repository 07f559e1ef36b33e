//! `bima demo --openimis-export DIR --families N`: a synthetic openIMIS export of exactly N
//! families, one CSV per legacy table with openIMIS's own column names, codes and formats (as
//! `\copy (select * from "tblX") to 'tblX.csv' with (format csv, header true)` writes them).
//! It is what `bima import openimis DIR` is measured and tested on at a national size.
//!
//! The scheme: regions, districts, wards and villages sized like the demo (`places::shape`), a
//! district hospital and a health centre per district, an enrolment officer per district, one
//! national product, and the families with their members (`people::household`), each holding
//! one policy of that product (85 % active and paid, the rest idle), its insuree policies and,
//! when active, its premium. As in a live openIMIS database, the export also holds history:
//! one insuree in ten has an older version of their row (ValidityTo set, LegacyID naming the
//! current row), every active policy its idle version from before it was paid, and one family
//! in fifty a member deleted in openIMIS (a closed row without LegacyID).

use crate::people::{self, Relation};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use time::{Date, Duration};

/// Rows written per table file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Exported {
    pub tables: Vec<(&'static str, u64)>,
}

impl Exported {
    pub fn rows(&self, table: &str) -> u64 {
        self.tables
            .iter()
            .find(|(t, _)| *t == table)
            .map_or(0, |(_, n)| *n)
    }
}

impl std::fmt::Display for Exported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .tables
            .iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect();
        write!(f, "{}", parts.join(", "))
    }
}

/// One table's CSV file and its row count.
struct Table {
    name: &'static str,
    out: csv::Writer<BufWriter<File>>,
    rows: u64,
}

impl Table {
    fn create(dir: &Path, name: &'static str, header: &[&str]) -> anyhow::Result<Table> {
        let file = File::create(dir.join(format!("{name}.csv")))?;
        let mut out = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, file));
        out.write_record(header)?;
        Ok(Table { name, out, rows: 0 })
    }

    fn row(&mut self, fields: &[&str]) -> anyhow::Result<()> {
        self.out.write_record(fields)?;
        self.rows += 1;
        Ok(())
    }

    fn finish(mut self, exported: &mut Exported) -> anyhow::Result<()> {
        self.out.flush()?;
        exported.tables.push((self.name, self.rows));
        Ok(())
    }
}

/// A UUID drawn from the seeded generator: the same seed gives the same export.
fn uuid(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.random())
        .into_uuid()
        .to_string()
}

/// A timestamp as openIMIS's PostgreSQL export writes it.
fn stamp(day: Date, seconds: u32) -> String {
    format!(
        "{day} {:02}:{:02}:{:02}+00",
        (seconds / 3600) % 24,
        (seconds / 60) % 60,
        seconds % 60
    )
}

const LOCATIONS: &[&str] = &[
    "ValidityFrom",
    "ValidityTo",
    "LegacyID",
    "LocationId",
    "LocationUUID",
    "LocationCode",
    "LocationName",
    "LocationType",
    "ParentLocationId",
];
const FACILITIES: &[&str] = &[
    "ValidityFrom",
    "ValidityTo",
    "LegacyID",
    "HfID",
    "HfUUID",
    "HFCode",
    "HFName",
    "HFLevel",
    "HFCareType",
    "OffLine",
    "LegalForm",
    "LocationId",
    "status",
];
const OFFICERS: &[&str] = &[
    "ValidityFrom",
    "ValidityTo",
    "LegacyID",
    "OfficerID",
    "OfficerUUID",
    "Code",
    "LastName",
    "OtherNames",
    "LocationId",
    "Phone",
];
const PRODUCTS: &[&str] = &[
    "ValidityFrom",
    "ValidityTo",
    "LegacyID",
    "ProdID",
    "ProdUUID",
    "ProductCode",
    "ProductName",
    "DateFrom",
    "DateTo",
    "LumpSum",
    "MemberCount",
    "GracePeriod",
    "CeilingInterpretation",
    "InsurancePeriod",
    "ShareContribution",
    "WeightPopulation",
];
const FAMILIES: &[&str] = &[
    "FamilyID",
    "FamilyUUID",
    "LegacyID",
    "Poverty",
    "FamilyAddress",
    "isOffline",
    "ValidityFrom",
    "ValidityTo",
    "FamilyType",
    "InsureeID",
    "LocationId",
];
const INSUREES: &[&str] = &[
    "InsureeID",
    "CHFID",
    "CardIssued",
    "DOB",
    "FamilyID",
    "Gender",
    "HFID",
    "InsureeUUID",
    "IsHead",
    "LastName",
    "LegacyID",
    "OtherNames",
    "Phone",
    "Relationship",
    "ValidityFrom",
    "ValidityTo",
    "isOffline",
    "status",
];
const POLICIES: &[&str] = &[
    "ValidityFrom",
    "ValidityTo",
    "LegacyID",
    "PolicyID",
    "PolicyUUID",
    "PolicyStage",
    "PolicyStatus",
    "PolicyValue",
    "EnrollDate",
    "StartDate",
    "EffectiveDate",
    "ExpiryDate",
    "isOffline",
    "FamilyID",
    "OfficerID",
    "ProdID",
];
const INSUREE_POLICIES: &[&str] = &[
    "ValidityFrom",
    "ValidityTo",
    "LegacyID",
    "InsureePolicyID",
    "EnrollmentDate",
    "StartDate",
    "EffectiveDate",
    "ExpiryDate",
    "isOffline",
    "InsureeID",
    "PolicyId",
];
const PREMIUMS: &[&str] = &[
    "PremiumId",
    "PremiumUUID",
    "LegacyID",
    "Amount",
    "Receipt",
    "PayDate",
    "PayType",
    "isPhotoFee",
    "isOffline",
    "ValidityFrom",
    "ValidityTo",
    "PayerID",
    "PolicyID",
];

/// The national product's yearly contribution for a family, as exported (10,000.00).
const POLICY_VALUE: &str = "10000.00";

/// Write the export of `families` families into `dir` (created if missing).
pub fn write(
    dir: &Path,
    families: u64,
    seed: u64,
    today: Date,
    show_progress: bool,
) -> anyhow::Result<Exported> {
    std::fs::create_dir_all(dir)?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut exported = Exported::default();
    let origin = stamp(Date::from_calendar_date(2017, time::Month::January, 1)?, 0);

    // Geography: ids in the order regions, districts, wards, villages.
    let (regions, districts, wards, villages) = crate::places::shape(families);
    let mut locations = Table::create(dir, "tblLocations", LOCATIONS)?;
    let mut next_location = 0u64;
    let mut level = |table: &mut Table,
                     rng: &mut StdRng,
                     count: usize,
                     kind: &str,
                     name: &str,
                     parents: &[u64]|
     -> anyhow::Result<Vec<u64>> {
        let mut ids = Vec::with_capacity(count);
        for i in 0..count {
            next_location += 1;
            let id = next_location.to_string();
            let parent = parents
                .get(i % parents.len().max(1))
                .map(u64::to_string)
                .unwrap_or_default();
            let code = format!("{kind}{}", i + 1);
            let label = format!("{name} {}", i + 1);
            table.row(&[
                &origin,
                "",
                "",
                &id,
                &uuid(rng),
                &code,
                &label,
                kind,
                &parent,
            ])?;
            ids.push(next_location);
        }
        Ok(ids)
    };
    let region_ids = level(&mut locations, &mut rng, regions, "R", "Region", &[])?;
    let district_ids = level(
        &mut locations,
        &mut rng,
        districts,
        "D",
        "District",
        &region_ids,
    )?;
    let ward_ids = level(&mut locations, &mut rng, wards, "W", "Ward", &district_ids)?;
    let village_ids = level(
        &mut locations,
        &mut rng,
        villages,
        "V",
        "Village",
        &ward_ids,
    )?;
    locations.finish(&mut exported)?;
    // A village's district: villages hang on wards round-robin, wards on districts.
    let district_of_village = |v: usize| (v % ward_ids.len()) % district_ids.len();

    // A hospital and a health centre per district; an enrolment officer per district.
    let mut facilities = Table::create(dir, "tblHF", FACILITIES)?;
    let mut officers = Table::create(dir, "tblOfficer", OFFICERS)?;
    for (d, district) in district_ids.iter().enumerate() {
        let district = district.to_string();
        let n = d + 1;
        let (hospital, centre) = ((2 * d + 1).to_string(), (2 * d + 2).to_string());
        facilities.row(&[
            &origin,
            "",
            "",
            &hospital,
            &uuid(&mut rng),
            &format!("HOS{n:05}"),
            &format!("District {n} Hospital"),
            "H",
            "B",
            "f",
            "G",
            &district,
            "AC",
        ])?;
        facilities.row(&[
            &origin,
            "",
            "",
            &centre,
            &uuid(&mut rng),
            &format!("HC{n:06}"),
            &format!("District {n} Health Centre"),
            "C",
            "O",
            "f",
            "G",
            &district,
            "AC",
        ])?;
        officers.row(&[
            &origin,
            "",
            "",
            &n.to_string(),
            &uuid(&mut rng),
            &format!("EO{n:05}"),
            people::SURNAMES[d % people::SURNAMES.len()],
            "Officer",
            &district,
            "",
        ])?;
    }
    facilities.finish(&mut exported)?;
    officers.finish(&mut exported)?;

    let mut products = Table::create(dir, "tblProduct", PRODUCTS)?;
    products.row(&[
        &origin,
        "",
        "",
        "1",
        &uuid(&mut rng),
        "NHI001",
        "National Health Insurance",
        "2017-01-01 00:00:00+00",
        "2035-12-31 00:00:00+00",
        POLICY_VALUE,
        "10",
        "0",
        "I",
        "12",
        "100.00",
        "100.00",
    ])?;
    products.finish(&mut exported)?;

    let bar = if show_progress {
        indicatif::ProgressBar::new(families)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "families {wide_bar} {pos}/{len} ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut family_file = Table::create(dir, "tblFamilies", FAMILIES)?;
    let mut insuree_file = Table::create(dir, "tblInsuree", INSUREES)?;
    let mut policy_file = Table::create(dir, "tblPolicy", POLICIES)?;
    let mut member_file = Table::create(dir, "tblInsureePolicy", INSUREE_POLICIES)?;
    let mut premium_file = Table::create(dir, "tblPremium", PREMIUMS)?;
    // openIMIS's integer ids: history rows take ids of their own, as openIMIS copies a row
    // before changing it.
    let (mut next_insuree, mut next_policy, mut next_member, mut next_premium) =
        (0u64, 0u64, 0u64, 0u64);
    let mut serial = 0u64;
    for f in 0..families {
        let family_id = (f + 1).to_string();
        let village = (f % village_ids.len() as u64) as usize;
        let d = district_of_village(village);
        let hospital = (2 * d + 1).to_string();
        let officer = (d + 1).to_string();
        // Registered in the last three years, during office hours.
        let registered = today - Duration::days(rng.random_range(400..1100));
        let registered_at = stamp(registered, rng.random_range(28_800..61_200));
        let household = people::household(&mut rng, today);
        let first_insuree = next_insuree + 1;
        let mut members = Vec::with_capacity(household.len());
        for person in &household {
            next_insuree += 1;
            serial += 1;
            let id = next_insuree.to_string();
            let chfid = people::insurance_number(serial);
            let head = person.relation == Relation::Head;
            let relationship = person
                .relation
                .openimis_code()
                .map(|c| c.to_string())
                .unwrap_or_default();
            let phone = if head {
                format!("+2557{:08}", rng.random_range(0..100_000_000u32))
            } else {
                String::new()
            };
            let dob = person.dob.to_string();
            let insuree_uuid = uuid(&mut rng);
            let fields = |legacy: &str, phone: &str, from: &str, to: &str| {
                [
                    id.clone(),
                    chfid.clone(),
                    "f".to_string(),
                    dob.clone(),
                    family_id.clone(),
                    person.gender.code().to_string(),
                    hospital.clone(),
                    insuree_uuid.clone(),
                    if head { "t" } else { "f" }.to_string(),
                    person.last_name.clone(),
                    legacy.to_string(),
                    person.other_names.clone(),
                    phone.to_string(),
                    relationship.clone(),
                    from.to_string(),
                    to.to_string(),
                    "f".to_string(),
                    "AC".to_string(),
                ]
            };
            if rng.random_ratio(1, 10) {
                // An older version: the phone number changed a year after registration.
                let changed = stamp(registered + Duration::days(365), 36_000);
                let current = fields("", &phone, &changed, "");
                insuree_file.row(&current.iter().map(String::as_str).collect::<Vec<_>>())?;
                next_insuree += 1;
                let mut old = fields(&id, "", &registered_at, &changed);
                old[0] = next_insuree.to_string();
                old[7] = uuid(&mut rng);
                insuree_file.row(&old.iter().map(String::as_str).collect::<Vec<_>>())?;
            } else {
                let current = fields("", &phone, &registered_at, "");
                insuree_file.row(&current.iter().map(String::as_str).collect::<Vec<_>>())?;
            }
            members.push(id);
        }
        if rng.random_ratio(1, 50) {
            // A member registered by mistake and deleted a week later.
            next_insuree += 1;
            serial += 1;
            let deleted = stamp(registered + Duration::days(7), 43_200);
            let person = &household[0];
            insuree_file.row(&[
                &next_insuree.to_string(),
                &people::insurance_number(serial),
                "f",
                &person.dob.to_string(),
                &family_id,
                person.gender.code(),
                &hospital,
                &uuid(&mut rng),
                "f",
                &person.last_name,
                "",
                &person.other_names,
                "",
                "4",
                &registered_at,
                &deleted,
                "f",
                "AC",
            ])?;
        }
        family_file.row(&[
            &family_id,
            &uuid(&mut rng),
            "",
            "f",
            &format!("House {} of village {}", f + 1, village + 1),
            "f",
            &registered_at,
            "",
            "H",
            &first_insuree.to_string(),
            &village_ids[village].to_string(),
        ])?;

        // The family's policy of this year: enrolled in the last ten months, active once paid.
        next_policy += 1;
        let policy_id = next_policy.to_string();
        let enrolled = today - Duration::days(rng.random_range(0..300));
        let expiry = enrolled
            .replace_year(enrolled.year() + 1)
            .unwrap_or(enrolled + Duration::days(365))
            - Duration::days(1);
        let enrolled_at = stamp(enrolled, rng.random_range(28_800..61_200));
        let active = rng.random_ratio(85, 100);
        let (start, end) = (enrolled.to_string(), expiry.to_string());
        let policy_uuid = uuid(&mut rng);
        if active {
            let paid_at = stamp(enrolled, 61_200);
            policy_file.row(&[
                &paid_at,
                "",
                "",
                &policy_id,
                &policy_uuid,
                "N",
                "2",
                POLICY_VALUE,
                &start,
                &start,
                &start,
                &end,
                "f",
                &family_id,
                &officer,
                "1",
            ])?;
            next_policy += 1;
            policy_file.row(&[
                &enrolled_at,
                &paid_at,
                &policy_id,
                &next_policy.to_string(),
                &uuid(&mut rng),
                "N",
                "1",
                POLICY_VALUE,
                &start,
                &start,
                "",
                &end,
                "f",
                &family_id,
                &officer,
                "1",
            ])?;
            next_premium += 1;
            premium_file.row(&[
                &next_premium.to_string(),
                &uuid(&mut rng),
                "",
                POLICY_VALUE,
                &format!("RC{next_premium:08}"),
                &start,
                "C",
                "f",
                "f",
                &paid_at,
                "",
                "",
                &policy_id,
            ])?;
        } else {
            policy_file.row(&[
                &enrolled_at,
                "",
                "",
                &policy_id,
                &policy_uuid,
                "N",
                "1",
                POLICY_VALUE,
                &start,
                &start,
                "",
                &end,
                "f",
                &family_id,
                &officer,
                "1",
            ])?;
        }
        let effective = if active { start.as_str() } else { "" };
        for member in &members {
            next_member += 1;
            member_file.row(&[
                &enrolled_at,
                "",
                "",
                &next_member.to_string(),
                &start,
                &start,
                effective,
                &end,
                "f",
                member,
                &policy_id,
            ])?;
        }
        if f % 1_000 == 999 {
            bar.set_position(f + 1);
        }
    }
    bar.finish_and_clear();
    family_file.finish(&mut exported)?;
    insuree_file.finish(&mut exported)?;
    policy_file.finish(&mut exported)?;
    member_file.finish(&mut exported)?;
    premium_file.finish(&mut exported)?;
    Ok(exported)
}
