//! An openIMIS table export of any bytes: `openimis_import::fuzz::table`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| openimis_import::fuzz::table(data));
