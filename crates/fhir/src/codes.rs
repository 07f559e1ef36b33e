//! Canonical URLs: openIMIS's implementation guide (its extensions and code systems) and the
//! HL7 systems used. Always absolute, single-slashed: openIMIS's relative and double-slashed
//! ones are accepted on input only (spec/interop.md §A9).

/// The openIMIS FHIR R4 implementation guide.
pub const IG: &str = "https://openimis.github.io/openimis_fhir_r4_ig";

/// `IG/CodeSystem/<name>`.
pub fn code_system(name: &str) -> String {
    format!("{IG}/CodeSystem/{name}")
}

/// `IG/StructureDefinition/<name>`: an extension's URL.
pub fn extension(name: &str) -> String {
    format!("{IG}/StructureDefinition/{name}")
}

/// The identifier types: `UUID` and `Code` (the IG defines these two and `DBID`).
pub const IDENTIFIER_TYPES: &str = "openimis-identifiers";

pub const ADMINISTRATIVE_GENDER: &str = "http://hl7.org/fhir/administrative-gender";
pub const MARITAL_STATUS: &str = "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus";
pub const NULL_FLAVOR: &str = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor";
pub const IDENTIFIER_TYPE_V2: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";

/// Identifier type codes a client may send for a business code: openIMIS's default
/// configuration uses `MR` (claims), `LC` and `FI` (locations, facilities); its tests and the
/// IG use `Code`.
pub fn is_code_type(code: &str) -> bool {
    ["code", "mr", "lc", "fi", "sb"]
        .iter()
        .any(|c| c.eq_ignore_ascii_case(code.trim()))
}

/// A Coding.system as received, made canonical: `CodeSystem/x` (relative), `…_ig//CodeSystem/x`
/// (double slash) and `…/CodeSystem-x.html` (the IG's page) all name `IG/CodeSystem/x`.
pub fn canonical_system(system: &str) -> String {
    let s = system.trim();
    let tail = s
        .strip_prefix(IG)
        .map(|t| t.trim_start_matches('/'))
        .unwrap_or(s);
    if let Some(name) = tail.strip_prefix("CodeSystem/") {
        return code_system(name.trim_end_matches(".html"));
    }
    if let Some(name) = tail
        .strip_prefix("CodeSystem-")
        .and_then(|n| n.strip_suffix(".html"))
    {
        return code_system(name);
    }
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_systems_become_canonical() {
        let want = "https://openimis.github.io/openimis_fhir_r4_ig/CodeSystem/patient-profession";
        for legacy in [
            "CodeSystem/patient-profession",
            "https://openimis.github.io/openimis_fhir_r4_ig//CodeSystem/patient-profession",
            "https://openimis.github.io/openimis_fhir_r4_ig/CodeSystem-patient-profession.html",
            want,
        ] {
            assert_eq!(canonical_system(legacy), want, "{legacy}");
        }
        assert_eq!(canonical_system(MARITAL_STATUS), MARITAL_STATUS);
    }

    #[test]
    fn business_code_types() {
        for code in ["Code", "code", "MR", "LC", "FI"] {
            assert!(is_code_type(code), "{code}");
        }
        assert!(!is_code_type("UUID"));
    }
}
