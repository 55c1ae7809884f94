//! `bridge-admin setup <channel>`: from a deployed stack to a proven channel. It finds the
//! stack, proves the Qapla' key, creates (or completes) the Connectif integration and the
//! reception events the channel uses, writes the channel's secret, prints the URLs to paste
//! into Qapla's panel, and proves the channel with `check --send`. Every answer is also a
//! flag; `--dry-run` reads everything and changes nothing. Run again, it changes nothing.

mod ask;
mod compare;
mod events;
mod secret;
mod settings;
mod urls;

use crate::clients::Clients;
use crate::report::{Report, Step};
use crate::stack::Stack;
use bridge_core::channel::ChannelId;
use bridge_core::customer::Email;
use events::Wanted;
use secrecy::SecretString;
use serde_json::{Value, json};

/// How the bridge delivers to Connectif (the secret's `connectif.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Connectif's Public API with an API key: nothing to copy by hand.
    Api,
    /// Each reception event's Endpoint URL (webhook context).
    Endpoint,
}

#[derive(clap::Args)]
pub struct Args {
    /// The channel id: the `{channel}` of its webhook URLs (letters, digits, `-`, `_`).
    pub channel: String,
    /// The Qapla' channel's private API key (Qapla' panel > Settings > Channels > the
    /// channel > API key). Asked when missing; kept when the secret has one.
    #[arg(long, env = "QAPLA_API_KEY", hide_env_values = true)]
    pub qapla_key: Option<String>,
    /// A Connectif API key, `<keyId>:<keySecret>`, with permission to manage integrations
    /// and to write custom events (Store settings > API and Access IPs > API Keys).
    #[arg(long, env = "CONNECTIF_API_KEY", hide_env_values = true)]
    pub connectif_key: Option<String>,
    /// How the bridge delivers: `api` (recommended) or `endpoint`.
    #[arg(long, value_enum)]
    pub mode: Option<Mode>,
    /// Endpoint mode: a reception event's Endpoint URL as `<setting>=<url>`, the setting
    /// one of shipment, returnStatus, return, order, history, stalled, release (repeatable).
    #[arg(long = "endpoint", value_name = "SETTING=URL")]
    pub endpoints: Vec<String>,
    /// The shop's tracking page with `{trackingNumber}` (also `{reference}`, `{courier}`),
    /// or `qapla` for the shipment's Qapla' tracking page.
    #[arg(long)]
    pub tracking_url: Option<String>,
    /// The customers' language: it, es, en, de, fr or pt.
    #[arg(long)]
    pub language: Option<String>,
    /// Workflow-ready fields to add to the shipment events (and create in Connectif):
    /// statusGroup, courierName, shippedAt, estimatedDelivery (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub extra_fields: Vec<String>,
    /// Tell customers of a parcel without news for this many business days (the
    /// `parcel-stalled` event; `stalls.afterBusinessDays`).
    #[arg(long, value_name = "DAYS")]
    pub stalls: Option<u8>,
    /// Whose holidays are not business days for stalls (IT, ES, DE, FR, PT) [default: the
    /// language's country; needed for `en`] (`stalls.country`).
    #[arg(long, value_name = "COUNTRY")]
    pub stalls_country: Option<String>,
    /// Put a release link in the event of a parcel held at the depot, working this many
    /// days (1-30), and create the `parcel-release` event and the `releaseUrl` field
    /// (`releaseLinks.expiresDays`).
    #[arg(long, value_name = "DAYS")]
    pub release_links: Option<u8>,
    /// After each shipment status event, set the contact's last status group, tracking
    /// number and status time (`contactFields`; API mode), and create those contact fields.
    #[arg(long)]
    pub contact_fields: bool,
    /// The Connectif integration to create or reuse (one serves every channel).
    #[arg(long, default_value = "Qapla' bridge")]
    pub integration: String,
    /// Prove the channel at the end (`check --send`) with this test contact.
    #[arg(long, value_parser = crate::email)]
    pub test_email: Option<Email>,
    /// Read everything, change nothing: print the plan.
    #[arg(long)]
    pub dry_run: bool,
    /// Qapla's API (a proxy, or a test's fake).
    #[arg(long, hide = true)]
    pub qapla_url: Option<String>,
    /// Connectif's API (a proxy, or a test's fake).
    #[arg(long, hide = true)]
    pub connectif_url: Option<String>,
}

