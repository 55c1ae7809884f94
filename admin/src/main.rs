//! `bridge-admin`: list the dead letters with their reasons, and redrive them.
//!
//! ```text
//! bridge-admin dead-letters                 list every dead letter, oldest first
//! bridge-admin redrive [--channel <id>]     move them (or one channel's) back to the queue
//! ```
//! Queue URLs come from `HAND_OFF_QUEUE_URL` and `DEAD_LETTER_QUEUE_URL` (the stack's
//! outputs), AWS credentials and region from the usual AWS environment.

use bridge_core::delivery::{Envelope, replay};
use std::process::ExitCode;

const USAGE: &str = "usage: bridge-admin dead-letters | redrive [--channel <id>]
environment: DEAD_LETTER_QUEUE_URL (both), HAND_OFF_QUEUE_URL (redrive)";

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set\n{USAGE}"))
}

async fn run(args: &[String]) -> Result<(), String> {
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    match args {
        [cmd] if cmd == "dead-letters" => {
            let letters = replay::list(&sqs, &env("DEAD_LETTER_QUEUE_URL")?)
                .await
                .map_err(|e| bridge_core::telemetry::error_chain(&e))?;
            println!("{} dead letter(s)", letters.len());
            for l in letters {
                let (channel, kind, key, status) = l
                    .envelope
                    .as_ref()
                    .map_or(("?", "?", "?", ""), Envelope::names);
                let when = l.failed_at.map_or("-".to_owned(), |t| t.to_string());
                println!(
                    "{channel}\t{kind}\t{key}\t{status}\tfailed_at={when}\t{}",
                    l.reason
                );
            }
            Ok(())
        }
        [cmd, rest @ ..] if cmd == "redrive" => {
            let channel = match rest {
                [] => None,
                [flag, id] if flag == "--channel" => Some(id.as_str()),
                _ => return Err(USAGE.into()),
            };
            let (moved, left) = replay::redrive(
                &sqs,
                &env("DEAD_LETTER_QUEUE_URL")?,
                &env("HAND_OFF_QUEUE_URL")?,
                channel,
            )
            .await
            .map_err(|e| bridge_core::telemetry::error_chain(&e))?;
            println!("redriven: {moved}; left in the dead-letter queue: {left}");
            Ok(())
        }
        _ => Err(USAGE.into()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
