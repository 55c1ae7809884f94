//! The order webhook: any bytes as a post's body (plain, base64-flagged) and as a whole API
//! Gateway event, through `webhook::handle` (see `testkit::invariants`).
#![no_main]

use bridge_core::Kind;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use testkit::invariants::Webhooks;

static WEBHOOKS: OnceLock<Webhooks> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    WEBHOOKS.get_or_init(Webhooks::new).check(Kind::Order, data);
});
