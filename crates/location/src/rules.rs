//! Pure rules of the location module: where a location may hang, what a facility must hold.

use crate::model::{Catchment, HealthFacilityInput, LocationType};
use kernel::Checks;
use uuid::Uuid;

/// A location of type `kind` may hang from a parent of type `parent` (`None`: no parent).
pub fn check_parent(kind: LocationType, parent: Option<LocationType>, checks: &mut Checks) {
    match (kind.parent_type(), parent) {
        (None, None) => {}
        (None, Some(_)) => checks.push("parent_id", "wrong_level", "a region has no parent"),
        (Some(want), None) => checks.push(
            "parent_id",
            "required",
            format!("a {} must belong to a {}", kind.label(), want.label()),
        ),
        (Some(want), Some(got)) if want != got => checks.push(
            "parent_id",
            "wrong_level",
            format!(
                "a {}'s parent must be a {}, not a {}",
                kind.label(),
                want.label(),
                got.label()
            ),
        ),
        _ => {}
    }
}

/// Field checks of a facility that need no database: lengths, dates, catchment percentages.
pub fn check_facility(input: &HealthFacilityInput, checks: &mut Checks) {
    checks.required("code", &input.code, 8);
    checks.required("name", &input.name, 100);
    checks.optional("acc_code", input.acc_code.as_deref(), 25);
    checks.optional("address", input.address.as_deref(), 100);
    checks.optional("phone", input.phone.as_deref(), 50);
    checks.optional("fax", input.fax.as_deref(), 50);
    if let Some(email) = checks.optional("email", input.email.as_deref(), 50)
        && !email.contains('@')
    {
        checks.push("email", "invalid_email", "email must be an e-mail address");
    }
    if let (Some(start), Some(end)) = (input.contract_start_date, input.contract_end_date)
        && end < start
    {
        checks.push(
            "contract_end_date",
            "before_start",
            "the contract cannot end before it starts",
        );
    }
    check_catchments(&input.catchments, checks);
}

/// Each village once, each share between 0 and 100 percent.
pub fn check_catchments(catchments: &[Catchment], checks: &mut Checks) {
    let mut seen: Vec<Uuid> = Vec::new();
    for (i, c) in catchments.iter().enumerate() {
        if !(0..=100).contains(&c.catchment) {
            checks.push(
                format!("catchments[{i}].catchment"),
                "out_of_range",
                "a catchment is a percentage between 0 and 100",
            );
        }
        if seen.contains(&c.location_id) {
            checks.push(
                format!("catchments[{i}].location_id"),
                "duplicate",
                "this village is listed twice",
            );
        }
        seen.push(c.location_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LocationType::*;

    fn parent_ok(kind: LocationType, parent: Option<LocationType>) -> bool {
        let mut c = Checks::new();
        check_parent(kind, parent, &mut c);
        c.is_empty()
    }

    #[test]
    fn hierarchy_table() {
        let cases = [
            (Region, None, true),
            (Region, Some(Region), false),
            (District, Some(Region), true),
            (District, None, false),
            (District, Some(Ward), false),
            (Ward, Some(District), true),
            (Ward, Some(Region), false),
            (Village, Some(Ward), true),
            (Village, Some(District), false),
            (Village, None, false),
        ];
        for (kind, parent, ok) in cases {
            assert_eq!(parent_ok(kind, parent), ok, "{kind:?} under {parent:?}");
        }
    }

    #[test]
    fn catchments_are_percentages_of_distinct_villages() {
        let v = Uuid::now_v7();
        let mut c = Checks::new();
        check_catchments(
            &[
                Catchment {
                    location_id: v,
                    catchment: 50,
                },
                Catchment {
                    location_id: v,
                    catchment: 101,
                },
            ],
            &mut c,
        );
        match c.finish() {
            Err(kernel::Error::Invalid(f)) => {
                assert_eq!(f.len(), 2);
                assert_eq!(f[0].field, "catchments[1].catchment");
                assert_eq!(f[1].field, "catchments[1].location_id");
            }
            other => panic!("{other:?}"),
        }
    }

    proptest::proptest! {
        #[test]
        fn only_the_one_level_above_is_a_valid_parent(k in 0usize..4, p in 0usize..5) {
            let kind = LocationType::ALL[k];
            let parent = LocationType::ALL.get(p).copied();
            proptest::prop_assert_eq!(parent_ok(kind, parent), kind.parent_type() == parent);
        }
    }
}
