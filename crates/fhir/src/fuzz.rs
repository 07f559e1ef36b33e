//! What the fuzzer drives (`fuzz/fuzz_targets/fhir_claim.rs`): a request body of any bytes read
//! as the FHIR API reads a posted Claim (and, from the same bytes, a Patient and a Group).
//! Anything may come back as an OperationOutcome; nothing may panic.

use serde_json::Value;
use uuid::Uuid;

/// Read `data` as a posted Claim, its documents, and as a Patient and a Group.
pub fn claim(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        let _ = crate::input::resource(data, "Claim");
        return;
    };
    let _ = crate::claim::claim_input(&value, Uuid::nil(), None);
    let _ = crate::claim::claim_input(&value, Uuid::nil(), Some(Uuid::nil()));
    let _ = crate::claim::documents(&value);
    let _ = crate::patient_write::read(&value);
    let _ = crate::group::posted(&value);
    let _ = crate::input::resource(data, "Claim");
}

#[cfg(test)]
mod tests {
    #[test]
    fn odd_claims_are_read_without_panicking() {
        let seeds = [
            r#"{"resourceType":"Claim"}"#,
            r#"{"resourceType":"Claim","identifier":[{"type":{"coding":[{"code":"Code"}]},"value":"C1"}],"billablePeriod":{"start":"2026-02-30"},"item":[{"productOrService":{"text":"X"},"quantity":{"value":-1e308},"unitPrice":{"value":1e400}}],"total":{"value":99999999999999999999.999}}"#,
            r#"{"resourceType":"Claim","supportingInfo":[{"valueAttachment":{"data":"!!!","contentType":"application/pdf","hash":"x"}}],"diagnosis":[{"diagnosisCodeableConcept":{"coding":[{}]}}]}"#,
            r#"{"resourceType":"Patient","name":[{"given":[]}],"birthDate":"0000-00-00","extension":[{"url":"","valueBoolean":"no"}]}"#,
            r#"{"resourceType":"Group","member":[{"entity":{"reference":"Patient/"}}],"quantity":-5}"#,
            "[]",
            "\u{0}",
        ];
        for seed in seeds {
            super::claim(seed.as_bytes());
        }
    }
}
