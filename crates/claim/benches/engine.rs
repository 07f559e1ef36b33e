//! Claim engine benchmark (issue 5): the pure adjudication `claim::rules::submit` and the
//! valuation `claim::rules::valuation::value`, without database or HTTP, on one core.
//!
//!     cargo bench -p claim --bench engine
//!     BIMA_BENCH_SECONDS=1 cargo bench -p claim --bench engine      # a quicker run
//!
//! The inputs are built in memory: registers of 400 items and 250 services, a facility price
//! list that misses a few of them, three products (co-insurance and fixed-amount lines, waiting
//! periods, quantity limits, category limits, deductibles and ceilings), three patients (a man,
//! a woman and a child who joined the family's policy late) each under two policies with a
//! history of 20 earlier provisions and 20 earlier claims, and 4,000 distinct claims of 1 to 8
//! lines at a hospital or a health centre. Every claim is judged in turn, round and round, for
//! `BIMA_BENCH_SECONDS` (default 5) per measurement, on the calling thread.

use claim::rules::valuation::{Ledger, PayLine, Treatment, Used, value};
use claim::rules::{
    CareType, Category, ClaimFacts, ClaimOutcome, Cover, Decision, Facility, FacilityLevel,
    History, Line, LineKind, PastClaim, Patient, Provision, VisitType, choice, submit,
};
use policy::rules::Stage;
use product::model::{LimitationType, PriceOrigin, ProductInput, ProductItem, ProductService};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};
use time::macros::date;
use time::{Date, Duration as Days};
use uuid::Uuid;

const ITEMS: usize = 400;
const SERVICES: usize = 250;
const CLAIMS: usize = 4_000;
/// The target for the engine alone, on one core.
const TARGET_LINES_PER_S: f64 = 100_000.0;

/// An item or service of the registers with its price at the claiming facility.
struct Register {
    kind: LineKind,
    id: Uuid,
    code: String,
    name: String,
    price: i64,
    /// None when the facility's price list misses it.
    list_price: Option<i64>,
    care_type: CareType,
    patient_category: i64,
    frequency: Option<i64>,
    category: Option<Category>,
}

fn registers(rng: &mut StdRng) -> (Vec<Register>, Vec<Register>) {
    let listed = |rng: &mut StdRng, price: i64| {
        rng.random_bool(0.97).then(|| {
            if rng.random_bool(0.1) {
                price + price / 10
            } else {
                price
            }
        })
    };
    let items = (0..ITEMS)
        .map(|i| {
            let price = rng.random_range(20..5_000);
            Register {
                kind: LineKind::Item,
                id: Uuid::from_u128(0x1_0000 + i as u128),
                code: format!("I{i:04}"),
                name: format!("Medical item {i}"),
                price,
                list_price: listed(rng, price),
                care_type: if i % 20 == 0 {
                    CareType::InPatient
                } else {
                    CareType::Both
                },
                // Bits: 1 men, 2 women, 4 adults, 8 children.
                patient_category: match i % 37 {
                    0 => 2 | 4 | 8,
                    1 => 1 | 2 | 8,
                    _ => 15,
                },
                frequency: (i % 50 == 7).then_some(30),
                category: None,
            }
        })
        .collect();
    let services = (0..SERVICES)
        .map(|i| {
            let category = match i % 20 {
                0 => Category::Surgery,
                1 => Category::Delivery,
                2 => Category::Antenatal,
                3 => Category::Hospitalization,
                4..=10 => Category::Consultation,
                11..=16 => Category::Other,
                _ => Category::Visit,
            };
            let price = match category {
                Category::Surgery => rng.random_range(30_000..250_000),
                Category::Delivery | Category::Hospitalization => rng.random_range(20_000..60_000),
                _ => rng.random_range(1_000..25_000),
            };
            Register {
                kind: LineKind::Service,
                id: Uuid::from_u128(0x2_0000 + i as u128),
                code: format!("S{i:04}"),
                name: format!("Medical service {i}"),
                price,
                list_price: listed(rng, price),
                care_type: match category {
                    Category::Surgery | Category::Delivery | Category::Hospitalization => {
                        CareType::InPatient
                    }
                    Category::Consultation | Category::Antenatal | Category::Visit => {
                        CareType::OutPatient
                    }
                    Category::Other => CareType::Both,
                },
                patient_category: match category {
                    Category::Delivery | Category::Antenatal => 2 | 4,
                    _ => 15,
                },
                frequency: (category == Category::Antenatal).then_some(21),
                category: Some(category),
            }
        })
        .collect();
    (items, services)
}

