//! The medical registers of a demo scheme: common drugs, consumables and services, and a price
//! list of each per region (a few prices differ from the register, as they do in life).

use kernel::Actor;
use medical::model::*;
use std::collections::HashMap;
use store::Db;
use uuid::Uuid;

/// (code, name, type, package, price in minor units)
const ITEMS: &[(&str, &str, &str, &str, i64)] = &[
    ("D0001", "Paracetamol 500 mg", "D", "tablet", 50),
    ("D0002", "Amoxicillin 250 mg", "D", "capsule", 120),
    (
        "D0003",
        "Artemether-lumefantrine 20/120 mg",
        "D",
        "tablet",
        300,
    ),
    ("D0004", "Oral rehydration salts", "D", "sachet", 250),
    ("D0005", "Metronidazole 200 mg", "D", "tablet", 80),
    ("D0006", "Ferrous sulphate + folic acid", "D", "tablet", 40),
    ("D0007", "Cotrimoxazole 480 mg", "D", "tablet", 60),
    ("D0008", "Ibuprofen 200 mg", "D", "tablet", 70),
    ("D0009", "Zinc sulphate 20 mg", "D", "tablet", 90),
    ("D0010", "Ceftriaxone 1 g injection", "D", "vial", 2500),
    ("D0011", "Oxytocin 10 IU injection", "D", "ampoule", 900),
    ("D0012", "Quinine 300 mg", "D", "tablet", 150),
    ("M0001", "Sterile gauze 10 x 10 cm", "M", "piece", 100),
    ("M0002", "Disposable syringe 5 ml", "M", "piece", 150),
    ("M0003", "Examination gloves", "M", "pair", 200),
    ("M0004", "Malaria rapid test", "M", "test", 1000),
    ("M0005", "Cannula 22 G", "M", "piece", 800),
    ("M0006", "Urinary catheter", "M", "piece", 1500),
];

/// (code, name, category, type, level, care type, price)
const SERVICES: &[(&str, &str, &str, &str, &str, &str, i64)] = &[
    ("S0001", "Outpatient consultation", "C", "C", "S", "O", 5000),
    (
        "S0002",
        "Specialist consultation",
        "C",
        "C",
        "S",
        "O",
        15000,
    ),
    ("S0003", "Antenatal visit", "A", "P", "V", "O", 3000),
    ("S0004", "Normal delivery", "D", "C", "D", "I", 40000),
    ("S0005", "Caesarean section", "S", "C", "H", "I", 250000),
    ("S0006", "Minor surgery", "S", "C", "D", "B", 30000),
    ("S0007", "Hospital stay, per day", "H", "C", "H", "I", 20000),
    ("S0008", "Full blood count", "O", "C", "S", "B", 6000),
    ("S0009", "Malaria microscopy", "O", "C", "S", "B", 2000),
    ("S0010", "Ultrasound", "O", "C", "S", "B", 25000),
    ("S0011", "X-ray, chest", "O", "C", "S", "B", 20000),
    (
        "S0012",
        "Child immunisation visit",
        "V",
        "P",
        "V",
        "O",
        1000,
    ),
];

pub struct Registers {
    pub items: Vec<Uuid>,
    pub services: Vec<Uuid>,
    /// region → (item price list, service price list)
    pub pricelists: HashMap<Uuid, (Uuid, Uuid)>,
}

fn to_error(e: kernel::Error) -> anyhow::Error {
    anyhow::anyhow!("{e}: {:?}", e.problem().errors)
}

pub async fn build(db: &Db, actor: &Actor, regions: &[Uuid]) -> anyhow::Result<Registers> {
    for (code, name) in crate::claims::DIAGNOSES {
        medical::service::create_diagnosis(
            db,
            actor,
            DiagnosisInput {
                code: code.to_string(),
                name: name.to_string(),
                version: None,
            },
        )
        .await
        .map_err(to_error)?;
    }
    let mut items = Vec::new();
    for (code, name, kind, package, price) in ITEMS {
        let item = medical::service::create_item(
            db,
            actor,
            MedicalItemInput {
                code: code.to_string(),
                name: name.to_string(),
                kind: ItemType::from_code(kind).expect("item type"),
                package: Some(package.to_string()),
                price: *price,
                quantity: None,
                maximum_amount: None,
                care_type: CareType::from_code("B").expect("care type"),
                frequency: None,
                patient_category: EVERYONE,
                version: None,
            },
        )
        .await
        .map_err(to_error)?;
        items.push((item.id, *price));
    }
    let mut services = Vec::new();
    for (code, name, category, kind, level, care, price) in SERVICES {
        let service = medical::service::create_service(
            db,
            actor,
            MedicalServiceInput {
                code: code.to_string(),
                name: name.to_string(),
                category: ServiceCategory::from_code(category),
                kind: ServiceType::from_code(kind).expect("service type"),
                level: ServiceLevel::from_code(level).expect("service level"),
                package_type: None,
                manual_price: false,
                price: *price,
                maximum_amount: None,
                care_type: CareType::from_code(care).expect("care type"),
                frequency: None,
                patient_category: EVERYONE,
                version: None,
            },
        )
        .await
        .map_err(to_error)?;
        services.push((service.id, *price));
    }
    let mut pricelists = HashMap::new();
    for (r, region) in regions.iter().enumerate() {
        // Every third region pays 10 % more for the first items and services.
        let overrule = |i: usize, price: i64| (r % 3 == 2 && i < 4).then_some(price + price / 10);
        let item_list = medical::service::create_pricelist(
            db,
            actor,
            PriceListKind::Items,
            ItemPriceListInput {
                name: format!("Items, region {}", r + 1),
                location_id: Some(*region),
                lines: items
                    .iter()
                    .enumerate()
                    .map(|(i, (id, price))| ItemPriceLineInput {
                        item_id: *id,
                        price_overrule: overrule(i, *price),
                    })
                    .collect(),
                version: None,
            }
            .into(),
        )
        .await
        .map_err(to_error)?;
        let service_list = medical::service::create_pricelist(
            db,
            actor,
            PriceListKind::Services,
            ServicePriceListInput {
                name: format!("Services, region {}", r + 1),
                location_id: Some(*region),
                lines: services
                    .iter()
                    .enumerate()
                    .map(|(i, (id, price))| ServicePriceLineInput {
                        service_id: *id,
                        price_overrule: overrule(i, *price),
                    })
                    .collect(),
                version: None,
            }
            .into(),
        )
        .await
        .map_err(to_error)?;
        pricelists.insert(*region, (item_list.id, service_list.id));
    }
    Ok(Registers {
        items: items.into_iter().map(|(id, _)| id).collect(),
        services: services.into_iter().map(|(id, _)| id).collect(),
        pricelists,
    })
}
