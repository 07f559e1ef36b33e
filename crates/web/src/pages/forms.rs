//! The create and change forms of the registers (locations, health facilities, roles, users,
//! products): one template (`record_form.html`), the fields described here. A record is read
//! into the form from its JSON, and the form is written back over the record's own input, so
//! that what the form does not show keeps what the record holds. The service checks the rest.
//! A save made after someone else's comes back with what was typed, what they saved beside each
//! field that differs, and the version now current.

use crate::session::Page;
use crate::{Chrome, html};
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use kernel::Error;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::HashMap;

/// What a field holds.
pub enum Kind {
    Text,
    Number,
    Date,
    Email,
    /// One of (value, label).
    Choice(Vec<(String, String)>),
    /// Yes or no.
    Check,
    /// Any of (value, label); `numbers`: the values are sent as numbers.
    Many {
        options: Vec<(String, String)>,
        numbers: bool,
    },
}

pub struct Field {
    /// The input's JSON name, which is also the form's.
    pub name: &'static str,
    pub label: String,
    pub kind: Kind,
    pub required: bool,
    pub help: String,
}

impl Field {
    pub fn new(name: &'static str, label: String, kind: Kind) -> Field {
        Field {
            name,
            label,
            kind,
            required: false,
            help: String::new(),
        }
    }

    pub fn required(mut self) -> Field {
        self.required = true;
        self
    }

    pub fn help(mut self, help: String) -> Field {
        self.help = help;
        self
    }

