//! Synthetic people: realistic names, family sizes, ages and relationships, from a seeded
//! generator so that the same seed always builds the same scheme.

use rand::Rng;
use rand::rngs::StdRng;
use time::{Date, Duration};

const MALE: &[&str] = &[
    "Abdallah",
    "Amani",
    "Baraka",
    "Daudi",
    "Elia",
    "Emmanuel",
    "Faraji",
    "Hamisi",
    "Hassani",
    "Ibrahimu",
    "Idrisa",
    "Jabiri",
    "Joseph",
    "Juma",
    "Kassimu",
    "Khamisi",
    "Lukas",
    "Mussa",
    "Mohamedi",
    "Nassoro",
    "Omari",
    "Petro",
    "Rajabu",
    "Ramadhani",
    "Saidi",
    "Salim",
    "Shabani",
    "Tumaini",
    "Yohana",
    "Zuberi",
];
const FEMALE: &[&str] = &[
    "Amina",
    "Asha",
    "Aziza",
    "Bahati",
    "Dorcas",
    "Esther",
    "Fatuma",
    "Grace",
    "Halima",
    "Happiness",
    "Imani",
    "Jamila",
    "Joyce",
    "Khadija",
    "Latifa",
    "Mariamu",
    "Mwajuma",
    "Neema",
    "Rehema",
    "Rukia",
    "Salma",
    "Saida",
    "Sharifa",
    "Subira",
    "Tatu",
    "Upendo",
    "Winfrida",
    "Zainabu",
    "Zawadi",
    "Zuhura",
];
pub const SURNAMES: &[&str] = &[
    "Abdallah",
    "Athumani",
    "Bakari",
    "Chande",
    "Haji",
    "Hamisi",
    "Hassani",
    "Juma",
    "Kapinga",
    "Kimaro",
    "Kombo",
    "Lyimo",
    "Makame",
    "Massawe",
    "Mbwana",
    "Mfinanga",
    "Mohamedi",
    "Msuya",
    "Mushi",
    "Mwakalinga",
    "Mwakyusa",
    "Mwanga",
    "Mzee",
    "Ngowi",
    "Nyerere",
    "Omari",
    "Rashidi",
    "Salehe",
    "Shirima",
    "Swai",
    "Temba",
    "Urassa",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Male,
    Female,
}

impl Gender {
    pub fn code(self) -> &'static str {
        match self {
            Gender::Male => "M",
            Gender::Female => "F",
        }
    }
}

/// openIMIS relationship codes (tblRelations) used here: 4 son/daughter, 8 spouse, 2 parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    Head,
    Spouse,
    Child,
    Parent,
}

impl Relation {
    pub fn openimis_code(self) -> Option<i64> {
        match self {
            Relation::Head => None,
            Relation::Spouse => Some(8),
            Relation::Child => Some(4),
            Relation::Parent => Some(2),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub last_name: String,
    pub other_names: String,
    pub gender: Gender,
    pub dob: Date,
    pub relation: Relation,
}

/// A household of 1 to 10 people, about 4 on average: a head, usually a spouse, children,
/// sometimes a grandparent. Ages are counted back from `today`.
pub fn household(rng: &mut StdRng, today: Date) -> Vec<Person> {
    let surname = SURNAMES[rng.random_range(0..SURNAMES.len())];
    let head_gender = if rng.random_bool(0.8) {
        Gender::Male
    } else {
        Gender::Female
    };
    let head_age = rng.random_range(20..70);
    let mut people = vec![person(
        rng,
        surname,
        head_gender,
        head_age,
        Relation::Head,
        today,
    )];
    if head_age < 65 && rng.random_bool(0.75) {
        let spouse_gender = match head_gender {
            Gender::Male => Gender::Female,
            Gender::Female => Gender::Male,
        };
        let spouse_age = (head_age + rng.random_range(-8..4)).clamp(18, 80);
        people.push(person(
            rng,
            surname,
            spouse_gender,
            spouse_age,
            Relation::Spouse,
            today,
        ));
    }
    // Children: a geometric-ish count, most families 0-4, a few up to 7.
    let max_child_age = (head_age - 17).clamp(1, 30);
    let mut children = 0;
    while children < 7 && rng.random_bool(if children < 3 { 0.8 } else { 0.5 }) {
        let gender = if rng.random_bool(0.5) {
            Gender::Male
        } else {
            Gender::Female
        };
        let age = rng.random_range(0..max_child_age);
        people.push(person(rng, surname, gender, age, Relation::Child, today));
        children += 1;
    }
    if people.len() < 10 && head_age < 45 && rng.random_bool(0.1) {
        let gender = if rng.random_bool(0.6) {
            Gender::Female
        } else {
            Gender::Male
        };
        let age = (head_age + rng.random_range(20..35)).min(95);
        people.push(person(rng, surname, gender, age, Relation::Parent, today));
    }
    people
}

fn person(
    rng: &mut StdRng,
    surname: &str,
    gender: Gender,
    age: i32,
    relation: Relation,
    today: Date,
) -> Person {
    let names = match gender {
        Gender::Male => MALE,
        Gender::Female => FEMALE,
    };
    let other_names = if rng.random_bool(0.3) {
        format!(
            "{} {}",
            names[rng.random_range(0..names.len())],
            names[rng.random_range(0..names.len())]
        )
    } else {
        names[rng.random_range(0..names.len())].to_string()
    };
    let days = i64::from(age) * 365 + rng.random_range(0..365);
    Person {
        last_name: surname.to_string(),
        other_names,
        gender,
        dob: today - Duration::days(days),
        relation,
    }
}

/// A 10-digit insurance number: a 9-digit serial and a Luhn check digit, valid under
/// openIMIS's `insuree_number_modulo_root = 10`.
pub fn insurance_number(serial: u64) -> String {
    let body = format!("{:09}", serial % 1_000_000_000);
    format!("{body}{}", luhn_digit(&body))
}

/// The Luhn check digit of a string of digits.
pub fn luhn_digit(digits: &str) -> u32 {
    let sum: u32 = digits
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;

    #[test]
    fn luhn_matches_known_numbers() {
        assert_eq!(luhn_digit("7992739871"), 3);
        assert_eq!(insurance_number(1), "0000000018");
    }

    #[test]
    fn households_look_like_households() {
        let mut rng = StdRng::seed_from_u64(7);
        let today = time::macros::date!(2026 - 11 - 25);
        let families: Vec<_> = (0..2000).map(|_| household(&mut rng, today)).collect();
        let people: usize = families.iter().map(Vec::len).sum();
        let mean = people as f64 / families.len() as f64;
        assert!((3.6..4.6).contains(&mean), "mean family size {mean}");
        for f in &families {
            assert_eq!(f.iter().filter(|p| p.relation == Relation::Head).count(), 1);
            assert!(f.len() <= 10);
            assert!(
                f.iter()
                    .all(|p| p.dob <= today && p.last_name == f[0].last_name)
            );
        }
    }

    proptest! {
        #[test]
        fn the_same_seed_builds_the_same_families(seed in any::<u64>()) {
            let today = time::macros::date!(2026 - 11 - 25);
            let a = household(&mut StdRng::seed_from_u64(seed), today);
            let b = household(&mut StdRng::seed_from_u64(seed), today);
            prop_assert_eq!(a, b);
        }

        #[test]
        fn every_number_passes_its_own_check(serial in 0u64..1_000_000_000) {
            let n = insurance_number(serial);
            prop_assert_eq!(n.len(), 10);
            prop_assert_eq!(luhn_digit(&n[..9]), n[9..].parse::<u32>().unwrap());
        }
    }
}
