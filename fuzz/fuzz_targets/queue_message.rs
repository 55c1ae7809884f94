//! An SQS message body, and a whole SQS event of the delivery worker: every envelope read
//! writes back to itself (see `testkit::invariants`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| testkit::invariants::check_queue_message(data));
