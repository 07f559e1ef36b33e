//! Patient create and update (openIMIS's official contract: create, update). `POST Patient`
//! with `patient-is-head` true creates a family in the village of its address
//! (`address-location-reference`) with the patient as head; with false it adds a member to the
//! family its `patient-group-reference` names (a Group by UUID or the head's insurance number).
//! `PUT Patient/{id}` changes an insuree at the version its `meta.versionId` says (another
//! version is a 409; without one, the current one). The registry's rules decide what is valid
//! (insurance number, names, dates); their errors name the Patient's elements.

use crate::input::{bad, extension, reference_id, resource, text};
use crate::{Fhir, codes, patient};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kernel::{Actor, AppState, Error, FieldError, Result};
use registry::config::Config;
use registry::model::{FamilyInput, Gender, InsureeInput, Marital};
use registry::service::PolicyHooks;
use serde_json::Value;
use std::sync::Arc;
use uuid::Uuid;

/// What a Patient says, in the registry's words.
pub(crate) struct Read {
    input: InsureeInput,
    head: bool,
    group: Option<String>,
    village: Option<String>,
    version: Option<i64>,
}

pub(crate) fn read(body: &Value) -> Result<Read> {
    let identifiers = body
        .get("identifier")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let of_type = |wanted: &dyn Fn(&str) -> bool| {
        identifiers
            .iter()
            .find(|i| text(i, "/type/coding/0/code").is_some_and(wanted))
            .and_then(|i| text(i, "/value"))
            .map(str::to_string)
    };
    let chfid = of_type(&codes::is_code_type).ok_or_else(|| {
        bad(
            "Patient.identifier",
            "the insurance number is required (an identifier of type Code)",
        )
    })?;
    let passport = of_type(&|c: &str| c.eq_ignore_ascii_case("PPN"));
    let last_name = text(body, "/name/0/family")
        .ok_or_else(|| bad("Patient.name[0].family", "the last name is required"))?
        .to_string();
    let other_names = body
        .pointer("/name/0/given")
        .and_then(Value::as_array)
        .map(|g| {
            g.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|g| !g.trim().is_empty())
        .ok_or_else(|| bad("Patient.name[0].given", "the other names are required"))?;
    let dob = crate::input::day(body, "/birthDate", "Patient.birthDate")?
        .ok_or_else(|| bad("Patient.birthDate", "the date of birth is required"))?;
    let gender = match text(body, "/gender") {
        Some("male") => Gender::Male,
        Some("female") => Gender::Female,
        Some("other") => Gender::Other,
        other => {
            return Err(bad(
                "Patient.gender",
                format!(
                    "{} is not male, female or other",
                    other.unwrap_or("nothing")
                ),
            ));
        }
    };
    let marital = match text(body, "/maritalStatus/coding/0/code") {
        None => None,
        Some("M") => Some(Marital::Married),
        Some("S") | Some("U") => Some(Marital::Single),
        Some("D") => Some(Marital::Divorced),
        Some("W") => Some(Marital::Widowed),
        Some(_) => Some(Marital::NotSpecified),
    };
    let telecom = |system: &str| {
        body.get("telecom")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|t| t.get("system").and_then(Value::as_str) == Some(system))
            .and_then(|t| text(t, "/value"))
            .map(str::to_string)
    };
    let (phone, email) = (telecom("phone"), telecom("email"));
    let head = extension(body, "patient-is-head")
        .and_then(|e| e.get("valueBoolean"))
        .and_then(Value::as_bool)
        .ok_or_else(|| {
            bad(
                "Patient.extension",
                "patient-is-head (valueBoolean) is required",
            )
        })?;
    let card_issued = extension(body, "patient-card-issued")
        .and_then(|e| e.get("valueBoolean"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let reference_id = |r: &Value| {
        r.get("valueReference")
            .and_then(reference_id)
            .map(str::to_string)
    };
    let group = extension(body, "patient-group-reference").and_then(reference_id);
    let address = body.pointer("/address/0");
    let village = address
        .and_then(|a| extension(a, "address-location-reference"))
        .and_then(reference_id);
    let current_address = address.and_then(|a| text(a, "/text")).map(str::to_string);
    let version = text(body, "/meta/versionId").map(|v| {
        v.parse::<i64>().map_err(|_| {
            bad(
                "Patient.meta.versionId",
                format!("\"{v}\" is not a version"),
            )
        })
    });
    let version = version.transpose()?;
    Ok(Read {
        input: InsureeInput {
            family_id: None,
            chfid,
            last_name,
            other_names,
            gender,
            dob,
            marital,
            relationship: None,
            profession: None,
            education: None,
            passport,
            type_of_id: None,
            phone,
            email,
            current_address,
            geolocation: None,
            current_village_id: None,
            health_facility_id: None,
            card_issued,
            status: None,
            status_date: None,
            status_reason: None,
            is_offline: false,
            version: None,
        },
        head,
        group,
        village,
        version,
    })
}

/// The registry's field names as the Patient's elements, for errors a FHIR client can act on.
fn as_elements(error: Error) -> Error {
    let Error::Invalid(fields) = error else {
        return error;
    };
    let element = |field: &str| {
        let field = field.trim_start_matches("head.");
        match field {
            "chfid" => "Patient.identifier",
            "last_name" => "Patient.name[0].family",
            "other_names" => "Patient.name[0].given",
            "dob" => "Patient.birthDate",
            "gender" => "Patient.gender",
            "phone" | "email" => "Patient.telecom",
            "location_id" => "Patient.address[0].extension",
            "family_id" => "Patient.extension",
            _ => "Patient",
        }
        .to_string()
    };
    Error::Invalid(
        fields
            .into_iter()
            .map(|f| FieldError {
                field: element(&f.field),
                ..f
            })
            .collect(),
    )
}

async fn village_of(state: &AppState, actor: &Actor, named: &str) -> Result<Uuid> {
    match location::service::get_location(&state.db, actor, named).await {
        Ok(l) => Ok(l.id),
        Err(Error::NotFound { .. }) => Err(bad(
            "Patient.address[0].extension",
            format!("{named} is not a village"),
        )),
        Err(e) => Err(e),
    }
}

pub async fn create(
    State(state): State<AppState>,
    axum::Extension(config): axum::Extension<Arc<Config>>,
    axum::Extension(hooks): axum::Extension<PolicyHooks>,
    actor: Actor,
    body: Bytes,
) -> Result<Response> {
    let body = resource(&body, "Patient")?;
    let Read {
        mut input,
        head,
        group,
        village,
        ..
    } = read(&body)?;
    let insuree = if head {
        let village = village.ok_or_else(|| {
            bad(
                "Patient.address[0].extension",
                "a head of family needs the village (address-location-reference) where the family lives",
            )
        })?;
        let location_id = village_of(&state, &actor, &village).await?;
        let family = FamilyInput {
            location_id,
            poverty: None,
            family_type: None,
            address: input.current_address.take(),
            ethnicity: None,
            confirmation_no: None,
            confirmation_type: None,
            is_offline: false,
            head: Some(input.clone()),
            version: None,
        };
        let created = registry::service::create_family(&state.db, &actor, &config, family)
            .await
            .map_err(as_elements)?;
        created
            .members
            .into_iter()
            .find(|m| m.chfid == input.chfid)
            .ok_or_else(|| Error::Internal("the new family has no head".into()))?
    } else {
        let group = group.ok_or_else(|| {
            bad(
                "Patient.extension",
                "a member who is not the head needs patient-group-reference (the Group of their family)",
            )
        })?;
        let family = match crate::group::family(&state, &actor, &group).await {
            Ok(f) => f,
            Err(Error::NotFound { .. }) => {
                return Err(bad("Patient.extension", format!("{group} is not a family")));
            }
            Err(e) => return Err(e),
        };
        input.family_id = Some(family.family.family.id);
        registry::service::create_insuree(&state.db, &actor, &config, hooks, input)
            .await
            .map_err(as_elements)?
    };
    let (insuree, village) =
        registry::service::get_insuree_and_village(&state.db, &actor, &insuree.id.to_string())
            .await?;
    Ok((
        StatusCode::CREATED,
        Fhir(patient::patient(&insuree, village)),
    )
        .into_response())
}

pub async fn update(
    State(state): State<AppState>,
    axum::Extension(config): axum::Extension<Arc<Config>>,
    actor: Actor,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Fhir<patient::Patient>> {
    let body = resource(&body, "Patient")?;
    let (current, _) =
        registry::service::get_insuree_and_village(&state.db, &actor, id.trim()).await?;
    let Read {
        mut input, version, ..
    } = read(&body)?;
    input.family_id = current.family_id;
    input.current_village_id = current.current_village_id;
    input.health_facility_id = current.health_facility_id;
    input.relationship = current.relationship;
    input.profession = current.profession;
    input.education = current.education;
    input.status = Some(current.status);
    input.version = Some(version.unwrap_or(current.version));
    let updated = registry::service::update_insuree(
        &state.db,
        &actor,
        &config,
        &current.id.to_string(),
        input,
    )
    .await
    .map_err(as_elements)?;
    let (insuree, village) =
        registry::service::get_insuree_and_village(&state.db, &actor, &updated.id.to_string())
            .await?;
    Ok(Fhir(patient::patient(&insuree, village)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever a client sends as a Patient, reading it answers an insuree or a 4xx, never a
        /// panic.
        #[test]
        fn any_payload_is_a_patient_or_a_client_error(mut body in crate::claim::tests::any_json()) {
            if let Value::Object(map) = &mut body {
                map.insert("resourceType".into(), serde_json::json!("Patient"));
            }
            if let Err(e) = read(&body) {
                prop_assert!(e.status().is_client_error(), "{e:?}");
            }
        }
    }

    #[test]
    fn a_head_of_family_reads_with_its_village() {
        let body = serde_json::json!({
            "resourceType": "Patient",
            "identifier": [{"type": {"coding": [{"code": "Code"}]}, "value": "123456789"}],
            "name": [{"family": "Doe", "given": ["Jane", "A."]}],
            "gender": "female",
            "birthDate": "1990-01-31",
            "maritalStatus": {"coding": [{"code": "M"}]},
            "extension": [{"url": "https://openimis.github.io/openimis_fhir_r4_ig/StructureDefinition/patient-is-head", "valueBoolean": true}],
            "address": [{"extension": [{"url": "StructureDefinition/address-location-reference", "valueReference": {"reference": "Location/V0001"}}]}],
        });
        let r = read(&body).unwrap();
        assert!(r.head);
        assert_eq!(r.village.as_deref(), Some("V0001"));
        assert_eq!(r.input.other_names, "Jane A.");
        assert_eq!(r.input.marital, Some(Marital::Married));
    }
}
