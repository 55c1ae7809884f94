//! `bridge-admin`, the built binary, against a deployed bridge on loopback: the stack on
//! moto_server, fakes of Qapla', Connectif and CloudWatch, and (for `check --send` and
//! `trace`) the bridge itself running in [`twin`].

mod backfill;
mod bench_backfill;
mod check;
mod common;
mod send;
mod trace;
mod twin;
