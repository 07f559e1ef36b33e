//! A posted FHIR Claim (and Patient, Group) of any bytes: `fhir::fuzz::claim`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fhir::fuzz::claim(data));
