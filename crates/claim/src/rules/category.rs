//! The category of a claim (spec §7.4): what the category limits count.

use super::{Category, Line, LineKind};

/// The priority in which a service's category makes the claim's.
const ORDER: [Category; 6] = [
    Category::Surgery,
    Category::Delivery,
    Category::Antenatal,
    Category::Hospitalization,
    Category::Consultation,
    Category::Other,
];

/// The categories of the claim's current services, plus H for a stay of more than one day; the
/// first of S, D, A, H, C, O present, else V (a visit).
pub fn claim_category(lines: &[Line], multi_day: bool) -> Category {
    let present = |c: Category| {
        (c == Category::Hospitalization && multi_day)
            || lines
                .iter()
                .any(|l| l.kind == LineKind::Service && l.current && l.service_category == Some(c))
    };
    ORDER
        .into_iter()
        .find(|&c| present(c))
        .unwrap_or(Category::Visit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;
    use uuid::Uuid;

    fn services(categories: &[Category]) -> Vec<Line> {
        categories
            .iter()
            .enumerate()
            .map(|(i, &c)| service(Uuid::from_u128(i as u128), 1, 100, c))
            .collect()
    }

    #[test]
    fn the_first_category_in_priority_order_wins() {
        use Category::*;
        let cases: &[(&[Category], bool, Category)] = &[
            (&[], false, Visit),
            (&[], true, Hospitalization),
            (&[Visit], false, Visit),
            (&[Consultation], false, Consultation),
            (&[Consultation, Surgery], false, Surgery),
            (&[Other, Consultation], false, Consultation),
            (&[Other], false, Other),
            (&[Antenatal, Delivery], false, Delivery),
            (&[Consultation], true, Hospitalization),
            (&[Surgery], true, Surgery),
            (&[Antenatal], true, Antenatal),
        ];
        for (categories, multi_day, expected) in cases {
            assert_eq!(
                claim_category(&services(categories), *multi_day),
                *expected,
                "{categories:?} multi-day {multi_day}"
            );
        }
    }

    #[test]
    fn items_and_withdrawn_services_do_not_count() {
        let mut lines = services(&[Category::Surgery]);
        lines[0].current = false;
        lines.push(item(Uuid::from_u128(9), 1, 10));
        assert_eq!(claim_category(&lines, false), Category::Visit);
    }
}
