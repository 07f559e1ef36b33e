//! The geography and the health facilities of a synthetic scheme, sized to its families.

use kernel::{Actor, audit};
use location::model::*;
use store::Db;
use uuid::Uuid;

/// How many of each level a scheme of `families` families gets: about 250 families a village,
/// 5 villages a ward, 4 wards a district, 3 districts a region.
pub fn shape(families: u64) -> (usize, usize, usize, usize) {
    let villages = (families.div_ceil(250) as usize).max(4);
    let wards = villages.div_ceil(5).max(2);
    let districts = wards.div_ceil(4).max(2);
    let regions = districts.div_ceil(3).max(1);
    (regions, districts, wards, villages)
}

/// What the rest of the demo hangs on.
pub struct Places {
    pub regions: Vec<Uuid>,
    /// (district, its region)
    pub districts: Vec<(Uuid, Uuid)>,
    /// (village, its district)
    pub villages: Vec<(Uuid, Uuid)>,
    /// (ward, its district)
    pub wards: Vec<(Uuid, Uuid)>,
    /// (facility, its district)
    pub facilities: Vec<(Uuid, Uuid)>,
}

fn location(
    code: String,
    name: String,
    kind: LocationType,
    parent: Option<Uuid>,
    district: Option<Uuid>,
    id: Uuid,
) -> Location {
    let now = audit::now_micros();
    Location {
        id,
        code,
        name,
        kind,
        parent_id: parent,
        district_id: district,
        male_population: None,
        female_population: None,
        other_population: None,
        families: None,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

/// Regions, districts, wards and villages.
pub async fn geography(db: &Db, actor: &Actor, families: u64) -> anyhow::Result<Places> {
    let (regions, districts, wards, villages) = shape(families);
    let mut tx = db.begin().await?;
    if location::store::get_location_by_code(&mut tx, "DR01")
        .await?
        .is_some()
    {
        anyhow::bail!(
            "this database already holds a demo scheme (location DR01 exists); use a new data folder or database"
        );
    }
    let mut places = Places {
        regions: Vec::new(),
        districts: Vec::new(),
        villages: Vec::new(),
        wards: Vec::new(),
        facilities: Vec::new(),
    };
    let mut save = Vec::new();
    for r in 0..regions {
        let id = Uuid::now_v7();
        save.push(location(
            format!("DR{:02}", r + 1),
            format!("Region {}", r + 1),
            LocationType::Region,
            None,
            None,
            id,
        ));
        places.regions.push(id);
    }
    for d in 0..districts {
        let id = Uuid::now_v7();
        let region = places.regions[d % regions];
        save.push(location(
            format!("DD{:04}", d + 1),
            format!("District {}", d + 1),
            LocationType::District,
            Some(region),
            Some(id),
            id,
        ));
        places.districts.push((id, region));
    }
    let mut ward_ids = Vec::new();
    for w in 0..wards {
        let id = Uuid::now_v7();
        let (district, _) = places.districts[w % districts];
        save.push(location(
            format!("DW{:05}", w + 1),
            format!("Ward {}", w + 1),
            LocationType::Ward,
            Some(district),
            Some(district),
            id,
        ));
        ward_ids.push((id, district));
    }
    let per_village = families.div_ceil(villages as u64) as i64;
    for v in 0..villages {
        let id = Uuid::now_v7();
        let (ward, district) = ward_ids[v % wards];
        let mut village = location(
            format!("DV{:06}", v + 1),
            format!("Village {}", v + 1),
            LocationType::Village,
            Some(ward),
            Some(district),
            id,
        );
        village.families = Some(per_village);
        village.male_population = Some(per_village * 2);
        village.female_population = Some(per_village * 2);
        save.push(village);
        places.villages.push((id, district));
    }
    for l in &save {
        location::store::insert_location(&mut tx, l).await?;
        audit::append(
            &mut tx,
            actor,
            location::service::LOCATION,
            l.id,
            "demo",
            None::<&()>,
            Some(l),
        )
        .await?;
    }
    tx.commit().await?;
    places.wards = ward_ids;
    Ok(places)
}

/// A hospital in every district and a health centre in every ward serving its villages, each
/// priced by the price lists of its region (`pricelists(region)` → (items, services)).
pub async fn facilities(
    db: &Db,
    actor: &Actor,
    places: &mut Places,
    pricelists: impl Fn(Uuid) -> (Option<Uuid>, Option<Uuid>),
) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    let ward_ids = places.wards.clone();
    let wards = ward_ids.len();
    let districts = places.districts.clone();
    let region_of = |district: Uuid| {
        districts
            .iter()
            .find(|(d, _)| *d == district)
            .map(|(_, r)| *r)
    };
    let now = audit::now_micros();
    let facility = |code: String,
                    name: String,
                    level: FacilityLevel,
                    district: Uuid,
                    catchments: Vec<Catchment>| HealthFacility {
        id: Uuid::now_v7(),
        code,
        name,
        acc_code: None,
        legal_form: LegalForm::Government,
        level,
        sub_level: None,
        location_id: district,
        address: None,
        phone: None,
        fax: None,
        email: None,
        care_type: if level == FacilityLevel::Hospital {
            CareType::Both
        } else {
            CareType::OutPatient
        },
        items_pricelist_id: region_of(district).and_then(|r| pricelists(r).0),
        services_pricelist_id: region_of(district).and_then(|r| pricelists(r).1),
        offline: false,
        contract_start_date: None,
        contract_end_date: None,
        status: FacilityStatus::Active,
        catchments,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let mut hfs = Vec::new();
    for (i, (district, _)) in places.districts.iter().enumerate() {
        hfs.push(facility(
            format!("DH{:04}", i + 1),
            format!("District {} Hospital", i + 1),
            FacilityLevel::Hospital,
            *district,
            Vec::new(),
        ));
    }
    for (w, (ward, district)) in ward_ids.iter().enumerate() {
        let catchments = places
            .villages
            .iter()
            .enumerate()
            .filter(|(v, _)| ward_ids[v % wards].0 == *ward)
            .map(|(_, (village, _))| Catchment {
                location_id: *village,
                catchment: 100,
            })
            .collect();
        hfs.push(facility(
            format!("DC{:05}", w + 1),
            format!("Ward {} Health Centre", w + 1),
            FacilityLevel::HealthCentre,
            *district,
            catchments,
        ));
    }
    for hf in &hfs {
        location::store::save_facility(&mut tx, hf, None).await?;
        audit::append(
            &mut tx,
            actor,
            location::service::HEALTH_FACILITY,
            hf.id,
            "demo",
            None::<&()>,
            Some(hf),
        )
        .await?;
        places.facilities.push((hf.id, hf.location_id));
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_geography_grows_with_the_families() {
        assert_eq!(shape(10), (1, 2, 2, 4));
        assert_eq!(shape(250_000), (17, 50, 200, 1000));
        for n in [1, 100, 999, 12_345, 1_000_000] {
            let (r, d, w, v) = shape(n);
            assert!(r <= d && d <= w && w <= v, "{n}");
        }
    }
}
