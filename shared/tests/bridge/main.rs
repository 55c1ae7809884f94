//! Integration tests of the bridge core: real HTTP to a local wiremock Connectif, real AWS
//! SDK calls to a local moto_server, real API Gateway events. Loopback only.

mod auth;
mod bad_input;
mod batch_get;
mod durable_helpers;
mod edges;
mod enrichment;
mod estimates;
mod fixtures;
mod helpers;
mod in_process;
mod parsing;
mod properties;
mod pulled;
mod qapla_api;
mod reference_docs;
mod release;
mod rules;
mod sample_events;
mod senders;
mod signed_send;
mod soak;
mod template_metrics;
mod tls;
mod wire_format;
mod worker_handler;

/// Tests that need `moto_server` (the durable path, the shared API budget, reconciliation,
/// and the `moto` modules inside the files above): `make test` runs them, `make check`
/// skips them (`--skip moto::`). The test binary starts one moto_server for all of them
/// (`testkit::moto`), each test under names of its own.
mod moto {
    pub mod durable;
    mod faults;
    mod pace;
    mod reconcile;
    mod release_ledger;
    mod stalls;
}