/// A product header read the way clients send it; lines added by the caller.
fn product(code: &str, header: serde_json::Value) -> ProductInput {
    let mut body = serde_json::json!({
        "code": code, "name": format!("Product {code}"),
        "date_from": "2020-01-01", "date_to": "2035-12-31",
        "periods": {"insurance_period": 12},
        "premium": {"max_members": 10},
        "ceiling_interpretation": "I",
    });
    if let (Some(body), Some(header)) = (body.as_object_mut(), header.as_object()) {
        body.extend(header.clone());
    }
    serde_json::from_value(body).expect("a product")
}

/// A coverage line: co-insurance `percent`, or a fixed amount when `fixed` is set.
fn item_line(id: Uuid, percent: i64, fixed: Option<i64>) -> ProductItem {
    let (kind, limit) = match fixed {
        Some(amount) => (LimitationType::Fixed, amount),
        None => (LimitationType::CoInsurance, percent),
    };
    ProductItem {
        item_id: id,
        price_origin: Some(PriceOrigin::Schema),
        limitation_type: Some(kind),
        limitation_type_r: Some(kind),
        limitation_type_e: Some(LimitationType::CoInsurance),
        limit_adult: Some(limit),
        limit_child: Some(if fixed.is_some() { limit } else { 100 }),
        limit_adult_r: Some(limit),
        limit_child_r: Some(limit),
        limit_adult_e: Some(100),
        limit_child_e: Some(100),
        waiting_period_adult: None,
        waiting_period_child: None,
        limit_no_adult: None,
        limit_no_child: None,
        ceiling_exclusion_adult: None,
        ceiling_exclusion_child: None,
    }
}

fn service_line(id: Uuid, percent: i64, fixed: Option<i64>) -> ProductService {
    let i = item_line(id, percent, fixed);
    ProductService {
        service_id: id,
        price_origin: i.price_origin,
        limitation_type: i.limitation_type,
        limitation_type_r: i.limitation_type_r,
        limitation_type_e: i.limitation_type_e,
        limit_adult: i.limit_adult,
        limit_child: i.limit_child,
        limit_adult_r: i.limit_adult_r,
        limit_child_r: i.limit_child_r,
        limit_adult_e: i.limit_adult_e,
        limit_child_e: i.limit_child_e,
        waiting_period_adult: None,
        waiting_period_child: None,
        limit_no_adult: None,
        limit_no_child: None,
        ceiling_exclusion_adult: None,
        ceiling_exclusion_child: None,
    }
}

/// The national product (most of the registers, co-insurance, quantity limits, 12 months'
/// wait for surgery and deliveries, category limits, deductible and ceilings), a top-up
/// (fixed amounts, 3 months' wait) and a maternity product. The last 20 items and 10 services
/// are covered by none.
fn products(items: &[Register], services: &[Register]) -> [ProductInput; 3] {
    let mut national = product(
        "NAT",
        serde_json::json!({
            "deductibles": {"op_insuree": 5_000, "ip_insuree": 20_000},
            "ceilings": {"insuree": 5_000_000, "policy": 20_000_000, "extra_member": 1_000_000,
                         "policy_cap": 30_000_000},
            "premium": {"max_members": 10, "threshold": 4},
            "limits": {"max_no_consultation": 24, "max_no_surgery": 1, "max_no_delivery": 2,
                       "max_no_hospitalization": 5, "max_no_visits": 40, "max_no_antenatal": 10,
                       "max_amount_consultation": 400_000, "max_amount_surgery": 1_000_000},
        }),
    );
    for (i, r) in items.iter().enumerate().take(360) {
        let mut line = match i % 7 {
            0 => item_line(r.id, 0, Some(r.price * 8 / 10)),
            1 | 2 => item_line(r.id, 80, None),
            _ => item_line(r.id, 100, None),
        };
        if i % 11 == 0 {
            line.limit_no_adult = Some(30);
            line.limit_no_child = Some(15);
        }
        national.items.push(line);
    }
    for r in services.iter().take(220) {
        let mut line = service_line(r.id, if r.price > 20_000 { 90 } else { 100 }, None);
        if matches!(r.category, Some(Category::Surgery | Category::Delivery)) {
            line.waiting_period_adult = Some(12);
            line.waiting_period_child = Some(12);
        }
        national.services.push(line);
    }
    let mut top_up = product(
        "TOP",
        serde_json::json!({"deductibles": {"treatment": 1_000}, "ceilings": {"treatment": 300_000},
                           "ceiling_interpretation": "H"}),
    );
    for r in &items[200..380] {
        let mut line = item_line(r.id, 0, Some(r.price * 9 / 10));
        line.waiting_period_adult = Some(3);
        line.waiting_period_child = Some(3);
        top_up.items.push(line);
    }
    for r in &services[100..240] {
        let mut line = service_line(r.id, 0, Some(r.price * 7 / 10));
        line.waiting_period_adult = Some(3);
        top_up.services.push(line);
    }
    let mut maternity = product("MAT", serde_json::json!({}));
    for r in services
        .iter()
        .filter(|r| matches!(r.category, Some(Category::Antenatal | Category::Delivery)))
    {
        maternity.services.push(service_line(r.id, 100, None));
    }
    for r in items.iter().step_by(37) {
        maternity.items.push(item_line(r.id, 100, None));
    }
    [national, top_up, maternity]
}

