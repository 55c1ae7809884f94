//! `make bench`: the cold-start and warm benchmark of the real binaries (`coldstart`), the
//! delivery worker's throughput (`throughput`) and the hot path's criterion benches.

pub mod cut;
pub mod fake_aws;
pub mod latency;
pub mod limits;
pub mod measure;
pub mod stands;
pub mod worker;

/// Print each check as `PASS`/`FAIL` with its text; success only if all passed.
pub fn verdicts(checks: impl IntoIterator<Item = (bool, String)>) -> std::process::ExitCode {
    let mut ok = true;
    for (pass, text) in checks {
        println!("{} {text}", if pass { "PASS" } else { "FAIL" });
        ok &= pass;
    }
    match ok {
        true => std::process::ExitCode::SUCCESS,
        false => std::process::ExitCode::FAILURE,
    }
}
