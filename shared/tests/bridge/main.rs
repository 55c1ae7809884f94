//! Integration tests of the bridge core: real HTTP to a local wiremock Connectif, real AWS
//! SDK calls to a local moto_server, real API Gateway events. Loopback only.

mod auth;
mod bad_input;
mod durable;
mod durable_helpers;
mod edges;
mod enrichment;
mod fixtures;
mod helpers;
mod in_process;
mod pace;
mod parsing;
mod properties;
mod pulled;
mod qapla_api;
mod reconcile;
mod sample_events;
mod senders;
mod signed_send;
mod soak;
mod template_metrics;
mod tls;
mod wire_format;
mod worker_handler;
