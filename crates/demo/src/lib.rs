//! `bima demo --families N`: a synthetic scheme of exactly N families, with the locations,
//! health facilities, medical registers, price lists and products they need.

pub mod claims;
pub mod households;
pub mod openimis_export;
pub mod people;
pub mod places;
pub mod policies;
pub mod products;
pub mod registers;

use kernel::Actor;
use store::Db;

/// What `bima demo` built.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Built {
    pub regions: usize,
    pub districts: usize,
    pub villages: usize,
    pub facilities: usize,
    pub families: u64,
    pub insurees: u64,
    pub claims: u64,
}

impl std::fmt::Display for Built {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} regions, {} districts, {} villages, {} health facilities, {} families, {} insurees, {} claims",
            self.regions,
            self.districts,
            self.villages,
            self.facilities,
            self.families,
            self.insurees,
            self.claims
        )
    }
}

/// Build a demo scheme of exactly `families` families and `claims` claims of their visits.
/// The same seed builds the same people.
pub async fn build(
    db: &Db,
    families: u64,
    claims: u64,
    seed: u64,
    today: time::Date,
    show_progress: bool,
) -> anyhow::Result<Built> {
    let actor = Actor::system("demo");
    let mut places = places::geography(db, &actor, families).await?;
    let registers = registers::build(db, &actor, &places.regions).await?;
    places::facilities(db, &actor, &mut places, |region| {
        let lists = registers.pricelists.get(&region);
        (lists.map(|l| l.0), lists.map(|l| l.1))
    })
    .await?;
    let products = products::build(
        db,
        &actor,
        places.regions[0],
        &registers.items,
        &registers.services,
    )
    .await?;
    // Every family is enrolled in the national product.
    let national = {
        let mut tx = db.read().await?;
        product::store::get_product(&mut tx, products[0]).await?
    };
    let claims = match (&national, claims) {
        (Some(product), n) if n > 0 => Some(
            claims::ClaimMaker::new(
                db,
                &places,
                product,
                (&registers.items, &registers.services),
                (n, families),
                today,
                seed,
            )
            .await?,
        ),
        _ => None,
    };
    let (insurees, claims) = households::build(
        db,
        &actor,
        households::Request {
            families,
            seed,
            today,
            places: &places,
            product: national.as_ref(),
            claims,
            show_progress,
        },
    )
    .await?;
    // Fresh statistics (and, on PostgreSQL, a visibility map) so that searches use their
    // indexes at once rather than after the next autovacuum.
    db.optimize().await?;
    Ok(Built {
        regions: places.regions.len(),
        districts: places.districts.len(),
        villages: places.villages.len(),
        facilities: places.facilities.len(),
        families,
        insurees,
        claims,
    })
}

/// Does the database hold no scheme yet (no location at all)? Only then does `serve --demo`
/// build one.
pub async fn scheme_is_empty(db: &Db) -> anyhow::Result<bool> {
    let mut tx = db.read().await?;
    let (_, total) = location::store::list_locations(&mut tx, &Default::default(), 1, 0).await?;
    Ok(total == 0)
}
