//! The R4 datatypes the served resources use, as plain serde structs (empty elements are left
//! out, as R4 requires: an element is either absent or has content).

use crate::codes;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Default)]
pub struct Coding {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

impl Coding {
    pub fn new(system: impl Into<String>, code: impl Into<String>) -> Self {
        Coding {
            system: Some(system.into()),
            code: Some(code.into()),
            display: None,
        }
    }

    pub fn display(mut self, display: impl Into<String>) -> Self {
        self.display = Some(display.into());
        self
    }
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct CodeableConcept {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub coding: Vec<Coding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl CodeableConcept {
    pub fn of(coding: Coding) -> Self {
        CodeableConcept {
            coding: vec![coding],
            text: None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Identifier {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<CodeableConcept>,
    pub value: String,
}

impl Identifier {
    /// An identifier of one of openIMIS's types (`UUID`, `Code`).
    pub fn openimis(kind: &str, value: impl Into<String>) -> Self {
        Identifier {
            kind: Some(CodeableConcept::of(Coding::new(
                codes::code_system(codes::IDENTIFIER_TYPES),
                kind,
            ))),
            value: value.into(),
        }
    }

    pub fn uuid(id: Uuid) -> Self {
        Identifier::openimis("UUID", id.to_string())
    }

    pub fn code(code: impl Into<String>) -> Self {
        Identifier::openimis("Code", code)
    }
}

/// A literal reference to a resource this API serves, with openIMIS's UUID identifier.
#[derive(Debug, Clone, Serialize)]
pub struct Reference {
    pub reference: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub identifier: Identifier,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

impl Reference {
    pub fn to(kind: &'static str, id: Uuid, display: Option<String>) -> Self {
        Reference {
            reference: format!("{kind}/{id}"),
            kind,
            identifier: Identifier::uuid(id),
            display,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Meta {
    /// The record's version, for a record a client may change (sent back on update).
    #[serde(rename = "versionId", skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(rename = "lastUpdated", with = "time::serde::rfc3339")]
    pub last_updated: OffsetDateTime,
}

impl Meta {
    pub fn updated(at: OffsetDateTime) -> Self {
        // FHIR instants carry at most milliseconds in most clients' parsers.
        let at = at.replace_millisecond(at.millisecond()).unwrap_or(at);
        Meta {
            version_id: None,
            last_updated: at,
        }
    }

    pub fn versioned(version: i64, at: OffsetDateTime) -> Self {
        Meta {
            version_id: Some(version.to_string()),
            ..Meta::updated(at)
        }
    }
}

/// An extension with one value (`valueBoolean`, `valueReference`, …).
#[derive(Debug, Clone, Serialize)]
pub struct Extension {
    pub url: String,
    #[serde(flatten)]
    pub value: ExtensionValue,
}

#[derive(Debug, Clone, Serialize)]
pub enum ExtensionValue {
    #[serde(rename = "valueBoolean")]
    Boolean(bool),
    #[serde(rename = "valueReference")]
    Reference(Reference),
    #[serde(rename = "valueString")]
    String(String),
    #[serde(rename = "valueCodeableConcept")]
    CodeableConcept(CodeableConcept),
    #[serde(rename = "valueMoney")]
    Money(Money),
}

/// An amount: the decimal of minor units (2 decimals) and its ISO 4217 currency.
#[derive(Debug, Clone, Serialize)]
pub struct Money {
    pub value: serde_json::Number,
    pub currency: String,
}

impl Money {
    pub fn of(minor_units: i64, currency: &str) -> Self {
        // FHIR writes amounts as JSON decimals; minor units / 100 prints exactly for any amount
        // a scheme handles (below 2^53 minor units).
        let value = serde_json::Number::from_f64(minor_units as f64 / 100.0)
            .unwrap_or_else(|| serde_json::Number::from(0));
        Money {
            value,
            currency: currency.to_string(),
        }
    }
}

impl Extension {
    /// One of the IG's extensions, by its name.
    pub fn openimis(name: &str, value: ExtensionValue) -> Self {
        Extension {
            url: codes::extension(name),
            value,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct HumanName {
    #[serde(rename = "use")]
    pub usage: &'static str,
    pub family: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub given: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContactPoint {
    pub system: &'static str,
    pub value: String,
    #[serde(rename = "use")]
    pub usage: &'static str,
}

impl ContactPoint {
    /// The contact points of the filled values of `(system, value)`, all of one `usage`.
    pub fn of(usage: &'static str, values: &[(&'static str, &Option<String>)]) -> Vec<Self> {
        values
            .iter()
            .filter_map(|(system, value)| {
                let v = value.as_deref().filter(|v| !v.trim().is_empty())?;
                Some(ContactPoint {
                    system,
                    value: v.to_string(),
                    usage,
                })
            })
            .collect()
    }
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Address {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub usage: Option<&'static str>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}
