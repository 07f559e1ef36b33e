//! Pure rules of the medical registers: what a diagnosis, item, service or price list must hold,
//! the price a facility charges, who a patient category admits, and exact money parsing.

use crate::model::*;
use kernel::Checks;
use uuid::Uuid;

/// Longest code of a diagnosis, item or service (openIMIS's column width).
pub const CODE_MAX: usize = 6;

/// The price of a line at a facility using the list: the overrule if set, else the register price.
pub fn pricelist_price(register_price: i64, overrule: Option<i64>) -> i64 {
    overrule.unwrap_or(register_price)
}

/// Patient-category bits: 1 man, 2 woman, 4 adult, 8 child.
pub const MAN: i64 = 1;
pub const WOMAN: i64 = 2;
pub const ADULT: i64 = 4;
pub const CHILD: i64 = 8;

/// Is `category` a valid bitmask (0..=15)?
pub fn valid_patient_category(category: i64) -> bool {
    (0..=EVERYONE).contains(&category)
}

/// Does an item or service of `category` suit this patient? A category with no gender bit
/// admits every gender, one with no age bit every age (0 restricts nobody).
pub fn admits(category: i64, male: bool, adult: bool) -> bool {
    let gender_ok =
        category & (MAN | WOMAN) == 0 || category & (if male { MAN } else { WOMAN }) != 0;
    let age_ok =
        category & (ADULT | CHILD) == 0 || category & (if adult { ADULT } else { CHILD }) != 0;
    gender_ok && age_ok
}

/// A register code: 1 to 6 letters, digits, `.`, `-` or `_` (it appears in URLs).
pub fn check_code(checks: &mut Checks, value: &str) -> String {
    let code = checks.required("code", value, CODE_MAX);
    if !code.is_empty()
        && !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        checks.push(
            "code",
            "invalid_format",
            "code may hold only letters, digits, '.', '-' and '_'",
        );
    }
    code
}

fn check_amounts(
    checks: &mut Checks,
    price: i64,
    maximum_amount: Option<i64>,
    frequency: Option<i64>,
    patient_category: i64,
) {
    if price < 0 {
        checks.push("price", "negative", "price cannot be negative");
    }
    checks.non_negative("maximum_amount", maximum_amount);
    checks.non_negative("frequency", frequency);
    if !valid_patient_category(patient_category) {
        checks.push(
            "patient_category",
            "out_of_range",
            format!(
                "patient_category is a sum of 1 (men), 2 (women), 4 (adults) and 8 (children), from 0 to 15; got {patient_category}"
            ),
        );
    }
}

/// A diagnosis: code ≤ 6, name ≤ 255. Returns the trimmed (code, name).
pub fn check_diagnosis(input: &DiagnosisInput, checks: &mut Checks) -> (String, String) {
    let code = check_code(checks, &input.code);
    let name = checks.required("name", &input.name, 255);
    (code, name)
}

/// An item: code, name ≤ 100, package ≤ 255, amounts. Returns the input trimmed.
pub fn check_item(input: &MedicalItemInput, checks: &mut Checks) -> MedicalItemInput {
    let code = check_code(checks, &input.code);
    let name = checks.required("name", &input.name, 100);
    let package = checks.optional("package", input.package.as_deref(), 255);
    checks.non_negative("quantity", input.quantity);
    check_amounts(
        checks,
        input.price,
        input.maximum_amount,
        input.frequency,
        input.patient_category,
    );
    MedicalItemInput {
        code,
        name,
        package,
        ..input.clone()
    }
}

/// A service: code, name ≤ 100, amounts. Returns the input trimmed.
pub fn check_service(input: &MedicalServiceInput, checks: &mut Checks) -> MedicalServiceInput {
    let code = check_code(checks, &input.code);
    let name = checks.required("name", &input.name, 100);
    check_amounts(
        checks,
        input.price,
        input.maximum_amount,
        input.frequency,
        input.patient_category,
    );
    MedicalServiceInput {
        code,
        name,
        ..input.clone()
    }
}

