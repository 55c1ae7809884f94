//! The composition root: the one way the bridge is assembled, by the functions, the tests,
//! the benches and the fuzz targets alike. A [`Bridge`] is built from a [`Config`]; a caller
//! that needs something else says only what differs (a channel store of its own, the
//! durable path in memory) and everything else is wired as in production. Local mode (no
//! queue, channels from a file or inline JSON) touches no AWS endpoint at all.

use super::{Config, ConfigError};
use crate::aws::{
    CloudWatchRefusals, DynamoPace, DynamoState, SecretLinkKey, SecretsManagerStore, SignedSend,
    SqsQueue, SqsWork, Table,
};
use crate::channel::{ChannelStore, Channels, MemoryStore};
use crate::connectif::ConnectifClient;
use crate::delivery::state::MemoryState;
use crate::delivery::{Deliverer, HandOff, InProcessHandOff, MemoryQueue, Worker};
use crate::history::backfill::background::{Backfiller, MARGIN};
use crate::history::reconcile::Reconciler;
use crate::links::{FixedKey, Issuer, KeySource, LinkKey};
use crate::qapla::v2::QaplaV2;
use crate::release::{Ledger, MemoryLedger};
use crate::webhook::Deps;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The bridge's parts, built on demand from one [`Config`] and shared between them (the
/// webhooks and the worker of one bridge read one channel cache).
pub struct Bridge {
    config: Config,
    store: Option<Arc<dyn ChannelStore>>,
    memory: Option<Arc<MemoryQueue>>,
    hand_off: Option<Arc<dyn HandOff>>,
    aws: OnceLock<aws_types::SdkConfig>,
    /// The one HTTP client of AWS calls (the SDK's and the webhooks' signed sends).
    aws_http: OnceLock<reqwest::Client>,
    channels: OnceLock<Arc<Channels>>,
}

impl Config {
    /// The bridge this configuration describes.
    pub fn bridge(&self) -> Bridge {
        Bridge::new(self.clone())
    }

    /// Local mode: channel settings from `CHANNELS_FILE`/`CHANNELS_JSON` and no queue. It
    /// touches no AWS endpoint at all (not even to find a region or credentials).
    pub fn is_local(&self) -> bool {
        self.queue_url.is_none() && (self.channels_file.is_some() || self.channels_json.is_some())
    }
}

fn required(value: &Option<String>, variable: &'static str) -> Result<String, ConfigError> {
    value.clone().ok_or(ConfigError {
        variable,
        problem: "must be set".into(),
    })
}

impl Bridge {
    pub fn new(config: Config) -> Bridge {
        Bridge {
            config,
            store: None,
            memory: None,
            hand_off: None,
            aws: OnceLock::new(),
            aws_http: OnceLock::new(),
            channels: OnceLock::new(),
        }
    }

