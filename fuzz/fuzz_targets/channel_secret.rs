//! A channel's secret JSON: read or refused, never showing its keys (see
//! `testkit::invariants`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| testkit::invariants::check_channel_secret(data));
