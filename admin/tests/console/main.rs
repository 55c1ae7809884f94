//! `bridge-admin`, the built binary, against a deployed bridge on loopback: the stack on
//! moto_server, fakes of Qapla', Connectif and CloudWatch, and (for `check --send` and
//! `trace`) the bridge itself running in [`twin`].

mod common;
mod strict_connectif;
mod twin;
mod version;

/// Every console test runs against the stack on `moto_server`: `make test` runs them,
/// `make check` skips them (`--skip moto::`).
mod moto {
    mod backfill;
    mod background;
    mod bench_backfill;
    mod check;
    mod doctor;
    mod letters;
    mod moving;
    pub mod send;
    pub mod setup;
    mod trace;
}
