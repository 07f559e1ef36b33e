//! The product module's tables: tblProduct, tblProductItems, tblProductServices, tblRelDistr.
//!
//! Decimal money ("12.50") converts exactly to minor units; percentages must be whole. The
//! product rules of the API are not all applied: openIMIS validated little, and a scheme's
//! products as they ran are its real data (the demo has lump sums without a threshold and
//! relative distributions of all three period types summing to 0). A row is skipped only when
//! it cannot be read: a bad id, date or code, an unknown location, item or service.

use crate::csvfile::{self, Row};
use crate::{
    History, LegacyIds, Progress, Report, TableRun, import_entry, legacy_map, mark_deleted_with,
    placeholder,
};
use kernel::{Actor, audit};
use location::model::{FacilityLevel, FacilitySubLevel};
use product::model::*;
use std::collections::HashMap;
use std::path::Path;
use store::Db;
use uuid::Uuid;

/// openIMIS integer ids of this module's tables → Bima UUIDs, for the tables imported after it.
#[derive(Default)]
pub(crate) struct Ids {
    /// tblProduct.ProdID → product (history rows map to their current or deleted product).
    pub(crate) products: HashMap<i64, Uuid>,
    /// Products deleted in openIMIS: their code and when. Each is written as a current product
    /// under a placeholder code, takes its lines, and is closed when the lines are in
    /// ([`close_deleted`]), so that the lines find it as the API's own writes would.
    pub(crate) deleted: HashMap<Uuid, (String, time::OffsetDateTime)>,
}

pub(crate) async fn import(
    db: &Db,
    dir: &Path,
    actor: &Actor,
    progress: Progress,
    report: &mut Report,
    ids: &mut LegacyIds,
) -> anyhow::Result<()> {
    import_products(db, dir, actor, progress, report, ids).await?;
    import_items(db, dir, actor, progress, report, ids).await?;
    import_services(db, dir, actor, progress, report, ids).await?;
    import_distributions(db, dir, actor, progress, report, ids).await?;
    close_deleted(db, ids).await
}

