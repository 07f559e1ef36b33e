//! Pure rules of a product: what a user can get wrong in the header, the coverage lines and the
//! relative distribution. Each problem names its JSON field.

use crate::model::*;
use kernel::Checks;
use time::{Date, Month};
use uuid::Uuid;

/// Every check of a product that needs no database. `this` is the product's own id when it is
/// changed (a product cannot convert into itself).
pub fn check_product(input: &ProductInput, this: Option<Uuid>, checks: &mut Checks) {
    checks.required("code", &input.code, 8);
    checks.required("name", &input.name, 100);
    checks.optional("acc_code_premiums", input.acc_code_premiums.as_deref(), 25);
    checks.optional(
        "acc_code_remuneration",
        input.acc_code_remuneration.as_deref(),
        25,
    );
    if input.date_to < input.date_from {
        checks.push(
            "date_to",
            "before_start",
            "the product cannot end before it starts",
        );
    }
    if this.is_some() && input.conversion_product_id == this {
        checks.push(
            "conversion_product_id",
            "self_conversion",
            "a product cannot convert into itself",
        );
    }
    check_periods(&input.periods, checks);
    check_start_cycles(&input.start_cycles, checks);
    check_premium(&input.premium, checks);
    check_deductibles_and_ceilings(&input.deductibles, &input.ceilings, checks);
    for (column, value) in Limits::COLUMNS.iter().zip(input.limits.values()) {
        non_negative(checks, &format!("limits.{column}"), value);
    }
    check_capitation(&input.capitation_levels, &input.capitation, checks);
    check_items(&input.items, checks);
    check_services(&input.services, checks);
    check_distribution(&input.relative_distribution, checks);
}

fn non_negative(checks: &mut Checks, field: &str, value: Option<i64>) {
    if value.is_some_and(|v| v < 0) {
        checks.push(field, "negative", format!("{field} cannot be negative"));
    }
}

fn percent(checks: &mut Checks, field: &str, value: Option<i64>) {
    if value.is_some_and(|v| !(0..=100).contains(&v)) {
        checks.push(
            field,
            "out_of_range",
            format!("{field} is a percentage between 0 and 100"),
        );
    }
}

pub fn check_periods(p: &Periods, checks: &mut Checks) {
    if p.insurance_period <= 0 {
        checks.push(
            "periods.insurance_period",
            "required",
            "the insurance period is a number of months above 0",
        );
    }
    for (field, value) in [
        ("periods.administration_period", p.administration_period),
        ("periods.max_installments", p.max_installments),
        ("periods.grace_period_enrolment", p.grace_period_enrolment),
        ("periods.grace_period_renewal", p.grace_period_renewal),
        ("periods.grace_period_payment", p.grace_period_payment),
        ("periods.recurrence", p.recurrence),
    ] {
        non_negative(checks, field, value);
    }
}

/// A cycle start "DD-MM" that is a real day of the year (29-02 included).
pub fn parse_start_cycle(text: &str) -> Option<(u8, Month)> {
    let bytes = text.as_bytes();
    if bytes.len() != 5 || bytes[2] != b'-' {
        return None;
    }
    let two = |s: &str| -> Option<u8> {
        s.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten()
    };
    let day = two(text.get(0..2)?)?;
    let month = Month::try_from(two(text.get(3..5)?)?).ok()?;
    // 2000 is a leap year, so 29-02 counts as a real day-month.
    Date::from_calendar_date(2000, month, day).ok()?;
    Some((day, month))
}

pub fn check_start_cycles(cycles: &[String], checks: &mut Checks) {
    if cycles.len() > 4 {
        checks.push(
            "start_cycles",
            "too_many",
            "a product has at most 4 start cycles",
        );
    }
    for (i, c) in cycles.iter().enumerate() {
        if parse_start_cycle(c.trim()).is_none() {
            checks.push(
                format!("start_cycles[{i}]"),
                "invalid_day_month",
                format!("\"{c}\" is not a day and month written DD-MM"),
            );
        }
    }
}

