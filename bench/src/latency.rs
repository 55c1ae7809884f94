//! The webhook's first post with the stand-ins a network round trip away (loopback has
//! none): what opening the connections to SQS and Secrets Manager during Init, at once
//! (`AWS_PRECONNECT_MS`, on by default), costs Init and saves the first post, at 128 MB.

use crate::limits::Limits;
use crate::measure::{Target, measure, ms};
use crate::stands::Stands;
use std::path::Path;
use std::time::Duration;

/// Round trips measured: within an AWS region, and a function far from its endpoints.
const RTTS: [Duration; 2] = [Duration::from_millis(2), Duration::from_millis(10)];

/// Prints the comparison (nothing where cgroups are not available: the memory table has
/// said why).
pub async fn first_post_over_a_network(dir: &Path, cold: usize) {
    let Ok(limits) = Limits::new(128) else {
        return;
    };
    println!("The webhook's cold post at 128 MB, TLS stand-ins a network round trip away\n");
    println!(
        "| round trip | binary | init (spawn → first /next) | first post | cold post (spawn → answer) | its CPU | TLS handshakes per start |"
    );
    println!("|---|---|---|---|---|---|---|");
    for rtt in RTTS {
        let stands = Stands::start(dir, rtt).await;
        let with = |preconnect: &str| {
            let mut env = stands.tls_env();
            env.push(("AWS_PRECONNECT_MS".into(), preconnect.into()));
            env
        };
        let targets = stands.all_targets();
        let usual = targets
            .into_iter()
            .find(|t| t.name.starts_with("usual-way"))
            .expect("the usual way");
        let webhook = |name: &str, env| Target {
            name: name.to_owned(),
            exe: dir.join("shipment-webhook-bench-ca"),
            env,
            event: crate::stands::sample("shipment-v1.3-delivered"),
            ok: crate::measure::accepted,
        };
        for target in [
            webhook(
                "shipment-webhook, connections opened by the first post",
                with("0"),
            ),
            webhook(
                "shipment-webhook, connections opened during Init",
                with("1000"),
            ),
            usual,
        ] {
            let before = stands.handshakes();
            let m = measure(&target, (cold, 1), Some(&limits)).await;
            let handshakes = (stands.handshakes() - before) as f64 / cold as f64;
            println!(
                "| {} | {} | {} | {} | {} | {} | {handshakes:.1} |",
                ms(rtt),
                m.name,
                ms(m.init),
                ms(m.first_invoke),
                ms(m.cold_post),
                ms(m.cold_post_cpu),
            );
        }
    }
    println!();
}
