//! The production state store: the state table (see `crate::delivery::state`'s docs).

use super::table::{self, Item, Pk, Table, Written};
use crate::clock::epoch_secs as now_secs;
use crate::delivery::Envelope;
use crate::delivery::state::{LEDGER_TTL, Newest, Seen, StateError, StateStore, TRIES_TTL, decide};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::types::builders::PutBuilder;
use std::time::Duration;

/// The item of an envelope's last delivery.
fn last_pk(e: &Envelope) -> Pk<'_> {
    Pk::Last(e.kind, e.channel.as_str(), &e.key)
}

/// The item of a shipment's newest status delivered (only shipments order their events; a
/// stall is checked against it, never written to it).
fn newest_pk(e: &Envelope) -> Option<Pk<'_>> {
    (e.kind == crate::Kind::Shipment).then(|| last_pk(e))
}

/// DynamoDB table (see module docs).
pub struct DynamoState {
    table: Table,
    ttl: Duration,
}

fn unavailable(e: impl Into<table::TableError>) -> StateError {
    StateError(e.into())
}

impl DynamoState {
    /// Delivered events are remembered `ttl`.
    pub fn new(table: Table, ttl: Duration) -> Self {
        DynamoState { table, ttl }
    }

    /// The item, if it exists and has not expired.
    async fn item(&self, pk: Pk<'_>) -> Result<Option<Item>, StateError> {
        self.table.get(pk).await.map_err(unavailable)
    }
}

/// A shipment's newest item: its `value` and `status`.
fn newest_of(item: &Item) -> Newest {
    Newest {
        at: table::text(item, table::attr::VALUE).unwrap_or_default(),
        status: table::text(item, table::attr::STATUS).unwrap_or_default(),
        shipped_at: shipped_at(item),
    }
}

#[async_trait]
impl StateStore for DynamoState {
    #[tracing::instrument(skip_all, fields(event_id = %envelope.event_id))]
    async fn check(&self, envelope: &Envelope) -> Result<Seen, StateError> {
        // The event, its status and the shipment's newest, in one read (`make bench`: three
        // `GetItem`s in a row were most of a batch's CPU under a small memory's share).
        let status = envelope.status_key();
        let (event, newest) = (Pk::Event(&envelope.event_id), newest_pk(envelope));
        let status = status.as_deref().map(Pk::Status);
        let pks: Vec<Pk> = [Some(event), status, newest]
            .into_iter()
            .flatten()
            .collect();
        let items = self.table.get_all(&pks).await.map_err(unavailable)?;
        let found = |pk: Pk| {
            items
                .iter()
                .find(|i| i.get(table::attr::PK) == Some(&pk.value()))
        };
        let delivered = found(event).is_some() || status.is_some_and(|pk| found(pk).is_some());
        let newest = match newest {
            Some(pk) if !delivered => found(pk).map(newest_of),
            _ => None,
        };
        Ok(decide(envelope, delivered, newest))
    }

    async fn status_delivered(&self, status_key: &str) -> Result<bool, StateError> {
        Ok(self.item(Pk::Status(status_key)).await?.is_some())
    }

    async fn handled(&self, envelope: &Envelope) -> Result<(), StateError> {
        let Some(key) = envelope.status_key() else {
            return Ok(());
        };
        self.table
            .put(Pk::Status(&key))
            .item(
                table::attr::EXPIRES_AT,
                table::expires_at(now_secs(), LEDGER_TTL),
            )
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn saw_live(&self, envelope: &Envelope) -> Result<(), StateError> {
        let pk = Pk::Live(envelope.kind, envelope.channel.as_str());
        let since = AttributeValue::N(now_secs().to_string());
        let put = self.table.put(pk).item(table::attr::SINCE, since);
        // Once: the first post's time stays.
        let put = (put.condition_expression("attribute_not_exists(#k)"))
            .expression_attribute_names("#k", table::attr::PK);
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e) if table::condition_failed(&e) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn is_live(&self, kind: crate::Kind, channel: &str) -> Result<bool, StateError> {
        Ok(self.item(Pk::Live(kind, channel)).await?.is_some())
    }

    async fn failed_try(&self, envelope: &Envelope) -> Result<u32, StateError> {
        let expires = table::expires_at(now_secs(), TRIES_TTL);
        let out = self
            .table
            .update(Pk::Tries(&envelope.event_id))
            .update_expression("ADD #t :one SET #e = :expires")
            .expression_attribute_names("#t", table::attr::TRIES)
            .expression_attribute_names("#e", table::attr::EXPIRES_AT)
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":expires", expires)
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(unavailable)?;
        let tries = out
            .attributes
            .as_ref()
            .and_then(|a| table::number(a, table::attr::TRIES));
        Ok(tries.unwrap_or(1.0) as u32)
    }