pub fn check_premium(p: &Premium, checks: &mut Checks) {
    for (column, value) in Premium::COLUMNS.iter().zip(p.values()) {
        let field = match *column {
            "premium_adult" => "premium.adult".to_string(),
            "premium_child" => "premium.child".to_string(),
            other => format!("premium.{other}"),
        };
        if column.ends_with("_percent") {
            percent(checks, &field, value);
        } else {
            non_negative(checks, &field, value);
        }
    }
    if p.max_members <= 0 {
        checks.push(
            "premium.max_members",
            "required",
            "the most members a policy covers is a number above 0",
        );
    }
    match p.threshold {
        None | Some(0) if p.lump_sum > 0 => checks.push(
            "premium.threshold",
            "required",
            "a lump sum needs a threshold: the number of members it includes",
        ),
        Some(t) if p.max_members > 0 && t > p.max_members => checks.push(
            "premium.threshold",
            "above_max_members",
            format!(
                "the threshold ({t}) cannot exceed the most members a policy covers ({})",
                p.max_members
            ),
        ),
        _ => {}
    }
}

fn set(v: Option<i64>) -> bool {
    v.is_some_and(|v| v != 0)
}

pub fn check_deductibles_and_ceilings(d: &Deductibles, c: &Ceilings, checks: &mut Checks) {
    for (column, value) in Deductibles::COLUMNS.iter().zip(d.values()) {
        let name = column.trim_start_matches("ded_");
        non_negative(checks, &format!("deductibles.{name}"), value);
    }
    let ceiling_fields = [
        "insuree",
        "ip_insuree",
        "op_insuree",
        "treatment",
        "ip_treatment",
        "op_treatment",
        "policy",
        "ip_policy",
        "op_policy",
        "extra_member",
        "extra_member_ip",
        "extra_member_op",
        "policy_cap",
        "policy_cap_ip",
        "policy_cap_op",
    ];
    for (name, value) in ceiling_fields.iter().zip(c.values()) {
        non_negative(checks, &format!("ceilings.{name}"), value);
    }
    let triples = [
        ("deductibles.insuree", d.insuree, d.ip_insuree, d.op_insuree),
        (
            "deductibles.treatment",
            d.treatment,
            d.ip_treatment,
            d.op_treatment,
        ),
        ("deductibles.policy", d.policy, d.ip_policy, d.op_policy),
        ("ceilings.insuree", c.insuree, c.ip_insuree, c.op_insuree),
        (
            "ceilings.treatment",
            c.treatment,
            c.ip_treatment,
            c.op_treatment,
        ),
        ("ceilings.policy", c.policy, c.ip_policy, c.op_policy),
        (
            "ceilings.extra_member",
            c.extra_member,
            c.extra_member_ip,
            c.extra_member_op,
        ),
        (
            "ceilings.policy_cap",
            c.policy_cap,
            c.policy_cap_ip,
            c.policy_cap_op,
        ),
    ];
    for (field, all, ip, op) in triples {
        if set(all) && (set(ip) || set(op)) {
            checks.push(
                field,
                "all_with_ip_op",
                format!(
                    "{field} applies to all care and cannot be combined with in-patient or out-patient amounts"
                ),
            );
        }
    }
    let pairs = [
        ("insuree", d.insuree, c.insuree),
        ("ip_insuree", d.ip_insuree, c.ip_insuree),
        ("op_insuree", d.op_insuree, c.op_insuree),
        ("treatment", d.treatment, c.treatment),
        ("ip_treatment", d.ip_treatment, c.ip_treatment),
        ("op_treatment", d.op_treatment, c.op_treatment),
        ("policy", d.policy, c.policy),
        ("ip_policy", d.ip_policy, c.ip_policy),
        ("op_policy", d.op_policy, c.op_policy),
    ];
    for (name, ded, max) in pairs {
        if let (Some(ded), Some(max)) = (ded, max)
            && ded > 0
            && max > 0
            && max < ded
        {
            checks.push(
                format!("ceilings.{name}"),
                "below_deductible",
                format!("the ceiling ({max}) cannot be below the deductible ({ded})"),
            );
        }
    }
}

pub fn check_capitation(levels: &[CapitationLevel], c: &Capitation, checks: &mut Checks) {
    if levels.len() > 4 {
        checks.push(
            "capitation_levels",
            "too_many",
            "a product has at most 4 capitation levels",
        );
    }
    let mut any = false;
    let mut sum = 0i64;
    for (name, value) in c.weights() {
        percent(checks, &format!("capitation.{name}"), value);
        if let Some(v) = value {
            any = true;
            sum = sum.saturating_add(v);
        }
    }
    if any && sum != 100 {
        checks.push(
            "capitation.weight_population",
            "not_100",
            format!("the capitation weights add up to {sum} percent; they must add up to 100"),
        );
    }
    percent(
        checks,
        "capitation.share_contribution",
        c.share_contribution,
    );
}

