//! A family's page: its members (add one), its policies (enrol the family in a product, pay a
//! policy's contribution).

use super::{day, form_fields, money, see_other};
use crate::session::Page;
use crate::{Chrome, html};
use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use kernel::{AppState, Error, PageParams, Result};
use registry::model::FamilyDetail;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// A policy as the family page shows it.
pub struct PolicyRow {
    pub id: Uuid,
    pub product: String,
    pub status: String,
    pub value: String,
    pub paid: String,
    pub balance: String,
    /// The balance as the pay form's default amount; empty when nothing is due.
    pub due: String,
    pub dates: String,
    /// Active or expired, and the user may renew.
    pub renewable: bool,
}

/// A form the services refused: which one, what was typed, and why.
#[derive(Default)]
pub struct Refused {
    /// `enrol` or the policy id of a pay form.
    pub form: String,
    pub values: HashMap<String, String>,
    pub message: String,
    /// Errors by field, shown next to each.
    pub errors: HashMap<String, String>,
}

#[derive(Template)]
#[template(path = "family.html")]
struct FamilyPage {
    chrome: Chrome,
    detail: FamilyDetail,
    notice: String,
    policies: Vec<PolicyRow>,
    /// (id, code and name) of the products a family can be enrolled in.
    products: Vec<(Uuid, String)>,
    can_enrol: bool,
    can_pay: bool,
    can_add_member: bool,
    can_edit: bool,
    refused: Refused,
    today: String,
}

impl FamilyPage {
    /// What the user typed in `field` of `form`, else `default`.
    fn typed(&self, form: &str, field: &str, default: &str) -> String {
        if self.refused.form == form {
            self.refused.values.get(field).cloned().unwrap_or_default()
        } else {
            default.to_string()
        }
    }

    fn refusal(&self, form: &str) -> String {
        if self.refused.form == form {
            self.refused.message.clone()
        } else {
            String::new()
        }
    }

    /// The error of `field` of `form`, empty when none.
    fn error(&self, form: &str, field: &str) -> String {
        if self.refused.form == form {
            super::error_of(&self.refused.errors, field)
        } else {
            String::new()
        }
    }
}

/// A service's refusal in one sentence for the form it concerns (a record it names that is not
/// there, too).
fn refusal_message(page: &Page, e: &Error) -> Option<String> {
    super::refusal(e)
        .or_else(|| matches!(e, Error::NotFound { .. }).then(|| page.tr.t("not-found")))
}