/// A price list: name ≤ 100, each item or service once, overrules not negative.
/// `line_field` is `item_id` or `service_id`. Returns the trimmed name.
pub fn check_pricelist(input: &PriceListInput, line_field: &str, checks: &mut Checks) -> String {
    let name = checks.required("name", &input.name, 100);
    let mut seen: Vec<Uuid> = Vec::with_capacity(input.lines.len());
    for (i, (id, overrule)) in input.lines.iter().enumerate() {
        if seen.contains(id) {
            checks.push(
                format!("lines[{i}].{line_field}"),
                "duplicate",
                "this line is listed twice; a price list has one line per item or service",
            );
        }
        seen.push(*id);
        if overrule.is_some_and(|p| p < 0) {
            checks.push(
                format!("lines[{i}].price_overrule"),
                "negative",
                "a price overrule cannot be negative",
            );
        }
    }
    name
}

pub use kernel::money::{parse_money, parse_whole};

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(c: Checks) -> Vec<(String, String)> {
        match c.finish() {
            Ok(()) => Vec::new(),
            Err(kernel::Error::Invalid(f)) => f.into_iter().map(|e| (e.field, e.code)).collect(),
            Err(other) => panic!("{other:?}"),
        }
    }

    fn item() -> MedicalItemInput {
        MedicalItemInput {
            code: "0182".into(),
            name: "Paracetamol 500mg".into(),
            kind: ItemType::Drug,
            package: Some("tablet".into()),
            price: 1250,
            quantity: None,
            maximum_amount: None,
            care_type: CareType::Both,
            frequency: None,
            patient_category: 15,
            version: None,
        }
    }

    #[test]
    fn pricelist_price_prefers_the_overrule() {
        assert_eq!(pricelist_price(1250, None), 1250);
        assert_eq!(pricelist_price(1250, Some(900)), 900);
        assert_eq!(
            pricelist_price(1250, Some(0)),
            0,
            "a free line is still an overrule"
        );
    }

    #[test]
    fn item_rejections_name_every_field() {
        type Case = (fn(&mut MedicalItemInput), Vec<(&'static str, &'static str)>);
        let cases: Vec<Case> = vec![
            (|_| {}, vec![]),
            (|i| i.code = "".into(), vec![("code", "required")]),
            (|i| i.code = "1234567".into(), vec![("code", "too_long")]),
            (|i| i.code = "A 1".into(), vec![("code", "invalid_format")]),
            (|i| i.name = "x".repeat(101), vec![("name", "too_long")]),
            (
                |i| i.package = Some("x".repeat(256)),
                vec![("package", "too_long")],
            ),
            (|i| i.price = -1, vec![("price", "negative")]),
            (|i| i.quantity = Some(-1), vec![("quantity", "negative")]),
            (
                |i| i.maximum_amount = Some(-2),
                vec![("maximum_amount", "negative")],
            ),
            (|i| i.frequency = Some(-1), vec![("frequency", "negative")]),
            (
                |i| i.patient_category = 16,
                vec![("patient_category", "out_of_range")],
            ),
            (
                |i| {
                    i.name = " ".into();
                    i.price = -5;
                },
                vec![("name", "required"), ("price", "negative")],
            ),
        ];
        for (change, want) in cases {
            let mut input = item();
            change(&mut input);
            let mut c = Checks::new();
            check_item(&input, &mut c);
            let got = fields(c);
            let want: Vec<(String, String)> = want
                .into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
            assert_eq!(got, want, "{input:?}");
        }
    }

    #[test]
    fn service_and_diagnosis_checks() {
        let mut c = Checks::new();
        let (code, name) = check_diagnosis(
            &DiagnosisInput {
                code: " A09 ".into(),
                name: "Diarrhoea".into(),
                version: None,
            },
            &mut c,
        );
        assert_eq!((code.as_str(), name.as_str()), ("A09", "Diarrhoea"));
        check_diagnosis(
            &DiagnosisInput {
                code: "A0912345".into(),
                name: "x".repeat(256),
                version: None,
            },
            &mut c,
        );
        assert_eq!(
            fields(c),
            vec![
                ("code".into(), "too_long".into()),
                ("name".into(), "too_long".into())
            ]
        );
        let mut c = Checks::new();
        check_service(
            &MedicalServiceInput {
                code: "A1".into(),
                name: "General consultation".into(),
                category: Some(ServiceCategory::Consultation),
                kind: ServiceType::Curative,
                level: ServiceLevel::Simple,
                package_type: None,
                manual_price: false,
                price: -1,
                maximum_amount: None,
                care_type: CareType::OutPatient,
                frequency: Some(-3),
                patient_category: -1,
                version: None,
            },
            &mut c,
        );
        assert_eq!(
            fields(c),
            vec![
                ("price".into(), "negative".into()),
                ("frequency".into(), "negative".into()),
                ("patient_category".into(), "out_of_range".into())
            ]
        );
    }

    #[test]
    fn price_list_lines_are_unique_and_not_negative() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        let input = PriceListInput {
            name: "District list".into(),
            location_id: None,
            lines: vec![(a, None), (b, Some(-1)), (a, Some(5))],
            version: None,
        };
        let mut c = Checks::new();
        assert_eq!(check_pricelist(&input, "item_id", &mut c), "District list");
        assert_eq!(
            fields(c),
            vec![
                ("lines[1].price_overrule".into(), "negative".into()),
                ("lines[2].item_id".into(), "duplicate".into())
            ]
        );
    }

    #[test]
    fn money_is_parsed_exactly() {
        let cases = [
            ("12.50", Ok(1250)),
            ("12.5", Ok(1250)),
            ("0.00", Ok(0)),
            ("10", Ok(1000)),
            ("21000.00", Ok(2_100_000)),
            (".5", Ok(50)),
            ("-3.25", Ok(-325)),
            ("12.5000", Ok(1250)),
            ("0.1", Ok(10)),
            ("0.07", Ok(7)),
            ("12.505", Err(())),
            ("", Err(())),
            (".", Err(())),
            ("1e3", Err(())),
            ("12,50", Err(())),
            ("99999999999999999999", Err(())),
        ];
        for (text, want) in cases {
            assert_eq!(parse_money(text).map_err(|_| ()), want, "{text}");
        }
        assert_eq!(parse_whole("2.00"), Ok(2));
        assert!(parse_whole("2.50").is_err());
    }

    #[test]
    fn categories_admit_the_right_patients() {
        // (category, male, adult, admitted)
        let cases = [
            (15, true, true, true),
            (15, false, false, true),
            (0, false, true, true),
            (MAN | ADULT | CHILD, false, true, false),
            (WOMAN | ADULT | CHILD, false, true, true),
            (MAN | WOMAN | CHILD, true, true, false),
            (MAN | WOMAN | CHILD, true, false, true),
            (WOMAN, false, false, true),
            (ADULT, true, false, false),
        ];
        for (cat, male, adult, want) in cases {
            assert_eq!(admits(cat, male, adult), want, "{cat} {male} {adult}");
        }
    }

    proptest::proptest! {
        #[test]
        fn the_bitmask_is_valid_exactly_from_0_to_15(cat in -100i64..100) {
            let mut c = Checks::new();
            let mut input = item();
            input.patient_category = cat;
            check_item(&input, &mut c);
            proptest::prop_assert_eq!(c.is_empty(), (0..=15).contains(&cat));
        }

        #[test]
        fn everyone_admits_every_patient_and_each_bit_narrows(cat in 0i64..=15, male: bool, adult: bool) {
            proptest::prop_assert!(admits(EVERYONE, male, adult));
            // Gender and age restrict independently of each other.
            let gender = cat & (MAN | WOMAN);
            let age = cat & (ADULT | CHILD);
            proptest::prop_assert_eq!(admits(cat, male, adult), admits(gender, male, adult) && admits(age, male, adult));
        }

        #[test]
        fn money_round_trips_through_its_decimal_text(minor in -1_000_000_000_000i64..1_000_000_000_000) {
            let sign = if minor < 0 { "-" } else { "" };
            let text = format!("{sign}{}.{:02}", minor.abs() / 100, minor.abs() % 100);
            proptest::prop_assert_eq!(parse_money(&text), Ok(minor));
        }

        #[test]
        fn pricelist_price_is_the_overrule_or_the_register(price in 0i64..1_000_000, over in proptest::option::of(0i64..1_000_000)) {
            let p = pricelist_price(price, over);
            match over {
                Some(o) => proptest::prop_assert_eq!(p, o),
                None => proptest::prop_assert_eq!(p, price),
            }
        }
    }
}