/// One patient with their two policy windows and their history.
struct Person {
    patient: Patient,
    /// (product index, stage, policy effective, insuree effective)
    windows: [(usize, Stage, Date, Date); 2],
    history: History,
}

fn people(rng: &mut StdRng, items: &[Register], services: &[Register]) -> Vec<Person> {
    let renewal = date!(2026 - 01 - 01);
    let new = date!(2026 - 04 - 01);
    let patients = [
        ("100000001", false, date!(1979 - 03 - 14), 1, renewal),
        ("100000002", true, date!(1988 - 11 - 02), 2, renewal),
        // A child who joined the family's policy two months after it took effect: waiting
        // periods apply to them.
        (
            "100000003",
            false,
            date!(2019 - 07 - 21),
            1,
            date!(2026 - 03 - 01),
        ),
    ];
    let regular: Vec<&Register> = items
        .iter()
        .enumerate()
        .filter(|(i, r)| i % 11 == 0 || r.frequency.is_some())
        .map(|(_, r)| r)
        .chain(
            services
                .iter()
                .filter(|r| r.category == Some(Category::Antenatal)),
        )
        .collect();
    patients
        .into_iter()
        .map(|(chfid, female, dob, second, joined)| {
            let mut history = History::default();
            for k in 0..20 {
                // A third of what they received is their regular treatment: the items with a
                // quantity limit or a frequency, and antenatal care.
                let r = if k < 7 {
                    regular[rng.random_range(0..regular.len())]
                } else if rng.random_bool(0.6) {
                    &items[rng.random_range(0..items.len())]
                } else {
                    &services[rng.random_range(0..services.len())]
                };
                history.provisions.push(Provision {
                    kind: r.kind,
                    register_id: r.id,
                    date: renewal + Days::days(rng.random_range(60..180)),
                    qty: if k < 7 {
                        rng.random_range(10..25)
                    } else {
                        rng.random_range(1..10)
                    },
                });
            }
            // The man already had the one surgery the national product pays for.
            if chfid.ends_with('1') {
                history.claims.push(PastClaim {
                    category: Some(Category::Surgery),
                    date: date!(2026 - 04 - 20),
                });
            }
            for _ in 0..20 - history.claims.len() {
                let category = match rng.random_range(0..10) {
                    0..=4 => Some(Category::Consultation),
                    5..=6 => Some(Category::Other),
                    7 => Some(Category::Visit),
                    8 => None,
                    _ => Some(Category::Antenatal),
                };
                history.claims.push(PastClaim {
                    category,
                    date: renewal + Days::days(rng.random_range(0..150)),
                });
            }
            Person {
                patient: Patient {
                    chfid: chfid.into(),
                    deleted: false,
                    female,
                    dob,
                },
                windows: [
                    (0, Stage::Renewal, renewal, joined),
                    (second, Stage::New, new, new.max(joined)),
                ],
                history,
            }
        })
        .collect()
}

/// One claim of the day: who, where, when, and its lines.
struct ClaimSpec {
    person: usize,
    hospital: bool,
    date_from: Date,
    date_to: Option<Date>,
    visit: VisitType,
    lines: Vec<Line>,
}