fn check_line(
    field: &str,
    limits: [VisitLimit; 3],
    counts: [(&'static str, Option<i64>); 4],
    checks: &mut Checks,
) {
    for (suffix, kind, adult, child) in limits {
        for (who, value) in [("adult", adult), ("child", child)] {
            let name = format!("{field}.limit_{who}{suffix}");
            match (kind, value) {
                (_, Some(v)) if v < 0 => checks.push(
                    name.clone(),
                    "negative",
                    format!("{name} cannot be negative"),
                ),
                (None | Some(LimitationType::CoInsurance), Some(v)) if v > 100 => checks.push(
                    name.clone(),
                    "out_of_range",
                    "a co-insurance limit is the percentage paid by the insurer, between 0 and 100",
                ),
                _ => {}
            }
        }
    }
    for (name, value) in counts {
        non_negative(checks, &format!("{field}.{name}"), value);
    }
}

pub fn check_items(items: &[ProductItem], checks: &mut Checks) {
    let mut seen: Vec<Uuid> = Vec::new();
    for (i, line) in items.iter().enumerate() {
        let field = format!("items[{i}]");
        check_line(&field, line.limits(), line.counts(), checks);
        if seen.contains(&line.item_id) {
            checks.push(
                format!("{field}.item_id"),
                "duplicate",
                "this item is listed twice",
            );
        }
        seen.push(line.item_id);
    }
}

pub fn check_services(services: &[ProductService], checks: &mut Checks) {
    let mut seen: Vec<Uuid> = Vec::new();
    for (i, line) in services.iter().enumerate() {
        let field = format!("services[{i}]");
        check_line(&field, line.limits(), line.counts(), checks);
        if seen.contains(&line.service_id) {
            checks.push(
                format!("{field}.service_id"),
                "duplicate",
                "this service is listed twice",
            );
        }
        seen.push(line.service_id);
    }
}

pub fn check_distribution(lists: &[Distribution], checks: &mut Checks) {
    let mut seen: Vec<DistributionCareType> = Vec::new();
    for (i, d) in lists.iter().enumerate() {
        let field = format!("relative_distribution[{i}]");
        if seen.contains(&d.care_type) {
            checks.push(
                format!("{field}.care_type"),
                "duplicate",
                "this care type is listed twice",
            );
        }
        seen.push(d.care_type);
        if RelPricePeriod::from_len(d.periods.len()).is_none() {
            checks.push(
                format!("{field}.periods"),
                "wrong_length",
                format!(
                    "a distribution has 1 (year), 4 (quarters) or 12 (months) periods, not {}",
                    d.periods.len()
                ),
            );
            continue;
        }
        let mut in_range = true;
        for (j, p) in d.periods.iter().enumerate() {
            if !(0..=100).contains(p) {
                in_range = false;
                checks.push(
                    format!("{field}.periods[{j}]"),
                    "out_of_range",
                    "each period is a percentage between 0 and 100",
                );
            }
        }
        let sum: i64 = d.periods.iter().sum();
        if in_range && sum != 100 {
            checks.push(
                format!("{field}.periods"),
                "not_100",
                format!("the periods add up to {sum} percent; they must add up to 100"),
            );
        }
    }
}

/// `period_rel_prices`, `_ip` and `_op` as the distribution of care types B, I and O sets them.
pub fn rel_price_periods(
    lists: &[Distribution],
) -> (
    Option<RelPricePeriod>,
    Option<RelPricePeriod>,
    Option<RelPricePeriod>,
) {
    let of = |care: DistributionCareType| {
        lists
            .iter()
            .find(|d| d.care_type == care)
            .and_then(|d| RelPricePeriod::from_len(d.periods.len()))
    };
    (
        of(DistributionCareType::Both),
        of(DistributionCareType::InPatient),
        of(DistributionCareType::OutPatient),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use location::model::FacilityLevel;
    use time::macros::date;

    pub(crate) fn sample() -> ProductInput {
        ProductInput {
            code: "P001".into(),
            name: "Basic cover".into(),
            location_id: None,
            date_from: date!(2026 - 01 - 01),
            date_to: date!(2030 - 12 - 31),
            conversion_product_id: None,
            periods: Periods {
                insurance_period: 12,
                ..Periods::default()
            },
            start_cycles: vec!["01-06".into(), "29-02".into()],
            premium: Premium {
                lump_sum: 10000,
                max_members: 6,
                threshold: Some(4),
                ..Premium::default()
            },
            deductibles: Deductibles::default(),
            ceilings: Ceilings::default(),
            ceiling_type: None,
            ceiling_interpretation: CeilingInterpretation::ClaimType,
            limits: Limits::default(),
            capitation_levels: Vec::new(),
            capitation: Capitation::default(),
            acc_code_premiums: None,
            acc_code_remuneration: None,
            items: Vec::new(),
            services: Vec::new(),
            relative_distribution: Vec::new(),
            version: None,
        }
    }

    fn errors(input: &ProductInput, this: Option<Uuid>) -> Vec<(String, String)> {
        let mut c = Checks::new();
        check_product(input, this, &mut c);
        match c.finish() {
            Ok(()) => Vec::new(),
            Err(kernel::Error::Invalid(f)) => f.into_iter().map(|e| (e.field, e.code)).collect(),
            Err(other) => panic!("{other:?}"),
        }
    }

    fn item(id: Uuid) -> ProductItem {
        ProductItem {
            item_id: id,
            price_origin: None,
            limitation_type: None,
            limitation_type_r: None,
            limitation_type_e: None,
            limit_adult: None,
            limit_child: None,
            limit_adult_r: None,
            limit_child_r: None,
            limit_adult_e: None,
            limit_child_e: None,
            waiting_period_adult: None,
            waiting_period_child: None,
            limit_no_adult: None,
            limit_no_child: None,
            ceiling_exclusion_adult: None,
            ceiling_exclusion_child: None,
        }
    }

    #[test]
    fn a_sound_product_passes() {
        assert_eq!(errors(&sample(), Some(Uuid::now_v7())), Vec::new());
    }

    #[test]
    fn every_rejection_names_its_field() {
        let me = Uuid::now_v7();
        let a = Uuid::now_v7();
        type Change = fn(&mut ProductInput, Uuid, Uuid);
        let cases: Vec<(Change, &str, &str)> = vec![
            (
                |p, _, _| p.code = "TOO-LONG-CODE".into(),
                "code",
                "too_long",
            ),
            (|p, _, _| p.name = " ".into(), "name", "required"),
            (
                |p, _, _| p.date_to = date!(2025 - 12 - 31),
                "date_to",
                "before_start",
            ),
            (
                |p, me, _| p.conversion_product_id = Some(me),
                "conversion_product_id",
                "self_conversion",
            ),
            (
                |p, _, _| p.periods.insurance_period = 0,
                "periods.insurance_period",
                "required",
            ),
            (
                |p, _, _| p.periods.grace_period_payment = Some(-1),
                "periods.grace_period_payment",
                "negative",
            ),
            (
                |p, _, _| p.start_cycles = vec!["31-04".into()],
                "start_cycles[0]",
                "invalid_day_month",
            ),
            (
                |p, _, _| p.start_cycles = vec!["1-6".into()],
                "start_cycles[0]",
                "invalid_day_month",
            ),
            (
                |p, _, _| p.start_cycles = vec!["01-01".into(); 5],
                "start_cycles",
                "too_many",
            ),
            (
                |p, _, _| p.premium.adult = Some(-5),
                "premium.adult",
                "negative",
            ),
            (
                |p, _, _| p.premium.lump_sum = -1,
                "premium.lump_sum",
                "negative",
            ),
            (
                |p, _, _| p.premium.enrolment_discount_percent = Some(101),
                "premium.enrolment_discount_percent",
                "out_of_range",
            ),
            (
                |p, _, _| p.premium.renewal_discount_percent = Some(-1),
                "premium.renewal_discount_percent",
                "out_of_range",
            ),
            (
                |p, _, _| p.premium.max_members = 0,
                "premium.max_members",
                "required",
            ),
            (
                |p, _, _| p.premium.threshold = None,
                "premium.threshold",
                "required",
            ),
            (
                |p, _, _| p.premium.threshold = Some(7),
                "premium.threshold",
                "above_max_members",
            ),
            (
                |p, _, _| {
                    p.deductibles.insuree = Some(100);
                    p.deductibles.ip_insuree = Some(50);
                },
                "deductibles.insuree",
                "all_with_ip_op",
            ),
            (
                |p, _, _| {
                    p.ceilings.policy = Some(100);
                    p.ceilings.op_policy = Some(50);
                },
                "ceilings.policy",
                "all_with_ip_op",
            ),
            (
                |p, _, _| {
                    p.deductibles.ip_treatment = Some(500);
                    p.ceilings.ip_treatment = Some(400);
                },
                "ceilings.ip_treatment",
                "below_deductible",
            ),
            (
                |p, _, _| p.ceilings.policy_cap = Some(-1),
                "ceilings.policy_cap",
                "negative",
            ),
            (
                |p, _, _| p.limits.max_amount_surgery = Some(-1),
                "limits.max_amount_surgery",
                "negative",
            ),
            (
                |p, _, _| {
                    p.capitation.weight_population = Some(50);
                    p.capitation.weight_nb_visits = Some(40);
                },
                "capitation.weight_population",
                "not_100",
            ),
            (
                |p, _, _| p.capitation.share_contribution = Some(120),
                "capitation.share_contribution",
                "out_of_range",
            ),
            (
                |p, _, _| {
                    p.capitation_levels = vec![
                        CapitationLevel {
                            level: FacilityLevel::Dispensary,
                            sublevel: None,
                        };
                        5
                    ]
                },
                "capitation_levels",
                "too_many",
            ),
            (
                |p, _, a| p.items = vec![item(a), item(a)],
                "items[1].item_id",
                "duplicate",
            ),
            (
                |p, _, a| {
                    let mut i = item(a);
                    i.limit_adult = Some(101);
                    p.items = vec![i];
                },
                "items[0].limit_adult",
                "out_of_range",
            ),
            (
                |p, _, a| {
                    let mut i = item(a);
                    i.limitation_type_e = Some(LimitationType::Fixed);
                    i.limit_child_e = Some(-3);
                    p.items = vec![i];
                },
                "items[0].limit_child_e",
                "negative",
            ),
            (
                |p, _, a| {
                    let mut i = item(a);
                    i.waiting_period_child = Some(-1);
                    p.items = vec![i];
                },
                "items[0].waiting_period_child",
                "negative",
            ),
            (
                |p, _, _| {
                    p.relative_distribution = vec![Distribution {
                        care_type: DistributionCareType::Both,
                        periods: vec![50, 50],
                    }]
                },
                "relative_distribution[0].periods",
                "wrong_length",
            ),
            (
                |p, _, _| {
                    p.relative_distribution = vec![Distribution {
                        care_type: DistributionCareType::InPatient,
                        periods: vec![25, 25, 25, 20],
                    }]
                },
                "relative_distribution[0].periods",
                "not_100",
            ),
            (
                |p, _, _| {
                    p.relative_distribution = vec![
                        Distribution {
                            care_type: DistributionCareType::OutPatient,
                            periods: vec![100],
                        },
                        Distribution {
                            care_type: DistributionCareType::OutPatient,
                            periods: vec![100],
                        },
                    ]
                },
                "relative_distribution[1].care_type",
                "duplicate",
            ),
            (
                |p, _, _| {
                    p.relative_distribution = vec![Distribution {
                        care_type: DistributionCareType::Both,
                        periods: vec![150, -50, 0, 0],
                    }]
                },
                "relative_distribution[0].periods[0]",
                "out_of_range",
            ),
            (
                |p, _, _| p.acc_code_premiums = Some("X".repeat(26)),
                "acc_code_premiums",
                "too_long",
            ),
        ];
        for (change, field, code) in cases {
            let mut p = sample();
            change(&mut p, me, a);
            let found = errors(&p, Some(me));
            assert_eq!(
                found.first(),
                Some(&(field.to_string(), code.to_string())),
                "{field}: {found:?}"
            );
        }
    }

    #[test]
    fn fixed_limits_are_amounts_and_defaults_follow_the_type() {
        let mut i = item(Uuid::now_v7());
        i.limitation_type = Some(LimitationType::Fixed);
        i.limit_adult = Some(250_000);
        let mut p = sample();
        p.items = vec![i.clone()];
        assert_eq!(errors(&p, None), Vec::new());
        let d = i.with_defaults();
        assert_eq!(d.price_origin, Some(PriceOrigin::Schema));
        assert_eq!((d.limit_adult, d.limit_child), (Some(250_000), Some(0)));
        assert_eq!(d.limitation_type_r, Some(LimitationType::CoInsurance));
        assert_eq!((d.limit_adult_r, d.limit_child_e), (Some(100), Some(100)));
    }

    #[test]
    fn distributions_set_the_rel_price_periods() {
        let lists = vec![
            Distribution {
                care_type: DistributionCareType::InPatient,
                periods: vec![25; 4],
            },
            Distribution {
                care_type: DistributionCareType::OutPatient,
                periods: vec![100],
            },
        ];
        let mut c = Checks::new();
        check_distribution(&lists, &mut c);
        assert!(c.is_empty());
        assert_eq!(
            rel_price_periods(&lists),
            (
                None,
                Some(RelPricePeriod::Quarter),
                Some(RelPricePeriod::Year)
            )
        );
    }

    proptest::proptest! {
        #[test]
        fn a_start_cycle_is_valid_exactly_when_the_day_exists(d in 0u8..40, m in 0u8..15) {
            let text = format!("{d:02}-{m:02}");
            let real = Month::try_from(m).ok().and_then(|m| Date::from_calendar_date(2000, m, d).ok()).is_some();
            proptest::prop_assert_eq!(parse_start_cycle(&text).is_some(), real);
        }

        #[test]
        fn a_distribution_passes_exactly_when_it_is_a_split_of_100(periods in proptest::collection::vec(-10i64..110, 0..14)) {
            let lists = vec![Distribution { care_type: DistributionCareType::Both, periods: periods.clone() }];
            let mut c = Checks::new();
            check_distribution(&lists, &mut c);
            let good = matches!(periods.len(), 1 | 4 | 12)
                && periods.iter().all(|p| (0..=100).contains(p))
                && periods.iter().sum::<i64>() == 100;
            proptest::prop_assert_eq!(c.is_empty(), good);
        }

        #[test]
        fn negative_money_is_always_refused(v in i64::MIN..0, which in 0usize..9) {
            let mut p = sample();
            let field = match which {
                0 => { p.premium.adult = Some(v); "premium.adult" }
                1 => { p.premium.registration_fee = Some(v); "premium.registration_fee" }
                2 => { p.premium.general_assembly_lump_sum = Some(v); "premium.general_assembly_lump_sum" }
                3 => { p.deductibles.op_policy = Some(v); "deductibles.op_policy" }
                4 => { p.ceilings.extra_member_ip = Some(v); "ceilings.extra_member_ip" }
                5 => { p.limits.max_amount_antenatal = Some(v); "limits.max_amount_antenatal" }
                6 => { p.premium.child = Some(v); "premium.child" }
                7 => { p.ceilings.treatment = Some(v); "ceilings.treatment" }
                _ => { p.deductibles.insuree = Some(v); "deductibles.insuree" }
            };
            let found = errors(&p, None);
            proptest::prop_assert!(found.iter().any(|(f, c)| f == field && c == "negative"), "{:?}", found);
        }

        #[test]
        fn dates_pass_exactly_when_in_order(a in 0i64..3000, b in 0i64..3000) {
            let mut p = sample();
            p.date_from = date!(2020 - 01 - 01) + time::Duration::days(a);
            p.date_to = date!(2020 - 01 - 01) + time::Duration::days(b);
            let refused = errors(&p, None).iter().any(|(f, _)| f == "date_to");
            proptest::prop_assert_eq!(refused, b < a);
        }

        #[test]
        fn weights_pass_exactly_when_they_sum_to_100(w in proptest::collection::vec(proptest::option::of(0i64..=100), 6)) {
            let mut p = sample();
            p.capitation.weight_population = w[0];
            p.capitation.weight_nb_families = w[1];
            p.capitation.weight_insured_population = w[2];
            p.capitation.weight_nb_insured_families = w[3];
            p.capitation.weight_nb_visits = w[4];
            p.capitation.weight_adjusted_amount = w[5];
            let any = w.iter().any(Option::is_some);
            let sum: i64 = w.iter().flatten().sum();
            let refused = errors(&p, None).iter().any(|(f, c)| f == "capitation.weight_population" && c == "not_100");
            proptest::prop_assert_eq!(refused, any && sum != 100);
        }
    }
}