    #[tracing::instrument(skip_all, fields(event_id = %envelope.event_id))]
    async fn record(&self, envelope: &Envelope) -> Result<(), StateError> {
        let now = now_secs();
        let expires = table::expires_at(now, self.ttl);
        let status_id = envelope.status_id.clone().unwrap_or_default();
        let mut puts = vec![
            self.table
                .put_in(Pk::Event(&envelope.event_id))
                .item(table::attr::VALUE, AttributeValue::S(status_id))
                .item(table::attr::EXPIRES_AT, expires.clone()),
        ];
        if let Some(key) = envelope.status_key() {
            let ledger = self.table.put_in(Pk::Status(&key));
            puts.push(ledger.item(table::attr::EXPIRES_AT, table::expires_at(now, LEDGER_TTL)));
        }
        let Some(last) = self.last_delivery(envelope, now, &expires) else {
            return self
                .table
                .write_all(puts)
                .await
                .map(drop)
                .map_err(unavailable);
        };
        let mut all = puts.clone();
        all.push(last);
        match self.table.write_all(all).await.map_err(unavailable)? {
            Written::All => Ok(()),
            // A newer status of the shipment is stored: it stays; the rest is recorded.
            Written::ConditionFailed => self
                .table
                .write_all(puts)
                .await
                .map(drop)
                .map_err(unavailable),
        }
    }
}

impl DynamoState {
    /// The put of the item `bridge-admin trace` shows as the last delivery of the envelope's
    /// key; for a shipment, only forward (an older status never overwrites a newer one), and
    /// none without a usable status time (it orders nothing, see `decide`).
    fn last_delivery(
        &self,
        envelope: &Envelope,
        now: u64,
        expires: &AttributeValue,
    ) -> Option<PutBuilder> {
        if envelope.is_stall() {
            return None; // about the newest status, not one: it stays as it is
        }
        let shipment = envelope.kind == crate::Kind::Shipment;
        let at = match &envelope.occurred_at {
            Some(at) if shipment => at.clone(),
            None if shipment => return None,
            _ => String::new(),
        };
        let status_id = envelope.status_id.clone().unwrap_or_default();
        let put = self
            .table
            .put_in(last_pk(envelope))
            .item(table::attr::VALUE, AttributeValue::S(at.clone()))
            .item(table::attr::STATUS_ID, AttributeValue::S(status_id))
            .item(
                table::attr::ALIAS,
                AttributeValue::S(envelope.event.alias.clone()),
            )
            .item(
                table::attr::DELIVERED_AT,
                AttributeValue::N(now.to_string()),
            )
            .item(table::attr::EXPIRES_AT, expires.clone());
        if !shipment {
            return Some(put);
        }
        // `at` is normalised (`YYYY-MM-DD HH:MM:SS`), so the condition compares as text.
        let repeat_key = envelope.repeat_key.clone().unwrap_or_default();
        let put = watched(put, envelope);
        Some(
            put.item(table::attr::STATUS, AttributeValue::S(repeat_key))
                .condition_expression("attribute_not_exists(#k) OR #v <= :at OR #e <= :now")
                .expression_attribute_names("#k", table::attr::PK)
                .expression_attribute_names("#v", table::attr::VALUE)
                .expression_attribute_names("#e", table::attr::EXPIRES_AT)
                .expression_attribute_values(":at", AttributeValue::S(at))
                .expression_attribute_values(":now", AttributeValue::N(now.to_string())),
        )
    }
}