/// Mark the products deleted in openIMIS deleted, with their own codes (again on a second run:
/// the same values).
async fn close_deleted(db: &Db, ids: &LegacyIds) -> anyhow::Result<()> {
    if ids.product.deleted.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    for (id, (code, at)) in &ids.product.deleted {
        mark_deleted_with(&mut tx, "products", "code", code, *id, *at).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The product a line names: `Ok(Some)` to add lines to; `Ok(None)` for one deleted in
/// openIMIS and closed by an earlier run, which took its lines before it was closed; `Err` when
/// it was not imported.
async fn product_for_lines(
    tx: &mut store::Tx,
    ids: &LegacyIds,
    id: Uuid,
) -> anyhow::Result<Result<Option<Product>, ()>> {
    match product::store::get_product(tx, id).await? {
        Some(p) => Ok(Ok(Some(p))),
        None if ids.product.deleted.contains_key(&id)
            && ::registry::store::row_exists(tx, "products", id).await? =>
        {
            Ok(Ok(None))
        }
        None => Ok(Err(())),
    }
}

/// A whole percentage written as a decimal ("100.00").
fn percent(row: &Row, column: &str) -> Result<Option<i64>, String> {
    match row.money(column)? {
        None => Ok(None),
        Some(v) if v % 100 == 0 => Ok(Some(v / 100)),
        Some(_) => Err(format!(
            "{column} \"{}\" is not a whole percentage",
            row.get(column).unwrap_or("")
        )),
    }
}

fn letter<T>(
    row: &Row,
    column: &str,
    parse: fn(&str) -> Option<T>,
    allowed: &str,
) -> Result<Option<T>, String> {
    row.get(column)
        .map(|v| parse(v).ok_or_else(|| format!("{column} \"{v}\" is not {allowed}")))
        .transpose()
}

pub(crate) fn product_from_row(row: &Row, ids: &LegacyIds) -> Result<Product, String> {
    let id = row.uuid("ProdUUID")?;
    let code = row.text("ProductCode")?.to_string();
    let location_id = ids.region_or_district(row.int("LocationId")?, &format!("product {code}"))?;
    let conversion_product_id =
        match row.int("ConversionProdID")? {
            None => None,
            Some(legacy) => Some(*ids.product.products.get(&legacy).ok_or_else(|| {
                format!("ConversionProdID {legacy} is not a product of this export")
            })?),
        };
    let mut capitation_levels = Vec::new();
    for i in 1..=4 {
        if let Some(level) = letter(
            row,
            &format!("Level{i}"),
            FacilityLevel::from_code,
            "D, C or H",
        )? {
            capitation_levels.push(CapitationLevel {
                level,
                sublevel: letter(
                    row,
                    &format!("Sublevel{i}"),
                    FacilitySubLevel::from_code,
                    "I, N or R",
                )?,
            });
        }
    }
    let start_cycles = (1..=4)
        .filter_map(|i| row.get(&format!("StartCycle{i}")).map(str::to_string))
        .collect();
    let terms = ProductInput {
        code,
        name: row.text("ProductName")?.to_string(),
        location_id,
        date_from: row.date("DateFrom")?.ok_or("DateFrom is empty")?,
        date_to: row.date("DateTo")?.ok_or("DateTo is empty")?,
        conversion_product_id,
        periods: Periods {
            insurance_period: row.int("InsurancePeriod")?.unwrap_or(12),
            administration_period: row.int("AdministrationPeriod")?,
            max_installments: row.int("MaxInstallments")?,
            grace_period_enrolment: row.int("GracePeriod")?,
            grace_period_renewal: row.int("GracePeriodRenewal")?,
            grace_period_payment: row.int("WaitingPeriod")?,
            recurrence: row.int("Recurrence")?,
        },
        start_cycles,
        premium: Premium {
            lump_sum: row.money("LumpSum")?.unwrap_or(0),
            max_members: row.int("MemberCount")?.ok_or("MemberCount is empty")?,
            threshold: row.int("Threshold")?,
            adult: row.money("PremiumAdult")?,
            child: row.money("PremiumChild")?,
            registration_lump_sum: row.money("RegistrationLumpSum")?,
            registration_fee: row.money("RegistrationFee")?,
            general_assembly_lump_sum: row.money("GeneralAssemblyLumpSum")?,
            general_assembly_fee: row.money("GeneralAssemblyFee")?,
            enrolment_discount_percent: percent(row, "EnrolmentDiscountPerc")?,
            enrolment_discount_period: row.int("EnrolmentDiscountPeriod")?,
            renewal_discount_percent: percent(row, "RenewalDiscountPerc")?,
            renewal_discount_period: row.int("RenewalDiscountPeriod")?,
        },
        deductibles: Deductibles {
            insuree: row.money("DedInsuree")?,
            ip_insuree: row.money("DedIPInsuree")?,
            op_insuree: row.money("DedOPInsuree")?,
            treatment: row.money("DedTreatment")?,
            ip_treatment: row.money("DedIPTreatment")?,
            op_treatment: row.money("DedOPTreatment")?,
            policy: row.money("DedPolicy")?,
            ip_policy: row.money("DedIPPolicy")?,
            op_policy: row.money("DedOPPolicy")?,
        },
        ceilings: Ceilings {
            insuree: row.money("MaxInsuree")?,
            ip_insuree: row.money("MaxIPInsuree")?,
            op_insuree: row.money("MaxOPInsuree")?,
            treatment: row.money("MaxTreatment")?,
            ip_treatment: row.money("MaxIPTreatment")?,
            op_treatment: row.money("MaxOPTreatment")?,
            policy: row.money("MaxPolicy")?,
            ip_policy: row.money("MaxIPPolicy")?,
            op_policy: row.money("MaxOPPolicy")?,
            extra_member: row.money("MaxPolicyExtraMember")?,
            extra_member_ip: row.money("MaxPolicyExtraMemberIP")?,
            extra_member_op: row.money("MaxPolicyExtraMemberOP")?,
            policy_cap: row.money("MaxCeilingPolicy")?,
            policy_cap_ip: row.money("MaxCeilingPolicyIP")?,
            policy_cap_op: row.money("MaxCeilingPolicyOP")?,
        },
        ceiling_type: letter(row, "CeilingType", CeilingType::from_code, "I, T or P")?,
        ceiling_interpretation: letter(
            row,
            "CeilingInterpretation",
            CeilingInterpretation::from_code,
            "I or H",
        )?
        .unwrap_or(CeilingInterpretation::ClaimType),
        limits: Limits {
            max_no_consultation: row.int("MaxNoConsultation")?,
            max_no_surgery: row.int("MaxNoSurgery")?,
            max_no_delivery: row.int("MaxNoDelivery")?,
            max_no_hospitalization: row.int("MaxNoHospitalizaion")?,
            max_no_visits: row.int("MaxNoVisits")?,
            max_no_antenatal: row.int("MaxNoAntenatal")?,
            max_amount_consultation: row.money("MaxAmountConsultation")?,
            max_amount_surgery: row.money("MaxAmountSurgery")?,
            max_amount_delivery: row.money("MaxAmountDelivery")?,
            max_amount_hospitalization: row.money("MaxAmountHospitalization")?,
            max_amount_antenatal: row.money("MaxAmountAntenatal")?,
        },
        capitation_levels,
        capitation: Capitation {
            weight_population: percent(row, "WeightPopulation")?,
            weight_nb_families: percent(row, "WeightNumberFamilies")?,
            weight_insured_population: percent(row, "WeightInsuredPopulation")?,
            weight_nb_insured_families: percent(row, "WeightNumberInsuredFamilies")?,
            weight_nb_visits: percent(row, "WeightNumberVisits")?,
            weight_adjusted_amount: percent(row, "WeightAdjustedAmount")?,
            share_contribution: percent(row, "ShareContribution")?,
        },
        acc_code_premiums: row.get("AccCodePremiums").map(str::to_string),
        acc_code_remuneration: row.get("AccCodeRemuneration").map(str::to_string),
        items: Vec::new(),
        services: Vec::new(),
        relative_distribution: Vec::new(),
        version: None,
    };
    // What makes a product unreadable is refused; the scheme's terms as they ran are kept.
    let mut checks = kernel::Checks::new();
    checks.required("code", &terms.code, 8);
    checks.required("name", &terms.name, 100);
    if terms.date_to < terms.date_from {
        checks.push("date_to", "before_start", "DateTo is before DateFrom");
    }
    rules_that_must_hold(&terms, &mut checks);
    if let Err(kernel::Error::Invalid(fields)) = checks.finish() {
        return Err(format!(
            "product {}: {}: {}",
            terms.code, fields[0].field, fields[0].message
        ));
    }
    let stamp = row
        .timestamp("ValidityFrom")?
        .unwrap_or_else(audit::now_micros);
    let rel = |column: &str| letter(row, column, RelPricePeriod::from_code, "M, Q or Y");
    Ok(Product {
        id,
        period_rel_prices: rel("PeriodRelPrices")?,
        period_rel_prices_ip: rel("PeriodRelPricesIP")?,
        period_rel_prices_op: rel("PeriodRelPricesOP")?,
        terms: product::service::clean(terms),
        version: 1,
        created_at: stamp,
        updated_at: stamp,
    })
}

/// The checks an imported product must pass: start cycles that are real days (a later policy
/// computation depends on them) and no negative amounts.
fn rules_that_must_hold(terms: &ProductInput, checks: &mut kernel::Checks) {
    product::rules::check_start_cycles(&terms.start_cycles, checks);
    for (column, value) in product::store::term_columns().zip(product::store::term_values(terms)) {
        if value.is_some_and(|v| v < 0) {
            checks.push(column, "negative", format!("{column} is negative"));
        }
    }
}

async fn import_products(
    db: &Db,
    dir: &Path,
    actor: &Actor,
    progress: Progress,
    report: &mut Report,
    ids: &mut LegacyIds,
) -> anyhow::Result<()> {
    let Some(rows) = csvfile::read(dir, "tblProduct")? else {
        return Ok(());
    };
    ids.product.products = legacy_map(&rows, "ProdID", "ProdUUID");
    let history = History::new("tblProduct", &rows, "ProdID", &ids.product.products);
    let mut run = TableRun::new(db, "tblProduct", rows.len(), progress);
    for row in &rows {
        if !row.is_current() && !row.is_deleted() {
            run.count.history += 1;
            run.bar.inc(1);
            continue;
        }
        match product_from_row(row, ids).and_then(|p| Ok((p, row.deleted_at()?))) {
            Err(reason) => run.skip(row, reason),
            Ok((p, deleted_at)) => {
                let tx = run.tx().await?;
                if let Some(at) = deleted_at {
                    ids.product.deleted.insert(p.id, (p.terms.code.clone(), at));
                }
                let entity = product::service::PRODUCT;
                if ::registry::store::row_exists(tx, "products", p.id).await? {
                    run.counted(true, deleted_at.is_some());
                } else if let Some(at) = deleted_at {
                    let mut parked = p.clone();
                    parked.terms.code = placeholder(p.id);
                    product::store::save_product(tx, &parked, None).await?;
                    import_entry(actor, entity, p.id, "import", &p, Some(at))?
                        .append(tx)
                        .await?;
                    history.append(tx, actor, entity, p.id).await?;
                    run.counted(false, true);
                } else if product::store::product_code_taken(tx, &p.terms.code, Some(p.id)).await? {
                    run.skip(
                        row,
                        format!(
                            "the product code {} is already used by another product",
                            p.terms.code
                        ),
                    );
                    continue;
                } else {
                    product::store::save_product(tx, &p, None).await?;
                    audit::append(
                        tx,
                        actor,
                        product::service::PRODUCT,
                        p.id,
                        "import",
                        None::<&()>,
                        Some(&p),
                    )
                    .await?;
                    history
                        .append(tx, actor, product::service::PRODUCT, p.id)
                        .await?;
                    run.count.imported += 1;
                }
                run.done().await?;
            }
        }
    }
    run.finish(report).await
}

/// Add each product's new parts (decided by `add`, which answers how many rows it added) and
/// save the product once, with one audit record.
async fn add_to_products<T>(
    run: &mut TableRun<'_>,
    actor: &Actor,
    ids: &LegacyIds,
    by_product: HashMap<Uuid, Vec<(&Row, T)>>,
    add: impl Fn(&mut ProductInput, &T) -> bool,
) -> anyhow::Result<()> {
    for (product_id, parts) in by_product {
        let tx = run.tx().await?;
        let before = match product_for_lines(tx, ids, product_id).await? {
            Ok(Some(before)) => before,
            Ok(None) => {
                run.count.unchanged += parts.len() as u64;
                for _ in &parts {
                    run.done().await?;
                }
                continue;
            }
            Err(()) => {
                for (row, _) in &parts {
                    run.skip(row, "its product was not imported".into());
                }
                continue;
            }
        };
        let mut after = before.clone();
        let mut added = 0u64;
        for (_, part) in &parts {
            if add(&mut after.terms, part) {
                added += 1;
            }
        }
        if added > 0 {
            after.version += 1;
            after.updated_at = audit::now_micros();
            product::store::save_product(tx, &after, Some(before.version)).await?;
            audit::append(
                tx,
                actor,
                product::service::PRODUCT,
                product_id,
                "import",
                Some(&before),
                Some(&after),
            )
            .await?;
        }
        run.count.imported += added;
        run.count.unchanged += parts.len() as u64 - added;
        for _ in &parts {
            run.done().await?;
        }
    }
    Ok(())
}

fn product_of(row: &Row, ids: &LegacyIds) -> Result<Uuid, String> {
    let legacy = row.int("ProdID")?.ok_or("ProdID is empty")?;
    ids.product
        .products
        .get(&legacy)
        .copied()
        .ok_or_else(|| format!("ProdID {legacy} is not a product of this export"))
}

/// The limit of a coverage line: C → whole percent, F → money.
fn limit(row: &Row, kind: Option<LimitationType>, column: &str) -> Result<Option<i64>, String> {
    match kind {
        Some(LimitationType::Fixed) => row.money(column),
        _ => percent(row, column),
    }
}

macro_rules! line_from_row {
    ($ty:ident, $id:ident, $row:expr, $line:expr, $checker:path) => {{
        let row = $row;
        let kinds = [
            letter(row, "LimitationType", LimitationType::from_code, "C or F")?,
            letter(row, "LimitationTypeR", LimitationType::from_code, "C or F")?,
            letter(row, "LimitationTypeE", LimitationType::from_code, "C or F")?,
        ];
        let line = $ty {
            $id: $line,
            price_origin: letter(row, "PriceOrigin", PriceOrigin::from_code, "P, O or R")?,
            limitation_type: kinds[0],
            limitation_type_r: kinds[1],
            limitation_type_e: kinds[2],
            limit_adult: limit(row, kinds[0], "LimitAdult")?,
            limit_child: limit(row, kinds[0], "LimitChild")?,
            limit_adult_r: limit(row, kinds[1], "LimitAdultR")?,
            limit_child_r: limit(row, kinds[1], "LimitChildR")?,
            limit_adult_e: limit(row, kinds[2], "LimitAdultE")?,
            limit_child_e: limit(row, kinds[2], "LimitChildE")?,
            waiting_period_adult: row.int("WaitingPeriodAdult")?,
            waiting_period_child: row.int("WaitingPeriodChild")?,
            limit_no_adult: row.int("LimitNoAdult")?,
            limit_no_child: row.int("LimitNoChild")?,
            ceiling_exclusion_adult: letter(
                row,
                "CeilingExclusionAdult",
                CeilingExclusion::from_code,
                "H, N or B",
            )?,
            ceiling_exclusion_child: letter(
                row,
                "CeilingExclusionChild",
                CeilingExclusion::from_code,
                "H, N or B",
            )?,
        }
        .with_defaults();
        let mut checks = kernel::Checks::new();
        $checker(std::slice::from_ref(&line), &mut checks);
        if let Err(kernel::Error::Invalid(fields)) = checks.finish() {
            return Err(format!("{}: {}", fields[0].field, fields[0].message));
        }
        Ok(line)
    }};
}

async fn import_items(
    db: &Db,
    dir: &Path,
    actor: &Actor,
    progress: Progress,
    report: &mut Report,
    ids: &LegacyIds,
) -> anyhow::Result<()> {
    let Some(rows) = csvfile::read(dir, "tblProductItems")? else {
        return Ok(());
    };
    let mut run = TableRun::new(db, "tblProductItems", rows.len(), progress);
    let mut by_product: HashMap<Uuid, Vec<(&Row, ProductItem)>> = HashMap::new();
    for row in &rows {
        if !row.is_current() {
            run.count.history += 1;
            run.bar.inc(1);
            continue;
        }
        let parsed = (|| -> Result<(Uuid, ProductItem), String> {
            let product = product_of(row, ids)?;
            let legacy = row.int("ItemID")?.ok_or("ItemID is empty")?;
            let item = *ids.medical.items.get(&legacy).ok_or_else(|| {
                format!("ItemID {legacy} is not a medical item imported from this export")
            })?;
            let line: Result<ProductItem, String> =
                line_from_row!(ProductItem, item_id, row, item, product::rules::check_items);
            Ok((product, line?))
        })();
        match parsed {
            Ok((product, line)) => by_product.entry(product).or_default().push((row, line)),
            Err(reason) => run.skip(row, reason),
        }
    }
    add_to_products(
        &mut run,
        actor,
        ids,
        by_product,
        |terms, line: &ProductItem| {
            if terms.items.iter().any(|l| l.item_id == line.item_id) {
                return false;
            }
            terms.items.push(line.clone());
            true
        },
    )
    .await?;
    run.finish(report).await
}

async fn import_services(
    db: &Db,
    dir: &Path,
    actor: &Actor,
    progress: Progress,
    report: &mut Report,
    ids: &LegacyIds,
) -> anyhow::Result<()> {
    let Some(rows) = csvfile::read(dir, "tblProductServices")? else {
        return Ok(());
    };
    let mut run = TableRun::new(db, "tblProductServices", rows.len(), progress);
    let mut by_product: HashMap<Uuid, Vec<(&Row, ProductService)>> = HashMap::new();
    for row in &rows {
        if !row.is_current() {
            run.count.history += 1;
            run.bar.inc(1);
            continue;
        }
        let parsed = (|| -> Result<(Uuid, ProductService), String> {
            let product = product_of(row, ids)?;
            let legacy = row.int("ServiceID")?.ok_or("ServiceID is empty")?;
            let service = *ids.medical.services.get(&legacy).ok_or_else(|| {
                format!("ServiceID {legacy} is not a medical service imported from this export")
            })?;
            let line: Result<ProductService, String> = line_from_row!(
                ProductService,
                service_id,
                row,
                service,
                product::rules::check_services
            );
            Ok((product, line?))
        })();
        match parsed {
            Ok((product, line)) => by_product.entry(product).or_default().push((row, line)),
            Err(reason) => run.skip(row, reason),
        }
    }
    add_to_products(
        &mut run,
        actor,
        ids,
        by_product,
        |terms, line: &ProductService| {
            if terms
                .services
                .iter()
                .any(|l| l.service_id == line.service_id)
            {
                return false;
            }
            terms.services.push(line.clone());
            true
        },
    )
    .await?;
    run.finish(report).await
}

/// One distribution of one product: (product, care type, distribution type).
type DistrKey = (Uuid, DistributionCareType, i64);

/// One tblRelDistr row: (care type, distribution type, period, percent).
type DistrRow = (DistributionCareType, i64, i64, i64);

async fn import_distributions(
    db: &Db,
    dir: &Path,
    actor: &Actor,
    progress: Progress,
    report: &mut Report,
    ids: &LegacyIds,
) -> anyhow::Result<()> {
    let Some(rows) = csvfile::read(dir, "tblRelDistr")? else {
        return Ok(());
    };
    let mut run = TableRun::new(db, "tblRelDistr", rows.len(), progress);
    let mut parsed_rows: Vec<(&Row, Uuid, DistrRow)> = Vec::new();
    for row in &rows {
        if !row.is_current() {
            run.count.history += 1;
            run.bar.inc(1);
            continue;
        }
        let parsed = (|| -> Result<(Uuid, DistrRow), String> {
            let product = product_of(row, ids)?;
            let care = letter(
                row,
                "DistrCareType",
                DistributionCareType::from_code,
                "B, I or O",
            )?
            .ok_or("DistrCareType is empty")?;
            let kind = row.int("DistrType")?.ok_or("DistrType is empty")?;
            if !matches!(kind, 1 | 4 | 12) {
                return Err(format!("DistrType {kind} is not 1, 4 or 12"));
            }
            let period = row.int("Period")?.ok_or("Period is empty")?;
            if !(1..=kind).contains(&period) {
                return Err(format!("Period {period} is not between 1 and {kind}"));
            }
            let pct = percent(row, "DistrPerc")?.unwrap_or(0);
            if !(0..=100).contains(&pct) {
                return Err(format!("DistrPerc {pct} is not a percentage"));
            }
            Ok((product, (care, kind, period, pct)))
        })();
        match parsed {
            Ok((product, d)) => parsed_rows.push((row, product, d)),
            Err(reason) => run.skip(row, reason),
        }
    }
    // A distribution is whole or not at all: every period of its type, once.
    let mut lists: HashMap<DistrKey, Vec<(&Row, i64, i64)>> = HashMap::new();
    for (row, product, (care, kind, period, pct)) in parsed_rows {
        lists
            .entry((product, care, kind))
            .or_default()
            .push((row, period, pct));
    }
    let mut by_product: HashMap<Uuid, Vec<(&Row, Option<Distribution>)>> = HashMap::new();
    for ((product, care, kind), mut periods) in lists {
        periods.sort_by_key(|(_, period, _)| *period);
        let complete = periods.len() as i64 == kind
            && periods
                .iter()
                .enumerate()
                .all(|(i, (_, period, _))| *period == i as i64 + 1);
        if !complete {
            for (row, period, _) in &periods {
                run.skip(
                    row,
                    format!(
                        "period {period} belongs to a distribution of {kind} periods that is incomplete or repeats a period"
                    ),
                );
            }
            continue;
        }
        let list = Distribution {
            care_type: care,
            periods: periods.iter().map(|(_, _, pct)| *pct).collect(),
        };
        let entry = by_product.entry(product).or_default();
        // The whole list rides on its first row; the others only count.
        for (i, (row, _, _)) in periods.iter().enumerate() {
            entry.push((row, (i == 0).then(|| list.clone())));
        }
    }
    add_distributions(&mut run, actor, ids, by_product).await?;
    run.finish(report).await
}

/// Like `add_to_products`, for distributions whose rows count one by one but add as a list.
async fn add_distributions(
    run: &mut TableRun<'_>,
    actor: &Actor,
    ids: &LegacyIds,
    by_product: HashMap<Uuid, Vec<(&Row, Option<Distribution>)>>,
) -> anyhow::Result<()> {
    for (product_id, parts) in by_product {
        let tx = run.tx().await?;
        let before = match product_for_lines(tx, ids, product_id).await? {
            Ok(Some(before)) => before,
            Ok(None) => {
                run.count.unchanged += parts.len() as u64;
                for _ in &parts {
                    run.done().await?;
                }
                continue;
            }
            Err(()) => {
                for (row, _) in &parts {
                    run.skip(row, "its product was not imported".into());
                }
                continue;
            }
        };
        let mut after = before.clone();
        let mut added = 0u64;
        for list in parts.iter().filter_map(|(_, l)| l.as_ref()) {
            let present =
                after.terms.relative_distribution.iter().any(|d| {
                    d.care_type == list.care_type && d.periods.len() == list.periods.len()
                });
            if !present {
                added += list.periods.len() as u64;
                after.terms.relative_distribution.push(list.clone());
            }
        }
        if added > 0 {
            after
                .terms
                .relative_distribution
                .sort_by_key(|d| (d.care_type.code(), d.periods.len()));
            after.version += 1;
            after.updated_at = audit::now_micros();
            product::store::save_product(tx, &after, Some(before.version)).await?;
            audit::append(
                tx,
                actor,
                product::service::PRODUCT,
                product_id,
                "import",
                Some(&before),
                Some(&after),
            )
            .await?;
        }
        run.count.imported += added;
        run.count.unchanged += parts.len() as u64 - added;
        for _ in &parts {
            run.done().await?;
        }
    }
    Ok(())
}
