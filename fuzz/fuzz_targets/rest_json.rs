//! A REST request body of any bytes, as each kind of input: `bima::fuzz::rest_body`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| bima::fuzz::rest_body(data));