fn claims(rng: &mut StdRng, items: &[Register], services: &[Register]) -> Vec<ClaimSpec> {
    (0..CLAIMS)
        .map(|_| {
            let hospital = rng.random_bool(0.3);
            let date_from = date!(2026 - 05 - 01) + Days::days(rng.random_range(0..150));
            let date_to = (hospital && rng.random_bool(0.25))
                .then(|| date_from + Days::days(rng.random_range(1..6)));
            let visit = match rng.random_range(0..20) {
                0 => VisitType::Emergency,
                1 | 2 => VisitType::Referral,
                _ => VisitType::Other,
            };
            let lines = (0..rng.random_range(1..=8))
                .map(|_| {
                    let r = if rng.random_bool(0.65) {
                        &items[rng.random_range(0..items.len())]
                    } else {
                        &services[rng.random_range(0..services.len())]
                    };
                    let asked = match r.list_price {
                        Some(p) if rng.random_bool(0.1) => p + p / 5,
                        Some(p) => p,
                        None => r.price,
                    };
                    Line {
                        kind: r.kind,
                        register_id: r.id,
                        code: r.code.clone(),
                        name: r.name.clone(),
                        current: true,
                        qty: match r.kind {
                            LineKind::Item => rng.random_range(1..=30),
                            LineKind::Service => 1 + i64::from(rng.random_bool(0.1)),
                        },
                        price_asked: asked,
                        price_list: r.list_price,
                        care_type: r.care_type,
                        patient_category: r.patient_category,
                        frequency: r.frequency,
                        service_category: r.category,
                    }
                })
                .collect();
            ClaimSpec {
                person: rng.random_range(0..3),
                hospital,
                date_from,
                date_to,
                visit,
                lines,
            }
        })
        .collect()
}

/// What the other claims of each policy used before: some deductible taken, some paid out.
fn ledger() -> Ledger {
    let used = Used {
        ded: 2_000,
        ded_op: 2_000,
        rem: 150_000,
        rem_op: 120_000,
        rem_ip: 30_000,
        rem_consultation: 60_000,
        ..Used::default()
    };
    Ledger {
        insuree: used,
        policy: Used {
            rem: 600_000,
            rem_op: 450_000,
            rem_ip: 150_000,
            ..used
        },
    }
}

/// Value the accepted lines of a decided claim, per policy that pays them, as processing does.
fn valuate(c: &ClaimFacts, d: &Decision, ledger: &Ledger) -> i64 {
    if d.outcome != ClaimOutcome::Checked {
        return 0;
    }
    let adult = c.adult();
    let treatment = |category| Treatment {
        multi_day: c.multi_day(),
        facility_level: c.facility.level,
        category,
        members: 5,
    };
    // The accepted lines by the policy that pays them (at most two policies here).
    let mut by_policy: Vec<(Uuid, Uuid, Vec<PayLine>)> = Vec::with_capacity(2);
    for (line, decision) in c.lines.iter().zip(&d.lines) {
        let (true, Some(a), Some(price)) = (
            decision.accepted(),
            decision.assignment,
            decision.price_adjusted,
        ) else {
            continue;
        };
        let product = c
            .covers
            .iter()
            .find(|w| w.product_id == a.product_id)
            .map(|w| w.product)
            .expect("the paying product is a cover's");
        let terms = choice::terms(product, line.kind, line.register_id, c.visit_type, adult);
        let pay = PayLine {
            qty: decision.qty_approved,
            unit: price,
            limitation: a.limitation,
            limitation_value: a.limitation_value,
            ceiling_exclusion: terms.and_then(|t| t.ceiling_exclusion),
        };
        match by_policy.iter_mut().find(|(p, _, _)| *p == a.policy_id) {
            Some((_, _, lines)) => lines.push(pay),
            None => by_policy.push((a.policy_id, a.product_id, vec![pay])),
        }
    }
    let mut total = 0i64;
    for (_, product_id, lines) in &by_policy {
        let product = c
            .covers
            .iter()
            .find(|w| w.product_id == *product_id)
            .map(|w| w.product)
            .expect("a cover's product");
        let v = value(product, &treatment(d.category), ledger, lines);
        total += v.used.rem;
    }
    total
}

/// Judge the claims round and round for `duration` (the clock read every 64 claims); answers
/// the claims and lines judged and the time taken.
fn measure(
    claims: &[ClaimFacts],
    duration: Duration,
    mut judge: impl FnMut(&ClaimFacts) -> i64,
) -> (u64, u64, Duration) {
    let started = Instant::now();
    let (mut done, mut lines) = (0u64, 0u64);
    'outer: loop {
        for chunk in claims.chunks(64) {
            for c in chunk {
                black_box(judge(black_box(c)));
            }
            done += chunk.len() as u64;
            lines += chunk.iter().map(|c| c.lines.len() as u64).sum::<u64>();
            if started.elapsed() >= duration {
                break 'outer;
            }
        }
    }
    (done, lines, started.elapsed())
}

