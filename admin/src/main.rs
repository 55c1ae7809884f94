//! `bridge-admin`: the operator's console of a deployed bridge.
//!
//! Which stack, in which region, is one rule for every command (see `locate`): `--stack`,
//! else `BRIDGE_STACK`, else `samconfig.toml`'s (where `sam deploy` put it); `--region`, else
//! `BRIDGE_REGION`, else `samconfig.toml`'s, else the AWS environment. A name is found as the
//! Serverless Application Repository names its stacks too (`serverlessrepo-<name>`). Queue URLs, table, secret prefix and API come from the stack's outputs;
//! the environment variables of old (`HAND_OFF_QUEUE_URL`, `DEAD_LETTER_QUEUE_URL`,
//! `STATE_TABLE`, `SECRET_PREFIX`, ...) still override them. `--endpoint-url` (or the SDK's
//! `AWS_ENDPOINT_URL[_<SERVICE>]`) points AWS calls elsewhere (tests use moto, and a fake
//! CloudWatch: moto does not speak CloudWatch's CBOR protocol). Exit codes: 0 all well, 1 a
//! problem found (or the command failed), 2 usage.
//!
//! Floors, each room standing only on the floors below it (`make structure` checks them);
//! this file, the commands' dispatch, is the top:
//!
//! - floor 0: `args`, `report`, `stack`, `clients`, `logs`, `locate`, `connectif`
//! - floor 1: `health`, `probe`, `backfill`, `letters`, `doctor`
//! - floor 2: `send`, `trace`
//! - floor 3: `check`
//! - floor 4: `setup`

mod args;
mod backfill;
mod check;
mod clients;
mod connectif;
mod doctor;
mod health;
mod letters;
mod locate;
mod logs;
mod probe;
mod report;
mod send;
mod setup;
mod stack;
mod trace;

use args::{Printout, channel_id};
use bridge_core::aws::replay;
use bridge_core::customer::Email;
use bridge_core::telemetry::error_chain;
use clap::{Parser, Subcommand};
use stack::Stack;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "bridge-admin",
    version,
    about = "The operator's console of a deployed Qapla' → Connectif bridge"
)]
struct Cli {
    /// The CloudFormation stack of the bridge [default: BRIDGE_STACK, else samconfig.toml's
    /// stack_name, else qapla-connectif-bridge].
    #[arg(long, global = true)]
    stack: Option<String>,
    /// The stack's region [default: samconfig.toml's region, else AWS_REGION or the profile's].
    #[arg(long, global = true)]
    region: Option<String>,
    /// Send every AWS call to this endpoint (e.g. a local moto_server). Without it the SDK's
    /// own `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` variables apply.
    #[arg(long, global = true)]
    endpoint_url: Option<String>,
    /// Machine-readable output.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Set a channel up from a deployed stack: prove its Qapla' key, create the Connectif
    /// integration and reception events it uses, write its secret, print the URLs for
    /// Qapla's panel, and prove it with a test event of each kind.
    Setup(Box<setup::Args>),
    /// Prove a channel works: its secret, its Qapla' key, the stack's health and, with
    /// `--send`, a test event of each kind delivered to Connectif.
    Check {
        /// The channel id (the `{channel}` of its webhook URLs).
        channel: String,
        /// Post a test shipment, return and order through the deployed webhook URL and wait
        /// until each is delivered to Connectif. Needs `--test-email`.
        #[arg(long, requires = "test_email")]
        send: bool,
        /// The Connectif contact the test events are for (never a real customer).
        #[arg(long, value_parser = email)]
        test_email: Option<Email>,
        /// How long to wait for the deliveries, in seconds.
        #[arg(long, default_value_t = 120)]
        wait: u64,
    },
    /// Check the live services against what the bridge relies on, read-only: Qapla'
    /// (`getChannel`, `getShipment` with the consignee) and Connectif (the integration and
    /// each reception event the channel uses). Exits 1 on any difference.
    Doctor(doctor::Args),
    /// Everything the bridge knows about a parcel or order, in time order.
    Trace {
        channel: String,
        /// A tracking number or an order reference.
        key: String,
        /// How far back to search the logs (e.g. 7d, 24h, 30m).
        #[arg(long, default_value = "7d", value_parser = args::parse_since)]
        since: Duration,
    },
    /// Send past shipment statuses (a range of at most a year, starting at most 5 years
    /// ago) to Connectif, to the channel's history alias. Run it again to resume.
    Backfill(backfill::Args),
    /// List the dead letters, oldest first: when, channel, key, reason. Exits 1 while any
    /// waits.
    DeadLetters(Letters),
    /// Move dead letters back to the queue, oldest first, in batches (run it again to go on
    /// after a stop).
    Redrive(Letters),
    /// Delete dead letters for good (those that can never be delivered), after a
    /// confirmation; each one is listed in the output.
    Discard {
        #[command(flatten)]
        letters: Letters,
        /// Do not ask for a confirmation.
        #[arg(long)]
        yes: bool,
    },
}

