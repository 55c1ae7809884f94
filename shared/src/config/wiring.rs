//! The composition root: AWS clients and every adapter, built once at cold start from a
//! [`Config`] (local mode, with channels from a file or inline JSON, touches no AWS at all).

use super::{Config, ConfigError};
use crate::channel::{Authenticator, ChannelStore, MemoryStore, SecretsManagerStore};
use crate::connectif::ConnectifClient;
use crate::delivery::state::{DynamoState, MemoryState};
use crate::delivery::{
    Deliverer, HandOff, InProcessHandOff, MemoryQueue, SignedSend, SqsQueue, Worker,
};
use crate::history::reconcile::Reconciler;
use crate::qapla::pace::{Budget, DynamoPace};
use crate::webhook::Deps;
use std::sync::Arc;
use std::time::Duration;

impl Config {
    fn required(value: &Option<String>, variable: &'static str) -> Result<String, ConfigError> {
        value.clone().ok_or(ConfigError {
            variable,
            problem: "must be set".into(),
        })
    }

    fn aws(&self) -> Result<aws_types::SdkConfig, ConfigError> {
        self.aws.sdk_config()
    }

    fn connectif_client(&self) -> Result<ConnectifClient, ConfigError> {
        ConnectifClient::new(self.connect_timeout, self.request_timeout).map_err(|e| ConfigError {
            variable: "CONNECTIF_TIMEOUT_MS",
            problem: format!("cannot build the HTTP client: {e}"),
        })
    }

    fn channels(&self, store: Arc<dyn ChannelStore>) -> Arc<Authenticator> {
        Arc::new(Authenticator::with_limits(
            store,
            self.secret_ttl,
            self.secret_recheck,
            self.cache_limits.clone(),
        ))
    }

    /// Local mode: channel settings from `CHANNELS_FILE`/`CHANNELS_JSON` and no queue. It
    /// touches no AWS endpoint at all (not even to find a region or credentials).
    pub fn is_local(&self) -> bool {
        self.queue_url.is_none() && (self.channels_file.is_some() || self.channels_json.is_some())
    }

    /// The AWS configuration, loaded only when something needs AWS.
    fn aws_unless_local(&self) -> Result<Option<aws_types::SdkConfig>, ConfigError> {
        if self.is_local() {
            Ok(None)
        } else {
            self.aws().map(Some)
        }
    }

    /// The delivery worker: SQS queue and dead-letter queue, DynamoDB state, Connectif. In
    /// local mode (no `HAND_OFF_QUEUE_URL`, channels from a file or inline JSON) the state
    /// and dead letters are kept in memory, for `sam local invoke` with the SQS samples.
    pub async fn worker(&self) -> Result<Worker, ConfigError> {
        let deliverer = |store| -> Result<Deliverer, ConfigError> {
            Ok(Deliverer::new(
                self.channels(store),
                self.connectif_client()?,
            ))
        };
        if self.is_local() {
            let local = MemoryQueue::new(Duration::ZERO);
            return Ok(Worker::new(
                deliverer(self.channel_store_with(None)?)?,
                Arc::new(MemoryState::default()),
                Arc::new(local),
                self.worker.clone(),
            ));
        }
        let queue_url = Self::required(&self.queue_url, "HAND_OFF_QUEUE_URL")?;
        let dead_letter_url = Self::required(&self.dead_letter_url, "DEAD_LETTER_QUEUE_URL")?;
        let table = Self::required(&self.state_table, "STATE_TABLE")?;
        let aws = self.aws()?;
        let queue = SqsQueue::new(
            aws_sdk_sqs::Client::new(&aws),
            queue_url,
            Some(dead_letter_url),
        );
        let dynamo = aws_sdk_dynamodb::Client::new(&aws);
        let pace = Arc::new(
            DynamoPace::new(dynamo.clone(), table.clone()).with_budget(Budget::from_env()),
        );
        let state = DynamoState::new(dynamo, table, self.idempotency_ttl);
        Ok(Worker::new(
            deliverer(self.channel_store_with(Some(&aws))?)?.paced(pace),
            Arc::new(state),
            Arc::new(queue),
            self.worker.clone(),
        ))
    }

    /// The reconciler: channel secrets, Qapla's API (budget shared in the state table),
    /// the ledger, the hand-off queue.
    pub async fn reconciler(&self) -> Result<Reconciler, ConfigError> {
        let queue_url = Self::required(&self.queue_url, "HAND_OFF_QUEUE_URL")?;
        let table = Self::required(&self.state_table, "STATE_TABLE")?;
        let aws = self.aws()?;
        let dynamo = aws_sdk_dynamodb::Client::new(&aws);
        let store = SecretsManagerStore::new(
            aws_sdk_secretsmanager::Client::new(&aws),
            self.secret_prefix.clone(),
        );
        Ok(Reconciler {
            store,
            http: self.connectif_client()?.http().clone(),
            pace: Arc::new(
                DynamoPace::new(dynamo.clone(), table.clone()).with_budget(Budget::from_env()),
            ),
            state: Arc::new(DynamoState::new(
                dynamo.clone(),
                table.clone(),
                self.idempotency_ttl,
            )),
            queue: Arc::new(SqsQueue::new(
                aws_sdk_sqs::Client::new(&aws),
                queue_url,
                None,
            )),
            dynamo,
            table,
            timing: self.reconcile.clone(),
        })
    }

    /// The channel settings store this configuration names.
    pub async fn channel_store(&self) -> Result<Arc<dyn ChannelStore>, ConfigError> {
        self.channel_store_with(self.aws_unless_local()?.as_ref())
    }

    fn channel_store_with(
        &self,
        aws: Option<&aws_types::SdkConfig>,
    ) -> Result<Arc<dyn ChannelStore>, ConfigError> {
        let unreadable = |variable, e: std::io::Error| ConfigError {
            variable,
            problem: format!("cannot read channel settings: {e}"),
        };
        if let Some(text) = &self.channels_json {
            let store = MemoryStore::from_json(text).map_err(|e| unreadable("CHANNELS_JSON", e))?;
            return Ok(Arc::new(store));
        }
        if let Some(path) = &self.channels_file {
            let store = MemoryStore::from_file(path).map_err(|e| unreadable("CHANNELS_FILE", e))?;
            return Ok(Arc::new(store));
        }
        let aws = aws.ok_or(ConfigError {
            variable: "CHANNELS_FILE",
            problem: "no channel settings source".into(),
        })?;
        let client = aws_sdk_secretsmanager::Client::new(aws);
        Ok(Arc::new(SecretsManagerStore::new(
            client,
            self.secret_prefix.clone(),
        )))
    }

    /// Everything a webhook function needs: settings cache and hand-off (SQS when
    /// `HAND_OFF_QUEUE_URL` is set, else in-process delivery).
    pub async fn webhook_deps(&self) -> Result<Deps, ConfigError> {
        let aws = self.aws_unless_local()?;
        let channels = self.channels(self.channel_store_with(aws.as_ref())?);
        let hand_off: Arc<dyn HandOff> = match (&self.queue_url, &aws) {
            (Some(url), Some(aws)) => Arc::new(
                SqsQueue::new(aws_sdk_sqs::Client::new(aws), url.clone(), None)
                    .with_signed_send(SignedSend::new(&self.aws).await?),
            ),
            _ => Arc::new(InProcessHandOff::new(
                Deliverer::new(channels.clone(), self.connectif_client()?),
                self.retry.clone(),
            )),
        };
        Ok(Deps {
            channels,
            hand_off,
            max_body_bytes: self.max_body_bytes,
            senders: self.senders.clone(),
        })
    }
}