fn main() {
    let seconds: f64 = std::env::var("BIMA_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);
    let duration = Duration::from_secs_f64(seconds);
    let mut rng = StdRng::seed_from_u64(5);
    let (items, services) = registers(&mut rng);
    let products = products(&items, &services);
    let product_ids = [
        Uuid::from_u128(0xC1),
        Uuid::from_u128(0xC2),
        Uuid::from_u128(0xC3),
    ];
    let people = people(&mut rng, &items, &services);
    let specs = claims(&mut rng, &items, &services);
    let hospital = Facility {
        code: "DH0001".into(),
        name: "District 1 Hospital".into(),
        care_type: CareType::Both,
        level: FacilityLevel::Hospital,
    };
    let centre = Facility {
        code: "DC00001".into(),
        name: "Ward 1 Health Centre".into(),
        care_type: CareType::OutPatient,
        level: FacilityLevel::HealthCentre,
    };
    let covers: Vec<Vec<Cover>> = people
        .iter()
        .enumerate()
        .map(|(p, person)| {
            person
                .windows
                .iter()
                .enumerate()
                .map(
                    |(w, &(product, stage, policy_effective, insuree_effective))| {
                        let expiry =
                            policy::rules::add_months(policy_effective, 12) - Days::days(1);
                        Cover {
                            policy_id: Uuid::from_u128(0xB000 + (p * 2 + w) as u128),
                            product_id: product_ids[product],
                            product: &products[product],
                            stage,
                            policy_effective,
                            policy_expiry: expiry,
                            insuree_effective,
                            insuree_expiry: expiry,
                        }
                    },
                )
                .collect()
        })
        .collect();
    let facts: Vec<ClaimFacts> = specs
        .iter()
        .map(|s| ClaimFacts {
            date_claimed: s.date_to.unwrap_or(s.date_from),
            date_from: s.date_from,
            date_to: s.date_to,
            visit_type: s.visit,
            facility: if s.hospital { &hospital } else { &centre },
            patient: &people[s.person].patient,
            lines: &s.lines,
            covers: &covers[s.person],
            history: &people[s.person].history,
        })
        .collect();
    let ledger = ledger();
    let lines_total: usize = facts.iter().map(|c| c.lines.len()).sum();

    // The spread of outcomes over one pass (untimed).
    let mut reasons: BTreeMap<i16, (&'static str, usize)> = BTreeMap::new();
    let mut checked = 0usize;
    for c in &facts {
        let d = submit(c);
        checked += usize::from(d.outcome == ClaimOutcome::Checked);
        for l in &d.lines {
            reasons.entry(l.reason.code()).or_insert((l.rule, 0)).1 += 1;
        }
    }

    println!("# claim engine benchmark (one thread)\n");
    println!(
        "{} claims, {lines_total} lines ({:.1} per claim); {ITEMS} items and {SERVICES} services; \
         3 products; 3 patients under 2 policies each with 20 provisions and 20 claims before; \
         {:.1} s per measurement.\n",
        facts.len(),
        lines_total as f64 / facts.len() as f64,
        duration.as_secs_f64()
    );
    println!(
        "Outcomes: {checked} claims checked, {} rejected.\n",
        facts.len() - checked
    );
    println!("| line reason | rule | lines | share |");
    println!("|---|---|---|---|");
    for (code, (rule, n)) in &reasons {
        println!(
            "| {code} | {rule} | {n} | {:.1} % |",
            *n as f64 * 100.0 / lines_total as f64
        );
    }

    // Warm up: one pass of each.
    for c in &facts {
        let d = submit(c);
        black_box(valuate(c, &d, &ledger));
    }
    println!("\n| operation | claims | lines | claims/s | lines/s | µs per claim | target |");
    println!("|---|---|---|---|---|---|---|");
    let row = |what: &str, (claims, lines, took): (u64, u64, Duration), target: bool| {
        let lines_per_s = lines as f64 / took.as_secs_f64();
        let verdict = if !target {
            String::new()
        } else if lines_per_s >= TARGET_LINES_PER_S {
            "≥ 100,000 lines/s — met".to_string()
        } else {
            "≥ 100,000 lines/s — missed".to_string()
        };
        println!(
            "| {what} | {claims} | {lines} | {:.0}/s | {lines_per_s:.0}/s | {:.2} | {verdict} |",
            claims as f64 / took.as_secs_f64(),
            took.as_secs_f64() * 1e6 / claims as f64,
        );
    };
    let alone = measure(&facts, duration, |c| submit(c).approved);
    row("`rules::submit`", alone, true);
    let both = measure(&facts, duration, |c| {
        let d = submit(c);
        valuate(c, &d, &ledger)
    });
    row("`rules::submit` + `valuation::value`", both, true);
}