/// Which dead letters: all, or those matching every option given.
#[derive(clap::Args)]
struct Letters {
    /// Only this channel's.
    #[arg(long)]
    channel: Option<String>,
    /// Only these (message ids as `dead-letters` shows them; repeatable).
    #[arg(long = "id")]
    ids: Vec<String>,
    /// Only those dead-lettered at least this long ago (e.g. 7d, 24h).
    #[arg(long, value_parser = args::parse_since)]
    older_than: Option<Duration>,
}

impl Letters {
    fn filter(self) -> replay::Filter {
        replay::Filter {
            channel: self.channel,
            ids: self.ids,
            older_than: self.older_than,
        }
    }
}

async fn run(cli: Cli) -> Result<Printout, String> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let place = locate::locate(cli.stack, cli.region, |k| std::env::var(k).ok(), &cwd)?;
    // The bridge's HTTP client (compiled-in roots, rustls with ring) for every AWS call too.
    let http = bridge_core::aws::connector::client(bridge_core::aws::connector::CONNECT_TIMEOUT)
        .map_err(|e| error_chain(&e))?;
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http);
    if let Some(url) = &cli.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(region) = &place.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    let aws = loader.load().await;
    let found = place.describe(aws.region().map(|r| r.as_ref()));
    let cfn = aws_sdk_cloudformation::Client::new(&aws);
    let stack = Stack::find(&cfn, &place.stack, |k| std::env::var(k).ok())
        .await
        .map_err(|e| format!("{e}\n(looked for {found})"))?;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    match cli.command {
        Command::Setup(args) => run_setup(&aws, &stack, found, *args, cli.json).await,
        Command::Check {
            channel,
            send,
            test_email,
            wait,
        } => {
            let channel = channel_id(&channel)?;
            let send = test_email.filter(|_| send).map(|email| check::SendOptions {
                email,
                wait: Duration::from_secs(wait),
                spinner: !cli.json,
            });
            let clients = clients::Clients::new(&aws)?;
            let report = check::check(&clients, &stack, &channel, send).await;
            Ok(printed(&report, channel.as_str(), cli.json))
        }
        Command::Doctor(args) => run_doctor(&aws, &stack, &args, cli.json).await,
        Command::Trace {
            channel,
            key,
            since,
        } => run_trace(&aws, &stack, &channel, &key, since, cli.json).await,
        Command::Backfill(args) => backfill::command(&aws, &stack, args, cli.json).await,
        Command::DeadLetters(which) => letters::list(&sqs, &stack, &which.filter(), cli.json).await,
        Command::Redrive(which) => letters::redrive(&sqs, &stack, &which.filter(), cli.json).await,
        Command::Discard { letters, yes } => {
            letters::discard(&sqs, &stack, &letters.filter(), yes, cli.json).await
        }
    }
}

async fn run_setup(
    aws: &aws_config::SdkConfig,
    stack: &Stack,
    found: String,
    args: setup::Args,
    json: bool,
) -> Result<Printout, String> {
    let clients = clients::Clients::new(aws)?;
    let channel = args.channel.clone();
    let region = aws.region().map(|r| r.as_ref().to_owned());
    let place = setup::Place {
        found,
        region: region.unwrap_or_default(),
    };
    let report = setup::setup(&clients, stack, place, args, json).await?;
    Ok(printed(&report, &channel, json))
}

async fn run_doctor(
    aws: &aws_config::SdkConfig,
    stack: &Stack,
    args: &doctor::Args,
    json: bool,
) -> Result<Printout, String> {
    let channel = channel_id(&args.channel)?;
    let clients = clients::Clients::new(aws)?;
    let report = doctor::doctor(&clients, stack, &channel, args).await;
    Ok(printed(&report, channel.as_str(), json))
}

async fn run_trace(
    aws: &aws_config::SdkConfig,
    stack: &Stack,
    channel: &str,
    key: &str,
    since: Duration,
    json: bool,
) -> Result<Printout, String> {
    let channel = channel_id(channel)?;
    let key = key.trim();
    if key.is_empty() || key.len() > 200 || key.chars().any(char::is_control) {
        return Err("the key must be a tracking number or an order reference".into());
    }
    let clients = trace::Clients {
        dynamo: aws_sdk_dynamodb::Client::new(aws),
        sqs: aws_sdk_sqs::Client::new(aws),
        logs: aws_sdk_cloudwatchlogs::Client::new(aws),
    };
    let found = trace::trace(&clients, stack, &channel, key, since).await;
    let text = if json {
        found.json(&channel, key).to_string()
    } else {
        found.human(&channel, key)
    };
    Ok(Printout {
        text,
        problem: found.problem(),
    })
}

/// A report as a command prints it: for people, or as JSON (naming `channel`).
fn printed(report: &report::Report, channel: &str, json: bool) -> Printout {
    let text = match json {
        true => report.json(channel).to_string(),
        false => report.human(),
    };
    Printout {
        text,
        problem: !report.ok(),
    }
}

fn email(text: &str) -> Result<Email, String> {
    Email::try_from(text).map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse(); // usage errors exit with 2
    match run(cli).await {
        Ok(outcome) => {
            println!("{}", outcome.text.trim_end());
            if outcome.problem {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("bridge-admin: {e}");
            ExitCode::FAILURE
        }
    }
}
