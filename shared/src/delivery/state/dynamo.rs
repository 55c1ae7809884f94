//! The production state store: one DynamoDB table (see the module docs of `state`).

use super::{
    LEDGER_TTL, Newest, Seen, StateError, StateStore, decide, now_secs, shipment_pk, status_pk,
};
use crate::delivery::Envelope;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use std::time::Duration;

type Item = HashMap<String, AttributeValue>;

/// DynamoDB table (see module docs).
pub struct DynamoState {
    client: aws_sdk_dynamodb::Client,
    table: String,
    ttl: Duration,
}

impl DynamoState {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>, ttl: Duration) -> Self {
        DynamoState {
            client,
            table: table.into(),
            ttl,
        }
    }

    /// The item, if it exists and has not expired.
    async fn item(&self, pk: &str) -> Result<Option<Item>, StateError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StateError(Box::new(e)))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let expires = item
            .get("expires_at")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(u64::MAX);
        Ok((expires > now_secs()).then_some(item))
    }

    /// The item's `value` and `status`, if it exists and has not expired.
    async fn get(&self, pk: &str) -> Result<Option<Newest>, StateError> {
        let Some(item) = self.item(pk).await? else {
            return Ok(None);
        };
        let text = |k: &str| {
            item.get(k)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        };
        Ok(Some(Newest {
            at: text("value"),
            status: text("status"),
        }))
    }
}

#[async_trait]
impl StateStore for DynamoState {
    #[tracing::instrument(skip_all, fields(event_id = %envelope.event_id))]
    async fn check(&self, envelope: &Envelope) -> Result<Seen, StateError> {
        let mut delivered = self
            .get(&format!("event#{}", envelope.event_id))
            .await?
            .is_some();
        if let Some(pk) = status_pk(envelope)
            && !delivered
        {
            delivered = self.item(&pk).await?.is_some();
        }
        let newest = match shipment_pk(envelope) {
            Some(pk) if !delivered => self.get(&pk).await?,
            _ => None,
        };
        Ok(decide(envelope, delivered, newest))
    }

    async fn status_delivered(&self, status_key: &str) -> Result<bool, StateError> {
        Ok(self.item(&format!("status#{status_key}")).await?.is_some())
    }

    async fn handled(&self, envelope: &Envelope) -> Result<(), StateError> {
        let Some(pk) = status_pk(envelope) else {
            return Ok(());
        };
        let ledger = (now_secs() + LEDGER_TTL.as_secs()).to_string();
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(pk))
            .item("expires_at", AttributeValue::N(ledger))
            .send()
            .await
            .map_err(|e| StateError(Box::new(e)))?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(event_id = %envelope.event_id))]
    async fn record(&self, envelope: &Envelope) -> Result<(), StateError> {
        let now = now_secs();
        let expires = AttributeValue::N((now + self.ttl.as_secs()).to_string());
        let status_id = envelope.status_id.clone().unwrap_or_default();
        self.client
            .put_item()
            .table_name(&self.table)
            .item(
                "pk",
                AttributeValue::S(format!("event#{}", envelope.event_id)),
            )
            .item("value", AttributeValue::S(status_id))
            .item("expires_at", expires.clone())
            .send()
            .await
            .map_err(|e| StateError(Box::new(e)))?;
        self.handled(envelope).await?;
        let last = |pk, value| self.last_delivery(envelope, pk, value, now, &expires);
        let Some(pk) = shipment_pk(envelope) else {
            let pk = format!(
                "{}#{}#{}",
                envelope.kind.as_str(),
                envelope.channel,
                envelope.key
            );
            let put = last(pk, String::new()).send().await;
            return put.map(drop).map_err(|e| StateError(Box::new(e)));
        };
        // Without a usable status time the event orders nothing (see `decide`).
        let Some(at) = envelope.occurred_at.clone() else {
            return Ok(());
        };
        // `at` is normalised (`YYYY-MM-DD HH:MM:SS`), so the condition compares as text.
        // Only move forward: an older status never overwrites a newer one.
        let result = last(pk, at.clone())
            .item(
                "status",
                AttributeValue::S(envelope.repeat_key.clone().unwrap_or_default()),
            )
            .condition_expression("attribute_not_exists(pk) OR #v <= :at OR expires_at <= :now")
            .expression_attribute_names("#v", "value")
            .expression_attribute_values(":at", AttributeValue::S(at))
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(StateError(Box::new(e))),
        }
    }
}

impl DynamoState {
    /// The item `bridge-admin trace` shows as the last delivery of the envelope's key.
    fn last_delivery(
        &self,
        envelope: &Envelope,
        pk: String,
        value: String,
        now: u64,
        expires: &AttributeValue,
    ) -> aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder {
        let status_id = envelope.status_id.clone().unwrap_or_default();
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(pk))
            .item("value", AttributeValue::S(value))
            .item("status_id", AttributeValue::S(status_id))
            .item("alias", AttributeValue::S(envelope.event.alias.clone()))
            .item("delivered_at", AttributeValue::N(now.to_string()))
            .item("expires_at", expires.clone())
    }
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
        Ok(self.item(&format!("event#{event_id}")).await?.is_some())
    }

    /// The last delivery of `key` on `channel`, for each kind that has one.
    pub async fn last_delivered(
        &self,
        channel: &crate::channel::ChannelId,
        key: &str,
    ) -> Result<Vec<LastDelivered>, StateError> {
        use crate::Kind;
        let mut found = Vec::new();
        for kind in [Kind::Shipment, Kind::Return, Kind::Order] {
            let pk = format!("{}#{channel}#{}", kind.as_str(), key.trim());
            let Some(item) = self.item(&pk).await? else {
                continue;
            };
            let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
            found.push(LastDelivered {
                kind,
                status_id: text("status_id").unwrap_or_default(),
                status_at: if kind == Kind::Shipment {
                    text("value").unwrap_or_default()
                } else {
                    String::new()
                },
                alias: text("alias").unwrap_or_default(),
                delivered_at: item
                    .get("delivered_at")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse().ok()),
            });
        }
        Ok(found)
    }
}