    /// Channel settings from `store` instead of the configured source (cached as
    /// configured).
    pub fn with_channel_store(mut self, store: Arc<dyn ChannelStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// The durable path in memory: the webhooks hand off to `queue`, the worker reads it and
    /// keeps its state in memory (local runs without a queue use a fresh one).
    pub fn with_memory_queue(mut self, queue: Arc<MemoryQueue>) -> Self {
        self.memory = Some(queue);
        self
    }

    /// The webhooks hand off to `hand_off` (a bench's or a fuzz target's collector).
    pub fn with_hand_off(mut self, hand_off: Arc<dyn HandOff>) -> Self {
        self.hand_off = Some(hand_off);
        self
    }

    /// The AWS configuration, resolved once, when something needs AWS.
    fn aws(&self) -> Result<&aws_types::SdkConfig, ConfigError> {
        if let Some(aws) = self.aws.get() {
            return Ok(aws);
        }
        let aws = self.config.aws.sdk_config_over(self.aws_http()?)?;
        Ok(self.aws.get_or_init(|| aws))
    }

    fn aws_http(&self) -> Result<reqwest::Client, ConfigError> {
        if let Some(http) = self.aws_http.get() {
            return Ok(http.clone());
        }
        let http = super::aws::http_client()?;
        Ok(self.aws_http.get_or_init(|| http).clone())
    }

    /// The HTTP client of the calls to Connectif and Qapla's API (one TLS setup, the
    /// configured timeouts).
    fn outbound_http(&self) -> Result<reqwest::Client, ConfigError> {
        let c = &self.config;
        (crate::http::tls::client_builder())
            .connect_timeout(c.connect_timeout)
            .timeout(c.request_timeout)
            .build()
            .map_err(|e| ConfigError {
                variable: "CONNECTIF_TIMEOUT_MS",
                problem: format!("cannot build the HTTP client: {e}"),
            })
    }

    /// The channel settings cache, shared by every part of this bridge.
    pub fn channels(&self) -> Result<Arc<Channels>, ConfigError> {
        if let Some(channels) = self.channels.get() {
            return Ok(channels.clone());
        }
        let store = match &self.store {
            Some(store) => store.clone(),
            None => self.configured_store()?,
        };
        let c = &self.config;
        let channels = Arc::new(Channels::with_limits(
            store,
            c.secret_ttl,
            c.secret_recheck,
            c.cache_limits.clone(),
        ));
        Ok(self.channels.get_or_init(|| channels).clone())
    }

    /// The store the configuration names: a file or inline JSON, else Secrets Manager.
    fn configured_store(&self) -> Result<Arc<dyn ChannelStore>, ConfigError> {
        let c = &self.config;
        let unreadable = |variable, e: std::io::Error| ConfigError {
            variable,
            problem: format!("cannot read channel settings: {e}"),
        };
        if let Some(text) = &c.channels_json {
            let store = MemoryStore::from_json(text).map_err(|e| unreadable("CHANNELS_JSON", e))?;
            return Ok(Arc::new(store));
        }
        if let Some(path) = &c.channels_file {
            let store = MemoryStore::from_file(path).map_err(|e| unreadable("CHANNELS_FILE", e))?;
            return Ok(Arc::new(store));
        }
        Ok(Arc::new(self.secrets_store()?))
    }

    fn secrets_store(&self) -> Result<SecretsManagerStore, ConfigError> {
        let client = aws_sdk_secretsmanager::Client::new(self.aws()?);
        Ok(SecretsManagerStore::new(
            client,
            self.config.secret_prefix.clone(),
        ))
    }

    fn deliverer(&self) -> Result<Deliverer, ConfigError> {
        let http = self.outbound_http()?;
        let connectif = ConnectifClient::over(http.clone());
        let deliverer = Deliverer::new(self.channels()?, connectif, http);
        Ok(match (&self.config.release_base_url, self.link_keys()?) {
            (Some(base_url), Some(keys)) => deliverer.with_release_links(Issuer {
                base_url: base_url.clone(),
                keys,
            }),
            _ => deliverer,
        })
    }

    /// Where the release link key comes from: `RELEASE_LINK_KEY` (local runs), else the
    /// secret `RELEASE_LINK_SECRET` names (read when first needed); neither: no links.
    fn link_keys(&self) -> Result<Option<Arc<dyn KeySource>>, ConfigError> {
        let c = &self.config;
        if let Some(key) = &c.release_link_key {
            let key = LinkKey::new(key.clone()).ok_or(ConfigError {
                variable: "RELEASE_LINK_KEY",
                problem: "must be at least 32 characters".into(),
            })?;
            return Ok(Some(Arc::new(FixedKey(key))));
        }
        let Some(secret) = &c.release_link_secret else {
            return Ok(None);
        };
        let client = aws_sdk_secretsmanager::Client::new(self.aws()?);
        Ok(Some(Arc::new(SecretLinkKey::new(client, secret.clone()))))
    }

    /// The release page's function: the settings cache, the hand-off of `parcel-release`
    /// events (as a webhook's), the one-use ledger (the state table; in memory in local
    /// mode), Qapla's API v2 and the link key (read during Init).
    pub async fn release_deps(&self) -> Result<crate::release::Deps, ConfigError> {
        let keys = self.link_keys()?.ok_or(ConfigError {
            variable: "RELEASE_LINK_SECRET",
            problem: "must be set".into(),
        })?;
        let key = keys.key().await.map_err(|problem| ConfigError {
            variable: "RELEASE_LINK_SECRET",
            problem,
        })?;
        let ledger: Arc<dyn Ledger> = match &self.config.state_table {
            Some(_) => Arc::new(self.table()?),
            None => Arc::new(MemoryLedger::default()),
        };
        let webhook = self.webhook_deps().await?;
        Ok(crate::release::Deps {
            channels: webhook.channels,
            hand_off: webhook.hand_off,
            ledger,
            qapla: Arc::new(QaplaV2::new(self.outbound_http()?)),
            key,
        })
    }

    fn table(&self) -> Result<Table, ConfigError> {
        let name = required(&self.config.state_table, "STATE_TABLE")?;
        Ok(Table::new(aws_sdk_dynamodb::Client::new(self.aws()?), name))
    }

    /// Every SQS send of this bridge (one signer, the AWS connections shared).
    fn signed_send(&self) -> Result<Arc<SignedSend>, ConfigError> {
        let send = self.config.aws.signed_send_over(self.aws_http()?)?;
        Ok(Arc::new(send))
    }

    fn pace(&self, table: &Table) -> Arc<DynamoPace> {
        Arc::new(DynamoPace::new(table.clone()).with_bucket(self.config.qapla_bucket))
    }

    fn memory_queue(&self) -> Option<Arc<MemoryQueue>> {
        match &self.memory {
            Some(queue) => Some(queue.clone()),
            None if self.config.is_local() => Some(Arc::new(MemoryQueue::new(Duration::ZERO))),
            None => None,
        }
    }

    /// Everything a webhook function needs: the settings cache and the hand-off (SQS, with
    /// the webhooks' own signed sends, when `HAND_OFF_QUEUE_URL` is set; the memory queue
    /// when one is given; else in-process delivery).
    pub async fn webhook_deps(&self) -> Result<Deps, ConfigError> {
        let c = &self.config;
        let hand_off: Arc<dyn HandOff> = match (&self.hand_off, &self.memory, &c.queue_url) {
            (Some(hand_off), _, _) => hand_off.clone(),
            (None, Some(queue), _) => queue.clone(),
            (None, None, Some(url)) => {
                let send = self.signed_send()?;
                self.preconnect(send.endpoint()).await?;
                Arc::new(SqsQueue::sending(send, url.clone()))
            }
            (None, None, None) => {
                Arc::new(InProcessHandOff::new(self.deliverer()?, c.retry.clone()))
            }
        };
        Ok(Deps {
            channels: self.channels()?,
            hand_off,
            max_body_bytes: c.max_body_bytes,
            senders: c.senders.clone(),
        })
    }

    /// A webhook's connections to SQS (at `sqs`) and Secrets Manager (when the channels are
    /// there), opened during Init, at once, waiting `AWS_PRECONNECT_MS` at most (0: not
    /// opened).
    async fn preconnect(&self, sqs: &reqwest::Url) -> Result<(), ConfigError> {
        let c = &self.config;
        if c.preconnect.is_zero() {
            return Ok(());
        }
        let (region, _) = c.aws.region_and_credentials()?;
        let secrets_manager =
            self.store.is_none() && c.channels_json.is_none() && c.channels_file.is_none();
        let mut urls = vec![sqs.clone()];
        if secrets_manager {
            let endpoint = c.aws.endpoint_of("Secrets Manager").map(str::to_owned);
            urls.extend(crate::aws::secrets::endpoint(&region, endpoint).await);
        }
        let opened = crate::http::preconnect(&self.aws_http()?, &urls, c.preconnect).await;
        tracing::debug!(opened, "connections to AWS opened during Init");
        Ok(())
    }

    /// The delivery worker: SQS queue and dead-letter queue, DynamoDB state, Connectif,
    /// Qapla's API paced by the budget in the state table. With a memory queue (and in local
    /// mode, for `sam local invoke` with the SQS samples) the queue, the state and the dead
    /// letters are kept in memory.
    pub fn worker(&self) -> Result<Worker, ConfigError> {
        let c = &self.config;
        // The longest one message can take: `getShipment` and Connectif, each a connect and
        // a request timeout, and the state calls around them.
        let send_time = 2 * (c.connect_timeout + c.request_timeout) + Duration::from_secs(2);
        if let Some(queue) = self.memory_queue() {
            let state = Arc::new(MemoryState::with_ttl(c.idempotency_ttl));
            let worker = Worker::new(self.deliverer()?, state, queue, c.worker.clone());
            return Ok(worker.with_send_time(send_time));
        }
        let queue_url = required(&c.queue_url, "HAND_OFF_QUEUE_URL")?;
        let dead_letter_url = required(&c.dead_letter_url, "DEAD_LETTER_QUEUE_URL")?;
        let table = self.table()?;
        let queue = SqsQueue::draining(
            aws_sdk_sqs::Client::new(self.aws()?),
            self.signed_send()?,
            queue_url,
            dead_letter_url,
        );
        let worker = Worker::new(
            self.deliverer()?.paced(self.pace(&table)),
            Arc::new(DynamoState::new(table, c.idempotency_ttl)),
            Arc::new(queue),
            c.worker.clone(),
        );
        Ok(worker.with_send_time(send_time))
    }

    /// The backfill function: as the reconciler, and its work queue.
    pub fn backfiller(&self) -> Result<Backfiller, ConfigError> {
        let c = &self.config;
        let queue_url = required(&c.queue_url, "HAND_OFF_QUEUE_URL")?;
        let work_url = required(&c.backfill_queue_url, "BACKFILL_QUEUE_URL")?;
        let table = self.table()?;
        let send = self.signed_send()?;
        Ok(Backfiller {
            store: Arc::new(self.secrets_store()?),
            http: self.outbound_http()?,
            pace: self.pace(&table),
            state: Arc::new(DynamoState::new(table.clone(), c.idempotency_ttl)),
            queue: Arc::new(SqsQueue::sending(send.clone(), queue_url)),
            runs: Arc::new(table),
            work: Arc::new(SqsWork::new(send, work_url)),
            margin: MARGIN,
        })
    }

    /// The reconciler: channel secrets, Qapla's API (budget shared in the state table),
    /// the ledger, the hand-off queue.
    pub fn reconciler(&self) -> Result<Reconciler, ConfigError> {
        let c = &self.config;
        let queue_url = required(&c.queue_url, "HAND_OFF_QUEUE_URL")?;
        let table = Arc::new(self.table()?);
        let refusals = CloudWatchRefusals::new(aws_sdk_cloudwatch::Client::new(self.aws()?));
        Ok(Reconciler {
            store: Arc::new(self.secrets_store()?),
            http: self.outbound_http()?,
            pace: self.pace(&table),
            state: Arc::new(DynamoState::new((*table).clone(), c.idempotency_ttl)),
            queue: Arc::new(SqsQueue::sending(self.signed_send()?, queue_url)),
            cursors: table.clone(),
            stalls: table,
            timing: c.reconcile.clone(),
            refusals: Some(Arc::new(refusals)),
        })
    }
}