async fn rows(state: &AppState, page: &Page, family: Uuid) -> Result<Vec<PolicyRow>> {
    let filter = policy::store::PolicyFilter {
        family_id: Some(family),
        ..Default::default()
    };
    let listed = match policy::service::list_policies(
        &state.db,
        &page.actor,
        filter,
        PageParams::new(Some(1), Some(100)),
    )
    .await
    {
        Ok(l) => l.items,
        Err(Error::Forbidden { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::with_capacity(listed.len());
    for p in listed {
        let d = policy::service::get_policy(&state.db, &page.actor, &p.id.to_string()).await?;
        let status = serde_json::to_value(d.policy.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        out.push(PolicyRow {
            id: d.policy.id,
            product: format!("{} {}", d.product_code, d.product_name),
            status: page.tr.code("policy-status", &status),
            value: money(d.policy.value),
            paid: money(d.paid),
            due: if d.balance > 0 {
                money(d.balance).replace(',', "")
            } else {
                String::new()
            },
            balance: money(d.balance),
            dates: format!("{} – {}", d.policy.start_date, d.policy.expiry_date),
            renewable: matches!(
                d.policy.status,
                policy::model::PolicyStatus::Active | policy::model::PolicyStatus::Expired
            ) && page.actor.has(policy::service::POLICY_RENEW),
        });
    }
    Ok(out)
}

/// The family page, with its members, its policies and the forms to enrol and pay.
pub async fn family_page(
    state: &AppState,
    page: &Page,
    id: &str,
    notice: String,
    refused: Refused,
) -> Response {
    let status = if refused.form.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let detail = match registry::service::get_family(&state.db, &page.actor, id).await {
        Ok(d) => d,
        Err(e) => return super::error_page(page, e),
    };
    let policies = match rows(state, page, detail.family.family.id).await {
        Ok(r) => r,
        Err(e) => return super::error_page(page, e),
    };
    let can_enrol = page.actor.has(policy::service::POLICY_ADD);
    let products = if can_enrol {
        let listed = product::service::list_products(
            &state.db,
            &page.actor,
            Default::default(),
            PageParams::new(Some(1), Some(100)),
            false,
        )
        .await;
        match listed {
            Ok(l) => l
                .items
                .into_iter()
                .map(|p| (p.id, format!("{} {}", p.terms.code, p.terms.name)))
                .collect(),
            Err(Error::Forbidden { .. }) => Vec::new(),
            Err(e) => return super::error_page(page, e),
        }
    } else {
        Vec::new()
    };
    let name = detail.family.head_last_name.clone().unwrap_or_default();
    let body = FamilyPage {
        chrome: Chrome::of(page, page.tr.t1("family-title", "name", &name), "/families"),
        detail,
        notice,
        policies,
        can_enrol: can_enrol && !products.is_empty(),
        products,
        can_pay: page.actor.has(policy::service::CONTRIBUTION_ADD),
        can_add_member: page.actor.has(registry::service::INSUREE_ADD),
        can_edit: page.actor.has(registry::service::FAMILY_EDIT),
        refused,
        today: time::OffsetDateTime::now_utc().date().to_string(),
    };
    html(status, body.render())
}

/// `POST /families/{id}/policies`: enrol the family in a product.
pub async fn enrol(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = form_fields(&body);
    let refuse = |message: String| Refused {
        form: "enrol".into(),
        values: form.clone(),
        message,
        errors: HashMap::new(),
    };
    if !page.csrf_ok(form.get("csrf").map(String::as_str)) {
        let r = refuse(page.tr.t("csrf-failed"));
        return family_page(&state, &page, &id, String::new(), r).await;
    }
    let family = match registry::service::get_family(&state.db, &page.actor, &id).await {
        Ok(d) => d.family.family.id,
        Err(e) => return super::error_page(&page, e),
    };
    let product = form.get("product_id").and_then(|p| Uuid::parse_str(p).ok());
    let enroll = form.get("enroll_date").and_then(|d| day(d));
    let (Some(product_id), Some(enroll_date)) = (product, enroll) else {
        let r = refuse(page.tr.t("form-errors"));
        return family_page(&state, &page, &id, String::new(), r).await;
    };
    let input = policy::model::PolicyInput {
        family_id: family,
        product_id,
        officer_id: None,
        enroll_date,
        is_offline: false,
    };
    let today = time::OffsetDateTime::now_utc().date();
    match policy::service::create_policy(&state.db, &page.actor, input, today).await {
        Ok(_) => see_other(&format!("/families/{family}?enrolled=1")),
        Err(e) => match refusal_message(&page, &e) {
            Some(m) => family_page(&state, &page, &id, String::new(), refuse(m)).await,
            None => super::error_page(&page, e),
        },
    }
}

/// An amount as typed (`1500`, `1,500.50`) in minor units.
pub fn parse_money(text: &str) -> Option<i64> {
    let clean: String = text
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != ' ')
        .collect();
    let (units, cents) = match clean.split_once('.') {
        Some((u, c)) if !c.is_empty() && c.len() <= 2 && c.chars().all(|d| d.is_ascii_digit()) => {
            (u, format!("{c:0<2}"))
        }
        Some(_) => return None,
        None => (clean.as_str(), "00".to_string()),
    };
    if units.is_empty() || !units.chars().all(|d| d.is_ascii_digit()) {
        return None;
    }
    units
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(cents.parse::<i64>().ok()?)
}

/// `POST /policies/{id}/contributions`: pay towards a policy.
pub async fn pay(
    State(state): State<AppState>,
    Extension(config): Extension<Arc<policy::service::Config>>,
    page: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = form_fields(&body);
    let detail = match policy::service::get_policy(&state.db, &page.actor, &id).await {
        Ok(d) => d,
        Err(e) => return super::error_page(&page, e),
    };
    let family = detail.policy.family_id.to_string();
    let refuse = |message: String| Refused {
        form: detail.policy.id.to_string(),
        values: form.clone(),
        message,
        errors: HashMap::new(),
    };
    if !page.csrf_ok(form.get("csrf").map(String::as_str)) {
        let r = refuse(page.tr.t("csrf-failed"));
        return family_page(&state, &page, &family, String::new(), r).await;
    }
    let amount = form.get("amount").and_then(|a| parse_money(a));
    let pay_date = form.get("pay_date").and_then(|d| day(d));
    let pay_type = form
        .get("pay_type")
        .and_then(|t| policy::model::PayType::from_code(t));
    let (Some(amount), Some(pay_date), Some(pay_type)) = (amount, pay_date, pay_type) else {
        let r = refuse(page.tr.t("form-errors"));
        return family_page(&state, &page, &family, String::new(), r).await;
    };
    let input = policy::model::ContributionInput {
        policy_id: detail.policy.id,
        payer_id: None,
        amount,
        receipt: form.get("receipt").cloned().unwrap_or_default(),
        pay_date,
        pay_type,
        is_photo_fee: false,
        shortfall: Default::default(),
        is_offline: false,
    };
    let today = time::OffsetDateTime::now_utc().date();
    match policy::service::create_contribution(&state.db, &page.actor, &config, input, today).await
    {
        Ok(_) => see_other(&format!("/families/{family}?paid=1")),
        Err(e) => match refusal_message(&page, &e) {
            Some(m) => family_page(&state, &page, &family, String::new(), refuse(m)).await,
            None => super::error_page(&page, e),
        },
    }
}

/// `POST /families/{id}/members`: a new member of the family.
pub async fn add_member(
    State(state): State<AppState>,
    Extension(config): Extension<Arc<registry::config::Config>>,
    Extension(hooks): Extension<registry::service::PolicyHooks>,
    page: Page,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = form_fields(&body);
    let get = |k: &str| {
        form.get(k)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let mut errors = HashMap::new();
    let refuse = |message: String, errors: HashMap<String, String>| Refused {
        form: "member".into(),
        values: form.clone(),
        message,
        errors,
    };
    if !page.csrf_ok(form.get("csrf").map(String::as_str)) {
        let r = refuse(page.tr.t("csrf-failed"), errors);
        return family_page(&state, &page, &id, String::new(), r).await;
    }
    let family = match registry::service::get_family(&state.db, &page.actor, &id).await {
        Ok(d) => d.family.family.id,
        Err(e) => return super::error_page(&page, e),
    };
    for field in ["chfid", "last_name", "other_names", "gender", "dob"] {
        if get(field).is_empty() {
            errors.insert(field.to_string(), page.tr.t("form-required"));
        }
    }
    let dob = day(&get("dob"));
    if dob.is_none() && !errors.contains_key("dob") {
        errors.insert("dob".into(), page.tr.t("error-invalid"));
    }
    let input = serde_json::json!({
        "family_id": family,
        "chfid": get("chfid"),
        "last_name": get("last_name"),
        "other_names": get("other_names"),
        "gender": get("gender"),
        "dob": dob.map(|d| d.to_string()),
    });
    let input: Option<registry::model::InsureeInput> = serde_json::from_value(input).ok();
    let (Some(input), true) = (input, errors.is_empty()) else {
        if errors.is_empty() {
            errors.insert("gender".into(), page.tr.t("error-invalid"));
        }
        let r = refuse(page.tr.t("form-errors"), errors);
        return family_page(&state, &page, &id, String::new(), r).await;
    };
    match registry::service::create_insuree(&state.db, &page.actor, &config, hooks, input).await {
        Ok(_) => see_other(&format!("/families/{family}?member=1")),
        Err(e) => {
            let fields = [
                ("chfid", "chfid"),
                ("last_name", "last_name"),
                ("other_names", "other_names"),
                ("gender", "gender"),
                ("dob", "dob"),
            ];
            match super::field_errors(&page.tr, &e, &fields) {
                Some(found) => {
                    let r = refuse(page.tr.t("form-errors"), found);
                    family_page(&state, &page, &id, String::new(), r).await
                }
                None => match refusal_message(&page, &e) {
                    Some(m) => {
                        let r = refuse(m, HashMap::new());
                        family_page(&state, &page, &id, String::new(), r).await
                    }
                    None => super::error_page(&page, e),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_money;

    #[test]
    fn amounts_are_read_as_typed() {
        assert_eq!(parse_money("1500"), Some(150_000));
        assert_eq!(parse_money("1,500.5"), Some(150_050));
        assert_eq!(parse_money(" 10.05 "), Some(1_005));
        assert_eq!(parse_money("10.055"), None);
        assert_eq!(parse_money("-3"), None);
        assert_eq!(parse_money("abc"), None);
        assert_eq!(parse_money(""), None);
        assert_eq!(parse_money("99999999999999999999"), None);
    }
}