    pub fn input_type(&self) -> &'static str {
        match self.kind {
            Kind::Number => "number",
            Kind::Date => "date",
            Kind::Email => "email",
            _ => "text",
        }
    }

    pub fn is_choice(&self) -> bool {
        matches!(self.kind, Kind::Choice(_))
    }

    pub fn is_check(&self) -> bool {
        matches!(self.kind, Kind::Check)
    }

    pub fn is_many(&self) -> bool {
        matches!(self.kind, Kind::Many { .. })
    }

    pub fn options(&self) -> &[(String, String)] {
        match &self.kind {
            Kind::Choice(o) | Kind::Many { options: o, .. } => o,
            _ => &[],
        }
    }

    /// A value as the user reads it (a choice's label).
    fn shown(&self, values: &[String]) -> String {
        values
            .iter()
            .map(|v| {
                self.options()
                    .iter()
                    .find(|(code, _)| code == v)
                    .map(|(_, label)| label.clone())
                    .unwrap_or_else(|| v.clone())
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A form's values: one per field, several for a `Many`.
pub type Values = HashMap<String, Vec<String>>;

/// The fields of a posted form, repeated names kept.
pub fn parse(body: &[u8]) -> Values {
    let mut values = Values::new();
    for (k, v) in form_urlencoded::parse(body) {
        values
            .entry(k.into_owned())
            .or_default()
            .push(v.trim().to_string());
    }
    values
}

/// Did the form come with this session's CSRF token?
pub fn csrf_ok(page: &Page, values: &Values) -> bool {
    page.csrf_ok(
        values
            .get("csrf")
            .and_then(|v| v.first())
            .map(String::as_str),
    )
}

pub fn one(values: &Values, name: &str) -> String {
    values
        .get(name)
        .and_then(|v| v.first())
        .cloned()
        .unwrap_or_default()
}

/// A record's JSON as form values.
pub fn values_of(fields: &[Field], record: &Value) -> Values {
    let mut values = Values::new();
    for f in fields {
        let v = &record[f.name];
        let list = match v {
            Value::Null => vec![],
            Value::Bool(true) => vec!["yes".to_string()],
            Value::Bool(false) => vec![],
            Value::String(s) => vec![s.clone()],
            Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned).unwrap_or(i.to_string()))
                .collect(),
            other => vec![other.to_string()],
        };
        values.insert(f.name.to_string(), list);
    }
    values
}

/// The form's values written over `base` (the record's input as JSON), each as its field's
/// type; or the fields that are missing or unreadable, in the user's words.
pub fn merged(
    page: &Page,
    fields: &[Field],
    values: &Values,
    mut base: Value,
) -> Result<Value, HashMap<String, String>> {
    let mut errors = HashMap::new();
    for f in fields {
        let text = one(values, f.name);
        let value = match &f.kind {
            Kind::Check => Value::Bool(
                values
                    .get(f.name)
                    .is_some_and(|v| v.iter().any(|x| x == "yes")),
            ),
            Kind::Many { numbers, .. } => Value::Array(
                values
                    .get(f.name)
                    .into_iter()
                    .flatten()
                    .filter(|v| !v.is_empty())
                    .map(|v| match (numbers, v.parse::<i64>()) {
                        (true, Ok(n)) => Value::from(n),
                        _ => Value::String(v.clone()),
                    })
                    .collect(),
            ),
            _ if text.is_empty() => {
                if f.required {
                    errors.insert(f.name.to_string(), page.tr.t("form-required"));
                }
                Value::Null
            }
            Kind::Number => match text.parse::<i64>() {
                Ok(n) => Value::from(n),
                Err(_) => {
                    errors.insert(f.name.to_string(), page.tr.t("error-invalid"));
                    Value::Null
                }
            },
            Kind::Date if super::day(&text).is_none() => {
                errors.insert(f.name.to_string(), page.tr.t("error-invalid"));
                Value::Null
            }
            _ => Value::String(text),
        };
        base[f.name] = value;
    }
    if let Some(v) = values.get("version").and_then(|v| v.first()) {
        base["version"] = v.parse::<i64>().map(Value::from).unwrap_or(Value::Null);
    }
    if errors.is_empty() {
        Ok(base)
    } else {
        Err(errors)
    }
}

/// The input a merged form makes, as the API would read it (a 422 names the field).
pub fn decode<T: DeserializeOwned>(value: &Value) -> Result<T, Error> {
    let bytes = serde_json::to_vec(value).map_err(|e| Error::Internal(e.to_string()))?;
    kernel::extract::parse_json(&bytes)
}

/// A service's refusal of the form's input, by field (the form's names are the input's).
pub fn refused_fields(
    page: &Page,
    fields: &[Field],
    error: &Error,
) -> Option<HashMap<String, String>> {
    let names: Vec<(&str, &str)> = fields.iter().map(|f| (f.name, f.name)).collect();
    super::field_errors(&page.tr, error, &names)
}

#[derive(Template)]
#[template(path = "record_form.html")]
pub struct FormPage {
    pub chrome: Chrome,
    pub action: String,
    pub fields: Vec<Field>,
    pub values: Values,
    pub errors: HashMap<String, String>,
    pub message: String,
    pub version: Option<i64>,
    pub submit: String,
    pub cancel: String,
    /// After a conflict: what was saved meanwhile, where it differs from what was typed.
    pub theirs: HashMap<String, String>,
}

impl FormPage {
    pub fn new(
        page: &Page,
        title: String,
        back: &str,
        action: String,
        fields: Vec<Field>,
    ) -> FormPage {
        FormPage {
            chrome: Chrome::of(page, title, back),
            action,
            fields,
            values: Values::new(),
            errors: HashMap::new(),
            message: String::new(),
            version: None,
            submit: page.tr.t("form-save"),
            cancel: back.to_string(),
            theirs: HashMap::new(),
        }
    }

    fn value(&self, name: &str) -> String {
        one(&self.values, name)
    }

    fn has(&self, name: &str, option: &str) -> bool {
        self.values
            .get(name)
            .is_some_and(|v| v.iter().any(|x| x == option))
    }

    fn error(&self, name: &str) -> String {
        super::error_of(&self.errors, name)
    }

    fn saved_meanwhile(&self, name: &str) -> String {
        self.theirs.get(name).cloned().unwrap_or_default()
    }

    /// Note what `current` (the record as saved now) holds where it differs from the form.
    pub fn against(mut self, current: &Values) -> FormPage {
        for f in &self.fields {
            let saved = current.get(f.name).cloned().unwrap_or_default();
            let typed: Vec<String> = self
                .values
                .get(f.name)
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|v| !v.is_empty())
                .collect();
            if saved != typed {
                let mut shown = f.shown(&saved);
                if shown.is_empty() {
                    shown = "—".into();
                }
                self.theirs.insert(f.name.to_string(), shown);
            }
        }
        self
    }

    pub fn respond(self, status: StatusCode) -> Response {
        html(status, self.render())
    }
}

/// The answer to a refused save: the form again with what was typed. A stale version shows
/// what was saved meanwhile and takes its version; other refusals name their fields.
pub fn refused(
    page: &Page,
    mut form: FormPage,
    typed: Values,
    error: Error,
    current: Option<(Values, i64)>,
) -> Response {
    form.values = typed;
    match &error {
        Error::Conflict {
            code: "stale_version",
            ..
        } => {
            form.message = page.tr.t("edit-stale-record");
            if let Some((values, version)) = current {
                form.version = Some(version);
                form = form.against(&values);
            }
            form.respond(StatusCode::CONFLICT)
        }
        _ => match refused_fields(page, &form.fields, &error) {
            Some(found) => {
                // What concerns no field of the form (a product's other terms, say) is said at
                // the top, in the service's words.
                form.message = if found.contains_key("form") {
                    super::refusal(&error).unwrap_or_default()
                } else {
                    page.tr.t("form-errors")
                };
                form.errors = found;
                form.respond(StatusCode::UNPROCESSABLE_ENTITY)
            }
            None => match super::refusal(&error) {
                Some(m) => {
                    form.message = m;
                    form.respond(StatusCode::CONFLICT)
                }
                None => super::error_page(page, error),
            },
        },
    }
}