const QAPLA_API: &str = "https://api.qapla.it/1.3";
const CONNECTIF_API: &str = "https://api.connectif.cloud";

/// One run of `setup`: what it was given, what it found, what it reports.
struct Setup<'a> {
    clients: &'a Clients,
    stack: &'a Stack,
    args: Args,
    asker: ask::Asker,
    channel: ChannelId,
    /// The secret's name, and its JSON now (`{}` when it does not exist).
    name: String,
    existing: Option<Value>,
    old: Value,
    report: Report,
}

/// Which stack in which region `setup` works on, and from where.
pub struct Place {
    /// `stack X (from …) in R (from …)`.
    pub found: String,
    pub region: String,
}

/// Run the setup on the stack at `place`.
pub async fn setup(
    clients: &Clients,
    stack: &Stack,
    place: Place,
    args: Args,
    json: bool,
) -> Result<Report, String> {
    let channel = crate::args::channel_id(&args.channel)?;
    let api_url = stack.need(&stack.api_url, "WebhookApiUrl")?;
    let prefix = stack.need(&stack.secret_prefix, "SecretPrefix")?;
    let mut report = Report::default();
    report.steps.push(Step::pass(
        "stack",
        format!("{}; webhook API {api_url}", place.found),
    ));
    if stack.alarm_email.as_deref() == Some("") {
        report.notes.push("Note: the stack's AlarmEmail is empty, so no alarm reaches anyone: redeploy with `sam deploy --parameter-overrides AlarmEmail=you@your-shop.example` (docs/operations.md, \"Alarms\").".into());
    }
    let name = format!("{prefix}/{channel}");
    let existing = secret::read(&clients.secrets, &name).await?;
    let mut run = Setup {
        clients,
        stack,
        asker: ask::Asker::new(json),
        channel,
        old: existing.clone().unwrap_or_else(|| json!({})),
        existing,
        name,
        args,
        report,
    };
    run.steps(api_url).await?;
    // Every command after this one finds the same stack wherever it runs (a release's console
    // has no samconfig.toml, and another shell another region).
    run.report.notes.push(format!(
        "For the commands that follow, in any directory (or put them in your shell's profile):\n  export BRIDGE_STACK={}\n  export BRIDGE_REGION={}",
        stack.name, place.region
    ));
    Ok(run.report)
}

