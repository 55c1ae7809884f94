//! `bridge-admin doctor <channel>`: the live contract, checked. Calls Qapla' (`getChannel`;
//! `getShipment` with `data=consignee` for a parcel) and Connectif (the integration list, the
//! integrations, each reception event the channel's secret uses, found by its alias in any of
//! them and read back) with
//! the channel's own keys, and compares every answer with the shape the bridge relies on.
//! Each check is PASS, or the difference and what to do. Read-only: nothing is written, no
//! event is sent, no key is shown. `setup` runs the same checks before it writes anything.

pub mod connectif;
pub mod qapla;

use crate::clients::Clients;
use crate::report::{Report, Step};
use crate::stack::Stack;
use bridge_core::aws::SecretsManagerStore;
use bridge_core::channel::{ChannelId, ChannelSettings, ChannelStore};
use bridge_core::channel::{ConnectifSettings, TrackingUrlSource};
use bridge_core::telemetry::error_chain;
use secrecy::{ExposeSecret, SecretString};

#[derive(clap::Args)]
pub struct Args {
    /// The channel id (the `{channel}` of its webhook URLs).
    pub channel: String,
    /// A parcel of the channel to read with `getShipment` [default: the newest whose status
    /// changed in the last 24 hours].
    #[arg(long)]
    pub tracking_number: Option<String>,
    /// A Connectif API key (`keyId:keySecret`) for a channel in endpoint mode, whose secret
    /// holds none; read-only calls only.
    #[arg(long, env = "CONNECTIF_API_KEY", hide_env_values = true)]
    pub connectif_key: Option<String>,
    /// Connectif's API (a proxy, or a test's fake).
    #[arg(long, hide = true, default_value = "https://api.connectif.cloud")]
    pub connectif_url: String,
}

/// Every check for `channel`, in order; a failed one says what was expected, what was found
/// and what to do.
pub async fn doctor(clients: &Clients, stack: &Stack, channel: &ChannelId, args: &Args) -> Report {
    let mut report = Report::default();
    let settings = match secret(clients, stack, channel).await {
        Ok(settings) => settings,
        Err(step) => {
            report.steps.push(step);
            return report;
        }
    };
    let qapla = qapla::Channel {
        api: &clients.qapla,
        base: &settings.qapla_api_base_url,
        key: &settings.qapla_api_key,
        language: settings.language,
    };
    report.steps.push(qapla::key(&qapla).await);
    let needs_url = settings.tracking_url_source == TrackingUrlSource::Qapla;
    let tracking = args.tracking_number.as_deref().map(str::trim);
    report
        .steps
        .push(qapla::shipment(&qapla, tracking, needs_url).await);
    let median = settings.estimated_delivery.median
        && (settings.extra_fields).contains(&bridge_core::channel::ExtraField::EstimatedDelivery);
    let v2 = bridge_core::qapla::v2::QaplaV2::new(clients.http.clone());
    let scopes = [
        (settings.release_links.is_some(), &qapla::RELEASE),
        (median, &qapla::MEDIAN),
    ];
    for (_, want) in scopes.iter().filter(|(needed, _)| *needed) {
        let (base, key) = (&settings.qapla_v2_base_url, &settings.qapla_api_key);
        report.steps.push(qapla::scope(&v2, base, key, want).await);
    }
    let (key, receive_type, base) = match &settings.connectif {
        ConnectifSettings::Api { api_key, base_url } => {
            let key = api_key.expose_secret().to_owned();
            (Some(key), "api", Some(base_url.clone()))
        }
        ConnectifSettings::Endpoint { .. } => (args.connectif_key.clone(), "webhook", None),
    };
    let Some(key) = key else {
        report.steps.push(Step::skipped(
            "connectif",
            "the channel delivers to Endpoint URLs and its secret holds no API key: give --connectif-key to check its reception events",
        ));
        return report;
    };
    let base = base.unwrap_or_else(|| args.connectif_url.clone());
    let admin =
        crate::connectif::ConnectifAdmin::new(clients.http.clone(), &base, SecretString::from(key));
    let wanted = connectif::wanted(&settings);
    let steps = connectif::checks(&admin, receive_type, &wanted).await;
    report.steps.extend(steps);
    if settings.contact_fields {
        report
            .steps
            .push(connectif::contact_fields(&admin, &args.channel).await);
    }
    report
}

/// The channel's settings from its secret, or the failed step.
async fn secret(
    clients: &Clients,
    stack: &Stack,
    channel: &ChannelId,
) -> Result<ChannelSettings, Step> {
    const NAME: &str = "secret";
    let prefix = stack
        .need(&stack.secret_prefix, "SecretPrefix")
        .map_err(|why| Step::fail(NAME, "secret prefix unknown", why))?;
    let store = SecretsManagerStore::new(clients.secrets.clone(), prefix);
    let name = store.secret_name(channel);
    match store.load(channel).await {
        Ok(Some(settings)) => Ok(settings),
        Ok(None) => Err(Step::fail(
            NAME,
            format!("{name} does not exist"),
            format!("run `bridge-admin setup {channel}` first"),
        )),
        Err(e) => Err(Step::fail(
            NAME,
            format!("{name} not usable: {}", error_chain(&e)),
            "`bridge-admin check` names the field to fix",
        )),
    }
}
