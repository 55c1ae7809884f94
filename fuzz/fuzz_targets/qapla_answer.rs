//! Qapla's answers to `getShipment` and `trackingByTimeFrame`: read or classified, never
//! showing the key (see `testkit::invariants`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| testkit::invariants::check_qapla_answer(data));