impl Setup<'_> {
    /// Steps 2 to 6; a step that fails stops the rest (its report says what to do).
    async fn steps(&mut self, api_url: &str) -> Result<(), String> {
        let Some((qapla_key, qapla_url, channel_name)) = self.qapla().await? else {
            return Ok(());
        };
        let mut draft =
            settings::draft(&self.old, &self.args, &self.asker, &qapla_key, &qapla_url)?;
        let wanted = settings::wanted(&draft)?;
        let Some(connectif) = self.connectif(&wanted).await? else {
            return Ok(());
        };
        draft["connectif"] = connectif;
        if let Err(step) = settings::validate(&draft) {
            self.report.steps.push(step);
            return Ok(());
        }
        let change = secret::Change {
            name: &self.name,
            old: self.existing.as_ref(),
            new: &draft,
            dry_run: self.args.dry_run,
        };
        if !secret::step(&self.clients.secrets, change, &self.asker, &mut self.report).await? {
            return Ok(());
        }
        let panel = urls::panel(api_url, &self.channel, &channel_name, &wanted);
        self.report.notes.push(panel);
        self.prove().await
    }

    /// Step 2: the Qapla' key, proven with `getChannel`, and `getShipment`'s answer as
    /// `doctor` checks it (a difference stops `setup`): (key, API base, channel's name).
    async fn qapla(&mut self) -> Result<Option<(String, String, String)>, String> {
        let kept = self.old["qaplaApiKey"].as_str().map(str::to_owned);
        let question = "The Qapla' channel's private API key";
        let key = self.asker.key(
            self.args.qapla_key.clone().or(kept),
            question,
            "--qapla-key",
        )?;
        let kept = self.old["qaplaApiBaseUrl"].as_str().map(str::to_owned);
        let url = self
            .args
            .qapla_url
            .clone()
            .or(kept)
            .unwrap_or_else(|| QAPLA_API.into());
        let secret = SecretString::from(key.clone());
        match self.clients.qapla.get_channel(&url, &secret).await {
            Ok(found) => {
                let name = found.name.unwrap_or_else(|| self.channel.to_string());
                let detail = format!("Qapla' accepts the key: channel \"{name}\"");
                self.report.steps.push(Step::pass("qapla key", detail));
                // `doctor`'s check of the answer enrichment reads, before anything is written.
                let channel = crate::doctor::qapla::Channel {
                    api: &self.clients.qapla,
                    base: &url,
                    key: &secret,
                    language: bridge_core::mapping::Language::It,
                };
                let needs_url = self.args.tracking_url.as_deref() == Some("qapla")
                    || self.old["trackingUrlSource"] == "qapla";
                let step = crate::doctor::qapla::shipment(&channel, None, needs_url).await;
                let ok = step.ok;
                self.report.steps.push(step);
                Ok(ok.then_some((key, url, name)))
            }
            Err(e) => {
                let fix = "copy the channel's private API key from Qapla's panel (Settings > Channels > the channel > API key) and run setup again";
                let detail = format!("Qapla' refuses the key or cannot be asked: {e}");
                self.report.steps.push(Step::fail("qapla key", detail, fix));
                Ok(None)
            }
        }
    }

    /// Step 3: the integration and the reception events; the secret's `connectif` part.
    async fn connectif(&mut self, wanted: &[Wanted]) -> Result<Option<Value>, String> {
        let mode = settings::mode(&self.args, &self.old, &self.asker)?;
        let kept = self.old["connectif"]["apiKey"].as_str().map(str::to_owned);
        let question = "A Connectif API key (keyId:keySecret)";
        let key = self.asker.key(
            self.args.connectif_key.clone().or(kept),
            question,
            "--connectif-key",
        )?;
        let kept = self.old["connectif"]["baseUrl"].as_str().map(str::to_owned);
        let base = self
            .args
            .connectif_url
            .clone()
            .or(kept)
            .unwrap_or_else(|| CONNECTIF_API.into());
        let secret = SecretString::from(key.clone());
        let admin = crate::connectif::ConnectifAdmin::new(self.clients.http.clone(), &base, secret);
        let plan = events::Plan {
            admin: &admin,
            integration: &self.args.integration,
            receive_type: if mode == Mode::Api { "api" } else { "webhook" },
            dry_run: self.args.dry_run,
        };
        let Ok((own, listed)) = events::integration(&plan, &mut self.report).await else {
            return Ok(None);
        };
        let integration = (own.as_deref(), listed.as_slice());
        let found = events::events(&plan, integration, wanted, &mut self.report).await;
        let Ok(answered) = found else {
            return Ok(None);
        };
        let contacts = self.args.contact_fields || self.old["contactFields"] == true;
        if contacts && !events::contact_fields(&plan, mode, &mut self.report).await {
            return Ok(None);
        }
        Ok(Some(match mode {
            Mode::Api if base == CONNECTIF_API => json!({ "mode": "api", "apiKey": key }),
            Mode::Api => json!({ "mode": "api", "apiKey": key, "baseUrl": base }),
            Mode::Endpoint => {
                let (old, asker) = (&self.old, &self.asker);
                let endpoints =
                    urls::endpoints(&self.args, old, &answered, wanted, asker, &mut self.report)?;
                json!({ "mode": "endpoint", "endpoints": endpoints })
            }
        }))
    }

    /// Step 6: `check --send` with the test contact (asked for when not given; skippable).
    async fn prove(&mut self) -> Result<(), String> {
        let (dry_run, channel) = (self.args.dry_run, &self.channel);
        let email = match self.args.test_email.clone() {
            None if self.asker.interactive && !dry_run => {
                let question = "A test contact's e-mail, to prove the channel (empty: skip)";
                let answer = self.asker.text(None, question, Some(""), "--test-email")?;
                (!answer.is_empty())
                    .then(|| crate::email(&answer))
                    .transpose()?
            }
            given => given.filter(|_| !dry_run),
        };
        let Some(email) = email else {
            let why = if dry_run {
                "a dry run"
            } else {
                "no --test-email"
            };
            let detail = format!(
                "not sent ({why}): run `bridge-admin check {channel} --send --test-email you@your-shop.example`"
            );
            self.report.steps.push(Step::skipped("proof", detail));
            return Ok(());
        };
        let wait = std::time::Duration::from_secs(120);
        let options = crate::check::SendOptions {
            email,
            wait,
            spinner: false,
        };
        let proof = crate::check::check(self.clients, self.stack, channel, Some(options)).await;
        self.report.steps.extend(proof.steps);
        self.report.notes.extend(proof.notes);
        Ok(())
    }
}