/// When the shipment left, as its newest event's `fields` say (`shippedAt`).
fn shipped_at(item: &Item) -> Option<String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Shipped {
        shipped_at: Option<String>,
    }
    let fields = table::text(item, table::attr::FIELDS)?;
    let shipped: Shipped = serde_json::from_str(&fields).ok()?;
    shipped.shipped_at.filter(|at| !at.is_empty())
}

/// A shipment's newest item with what a stall needs: the event's fields without the
/// customer (the table holds no e-mail or name: a stall is completed from Qapla' like a v1.2
/// post; its `shippedAt` says when the shipment left), its courier, and — while its status is not final and it goes to the shipment
/// alias — `watch`, its channel, which puts it in the index of parcels that can stall
/// ([`table::STALL_INDEX`]). A put replaces the item, so a new status ends a stall.
fn watched(put: PutBuilder, envelope: &Envelope) -> PutBuilder {
    use crate::connectif::{Fields, Reception};
    let Fields::ShipmentStatus(fields) = &envelope.event.fields else {
        return put;
    };
    let mut kept = fields.clone();
    (kept.customer_email, kept.customer_name) = (None, String::new());
    let mut put = match serde_json::to_string(&kept) {
        Ok(json) => put.item(table::attr::FIELDS, AttributeValue::S(json)),
        Err(_) => put,
    };
    if let Some(courier) = &envelope.courier {
        put = put.item(table::attr::COURIER, AttributeValue::S(courier.clone()));
    }
    let status = envelope.status_id.as_deref().unwrap_or_default();
    if envelope.reception() == Reception::ShipmentStatus && !crate::mapping::is_final(status) {
        let at = envelope.occurred_at.clone().unwrap_or_default();
        put = (put.item(
            table::attr::WATCH,
            AttributeValue::S(envelope.channel.to_string()),
        ))
        .item(table::attr::WATCH_AT, AttributeValue::S(at));
    }
    put
}

/// The last delivery the state table holds for a key (what `bridge-admin trace` shows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastDelivered {
    pub kind: crate::Kind,
    /// Qapla' status id (shipments).
    pub status_id: String,
    /// Qapla's status time (shipments), `YYYY-MM-DD HH:MM:SS`.
    pub status_at: String,
    /// The Connectif event alias.
    pub alias: String,
    /// When it was delivered (epoch seconds); unknown for items written by older versions.
    pub delivered_at: Option<u64>,
}

impl DynamoState {
    /// Whether the event with this id was delivered (and the record has not expired).
    pub async fn delivered(&self, event_id: &str) -> Result<bool, StateError> {
        Ok(self.item(Pk::Event(event_id)).await?.is_some())
    }

    /// The last delivery of `key` on `channel`, for each kind that has one.
    pub async fn last_delivered(
        &self,
        channel: &crate::channel::ChannelId,
        key: &str,
    ) -> Result<Vec<LastDelivered>, StateError> {
        use crate::Kind;
        let mut found = Vec::new();
        for kind in Kind::ALL {
            let pk = Pk::Last(kind, channel.as_str(), key.trim());
            let Some(item) = self.item(pk).await? else {
                continue;
            };
            let text = |k: &str| table::text(&item, k);
            found.push(LastDelivered {
                kind,
                status_id: text(table::attr::STATUS_ID).unwrap_or_default(),
                status_at: if kind == Kind::Shipment {
                    text(table::attr::VALUE).unwrap_or_default()
                } else {
                    String::new()
                },
                alias: text(table::attr::ALIAS).unwrap_or_default(),
                delivered_at: table::number(&item, table::attr::DELIVERED_AT).map(|n| n as u64),
            });
        }
        Ok(found)
    }
}
