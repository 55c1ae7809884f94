//! The state table: the one place its schema is written.
//!
//! One DynamoDB table, key `pk` (string), TTL attribute `expires_at` (epoch seconds).
//! DynamoDB deletes expired items up to ~48 h late, so [`Table::get`] checks expiry itself.
//! The item families, each with its key ([`Pk`]) and who writes it:
//!
//! | key | attributes | written by |
//! |---|---|---|
//! | `event#<event id>` | `value` (status id), `expires_at` | the worker: a delivered event |
//! | `status#<status key>` | `expires_at` | the worker: the ledger of handled statuses |
//! | `tries#<event id>` | `tries`, `expires_at` | the worker: failed tries of an event (its backoff) |
//! | `shipment#<channel>#<tracking>` | `value` (status time), `status`, `status_id`, `alias`, `delivered_at`, `expires_at`; `fields` (the event's, no customer; its `shippedAt` is the shipment's), `courier`, `watch` and `watch_at` (its channel and status time, while it can stall), `stalled_at` | the worker: the newest status delivered; the reconciler: `watch` removed once its stall is queued |
//! | `return#…`, `order#<channel>#<reference>` | as above, `value` empty | the worker: the last delivery |
//! | `qapla-budget#<hash of the key>` | `tokens`, `at_ms`, `expires_at` | whoever calls Qapla's API |
//! | `reconcile#<channel>` | `until` | the reconciler: where it stopped |
//! | `live#<kind>#<channel>` | `since` | the worker: Qapla' posts this kind to the bridge (reconcile `auto`) |
//! | `backfill#<channel>` | `runs` (JSON), `version` | a backfill run (console or background function) |
//! | `backfill-report#<channel>#<run>#<part>` | `csv`, `expires_at` | a backfill run: its failures |
//!
//! One global secondary index, [`STALL_INDEX`]: key `watch` (the channel), sort key
//! `watch_at` (the newest status's time, `YYYY-MM-DD HH:MM:SS`, so text order is time order;
//! not `value`, which other items hold empty, and an index key cannot be), every attribute
//! projected. Sparse: only shipments whose newest status is not final have `watch`, so one
//! query per channel finds the parcels silent since a time, and nothing else.
//!
//! The rules over these items live with their users (`delivery::state`, `qapla::pace`,
//! `history`, `stalls`); the keys, the attribute names ([`attr`]) and the calls are here,
//! and their adapters beside this file (`state.rs`, `pace.rs`, `history.rs`).

use crate::Kind;
use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::builders::PutBuilder;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, KeysAndAttributes, Put, TransactWriteItem,
};
use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

/// The index of parcels that can stall (see the module docs).
pub const STALL_INDEX: &str = "stalls";

/// Every attribute of the table, each named once (the module docs say which item has which).
pub mod attr {
    /// The key of every item ([`super::Pk`]).
    pub const PK: &str = "pk";
    /// The TTL attribute (epoch seconds): DynamoDB deletes the item some time after.
    pub const EXPIRES_AT: &str = "expires_at";
    /// A delivered event's status id; a shipment's newest status time (else empty).
    pub const VALUE: &str = "value";
    /// A shipment's newest `status id/detail id`.
    pub const STATUS: &str = "status";
    /// The last delivery's Qapla' status id.
    pub const STATUS_ID: &str = "status_id";
    /// The last delivery's Connectif event alias.
    pub const ALIAS: &str = "alias";
    /// When the last delivery was made (epoch seconds).
    pub const DELIVERED_AT: &str = "delivered_at";
    /// A shipment's newest event's fields, without the customer (JSON).
    pub const FIELDS: &str = "fields";
    /// A shipment's Qapla' courier code (what `rules.skipCouriers` names).
    pub const COURIER: &str = "courier";
    /// A shipment's channel while its newest status can stall: the stall index's key.
    pub const WATCH: &str = "watch";
    /// Its newest status's time while it can stall: the stall index's sort key.
    pub const WATCH_AT: &str = "watch_at";
    /// When its stall was queued (epoch seconds).
    pub const STALLED_AT: &str = "stalled_at";
    /// The failed tries of an event's delivery.
    pub const TRIES: &str = "tries";
    /// Qapla's API bucket: tokens left, and the last take (epoch ms).
    pub const TOKENS: &str = "tokens";
    pub const AT_MS: &str = "at_ms";
    /// Where reconciliation of a channel stopped.
    pub const UNTIL: &str = "until";
    /// When the first live post of a kind reached the bridge (epoch seconds).
    pub const SINCE: &str = "since";
    /// A channel's backfill runs (JSON) and their record's version.
    pub const RUNS: &str = "runs";
    pub const VERSION: &str = "version";
    /// A backfill report's part (CSV lines).
    pub const CSV: &str = "csv";
    /// A release's outcome (JSON; empty while claimed).
    pub const OUTCOME: &str = "outcome";
}

/// An item as DynamoDB returns it.
pub type Item = HashMap<String, AttributeValue>;

/// What a failed table call reports (the SDK's error, with its cause chain).
pub type TableError = Box<dyn std::error::Error + Send + Sync>;

/// The key of every item family of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pk<'a> {
    /// A delivered event, by event id.
    Event(&'a str),
    /// The ledger of handled statuses, by status key (`Envelope::status_key`).
    Status(&'a str),
    /// The failed tries of an event's delivery, by event id.
    Tries(&'a str),
    /// The last delivery of a shipment, return or order: kind, channel, tracking number or
    /// reference.
    Last(Kind, &'a str, &'a str),
    /// Qapla's API budget of one key, by a hash of the key (never the key).
    Budget(&'a str),
    /// Where reconciliation of a channel stopped.
    Reconcile(&'a str),
    /// The first live post of a kind reached the bridge: kind, channel.
    Live(Kind, &'a str),
    /// The backfill runs of a channel.
    Backfill(&'a str),
    /// A part of a backfill run's failure report: channel, run id, part number.
    BackfillReport(&'a str, u64, u32),
    /// One hold's release (`crate::links::Link::hold_key`).
    Release(&'a str),
}

impl fmt::Display for Pk<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pk::Event(id) => write!(f, "event#{id}"),
            Pk::Status(key) => write!(f, "status#{key}"),
            Pk::Tries(id) => write!(f, "tries#{id}"),
            Pk::Last(kind, channel, key) => write!(f, "{}#{channel}#{key}", kind.as_str()),
            Pk::Budget(hash) => write!(f, "qapla-budget#{hash}"),
            Pk::Reconcile(channel) => write!(f, "reconcile#{channel}"),
            Pk::Live(kind, channel) => write!(f, "live#{}#{channel}", kind.as_str()),
            Pk::Backfill(channel) => write!(f, "backfill#{channel}"),
            Pk::BackfillReport(channel, run, part) => {
                write!(f, "backfill-report#{channel}#{run}#{part}")
            }
            Pk::Release(hold) => write!(f, "release#{hold}"),
        }
    }
}

impl Pk<'_> {
    /// The key as the table stores it (the `pk` attribute).
    pub fn value(&self) -> AttributeValue {
        AttributeValue::S(self.to_string())
    }
}

/// The state table: a client and the table's name.
#[derive(Clone, Debug)]
pub struct Table {
    client: aws_sdk_dynamodb::Client,
    name: String,
}

impl Table {
    pub fn new(client: aws_sdk_dynamodb::Client, name: impl Into<String>) -> Self {
        Table {
            client,
            name: name.into(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The item, read consistently, if it exists and has not expired.
    pub async fn get(&self, pk: Pk<'_>) -> Result<Option<Item>, TableError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.name)
            .key(attr::PK, pk.value())
            .consistent_read(true)
            .send()
            .await?;
        Ok(out.item.filter(|item| {
            number(item, attr::EXPIRES_AT).is_none_or(|at| at > crate::clock::epoch_secs() as f64)
        }))
    }

    /// The items of `pks` that exist and have not expired, read consistently, in no order
    /// (`BatchGetItem`, 100 keys a call, keys left unprocessed asked again after
    /// [`RetryPolicy::aws`](crate::delivery::RetryPolicy::aws)'s backoff).
    pub async fn get_all(&self, pks: &[Pk<'_>]) -> Result<Vec<Item>, TableError> {
        let mut found = Vec::new();
        for chunk in pks.chunks(100) {
            let keys: Vec<Item> = chunk
                .iter()
                .map(|pk| HashMap::from([(attr::PK.to_owned(), pk.value())]))
                .collect();
            let mut ask = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(true)
                    .build()?,
            );
            let (backoff, mut retry) = (crate::delivery::RetryPolicy::aws(), 0);
            while let Some(keys) = ask.take() {
                if retry > 0 {
                    // DynamoDB's advice for unprocessed keys: ask again after a backoff.
                    let Some(wait) = backoff.next_delay(retry - 1, None) else {
                        return Err("BatchGetItem left keys unprocessed after every retry".into());
                    };
                    tokio::time::sleep(wait).await;
                }
                retry += 1;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.name, keys)
                    .send()
                    .await?;
                let now = crate::clock::epoch_secs() as f64;
                let items = out.responses.and_then(|mut r| r.remove(&self.name));
                found.extend(
                    items
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|item| number(item, attr::EXPIRES_AT).is_none_or(|at| at > now)),
                );
                ask = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.name))
                    .filter(|k| !k.keys().is_empty());
            }
        }
        Ok(found)
    }

    /// The shipments of `channel` in the stall index ([`STALL_INDEX`]) whose newest status
    /// time lies between `from` and `to` (inclusive), every page; and the calls it took.
    pub async fn watched(
        &self,
        channel: &str,
        from: &str,
        to: &str,
    ) -> Result<(Vec<Item>, u32), TableError> {
        let (mut items, mut calls, mut start) = (Vec::new(), 0, None);
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.name)
                .index_name(STALL_INDEX)
                .key_condition_expression("#w = :c AND #v BETWEEN :from AND :to")
                .expression_attribute_names("#w", attr::WATCH)
                .expression_attribute_names("#v", attr::WATCH_AT)
                .expression_attribute_values(":c", AttributeValue::S(channel.to_owned()))
                .expression_attribute_values(":from", AttributeValue::S(from.to_owned()))
                .expression_attribute_values(":to", AttributeValue::S(to.to_owned()))
                .set_exclusive_start_key(start.take())
                .send()
                .await?;
            calls += 1;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok((items, calls)),
            }
        }
    }

    /// A put of the item `pk`, to add attributes (and a condition) to and send.
    pub fn put(&self, pk: Pk<'_>) -> PutItemFluentBuilder {
        self.client
            .put_item()
            .table_name(&self.name)
            .item(attr::PK, pk.value())
    }

    /// A delete of the item `pk`, to add a condition to and send.
    pub fn delete(
        &self,
        pk: Pk<'_>,
    ) -> aws_sdk_dynamodb::operation::delete_item::builders::DeleteItemFluentBuilder {
        self.client
            .delete_item()
            .table_name(&self.name)
            .key(attr::PK, pk.value())
    }

    /// An update of the item `pk` (created if missing), to add expressions to and send.
    pub fn update(&self, pk: Pk<'_>) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.name)
            .key(attr::PK, pk.value())
    }

    /// A put of the item `pk` inside a transaction ([`Table::write_all`]).
    pub fn put_in(&self, pk: Pk<'_>) -> PutBuilder {
        Put::builder()
            .table_name(&self.name)
            .item(attr::PK, pk.value())
    }

    /// Every put, or none (one `TransactWriteItems`). [`Written::ConditionFailed`] when a
    /// put's condition did not hold: then nothing was written.
    pub async fn write_all(&self, puts: Vec<PutBuilder>) -> Result<Written, TableError> {
        let items = puts
            .into_iter()
            .map(|put| Ok(TransactWriteItem::builder().put(put.build()?).build()))
            .collect::<Result<Vec<_>, aws_sdk_dynamodb::error::BuildError>>()?;
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Written::All),
            Err(e) => {
                let cancelled = match e.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                        c.cancellation_reasons()
                    }
                    _ => &[],
                };
                let condition = |r: &CancellationReason| r.code() == Some("ConditionalCheckFailed");
                if cancelled.iter().any(condition) {
                    Ok(Written::ConditionFailed)
                } else {
                    Err(e.into())
                }
            }
        }
    }
}

/// What [`Table::write_all`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    All,
    /// A condition did not hold; nothing was written.
    ConditionFailed,
}

/// The `expires_at` value of an item kept `ttl` from `now` (epoch seconds).
pub fn expires_at(now: u64, ttl: Duration) -> AttributeValue {
    AttributeValue::N(now.saturating_add(ttl.as_secs()).to_string())
}

/// A string attribute.
pub fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

/// A number attribute.
pub fn number(item: &Item, name: &str) -> Option<f64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
}

/// Whether a failed put failed only its condition (someone else wrote first, or the item
/// is newer): not an error for the callers that use conditions.
pub fn condition_failed<R>(
    e: &aws_sdk_dynamodb::error::SdkError<aws_sdk_dynamodb::operation::put_item::PutItemError, R>,
) -> bool {
    e.as_service_error()
        .is_some_and(|e| e.is_conditional_check_failed_exception())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_family_has_its_key_format() {
        assert_eq!(Pk::Event("e1").to_string(), "event#e1");
        assert_eq!(Pk::Status("it/T1/4/0").to_string(), "status#it/T1/4/0");
        assert_eq!(Pk::Tries("e1").to_string(), "tries#e1");
        assert_eq!(
            Pk::Last(Kind::Shipment, "it", "T1").to_string(),
            "shipment#it#T1"
        );
        assert_eq!(
            Pk::Last(Kind::Return, "it", "R1").to_string(),
            "return#it#R1"
        );
        assert_eq!(Pk::Last(Kind::Order, "it", "O1").to_string(), "order#it#O1");
        assert_eq!(Pk::Budget("ab12").to_string(), "qapla-budget#ab12");
        assert_eq!(Pk::Reconcile("it").to_string(), "reconcile#it");
        assert_eq!(
            Pk::Live(Kind::Shipment, "it").to_string(),
            "live#shipment#it"
        );
        assert_eq!(Pk::Backfill("it").to_string(), "backfill#it");
        assert_eq!(Pk::Release("it#12#1000").to_string(), "release#it#12#1000");
        assert_eq!(
            Pk::BackfillReport("it", 1764716000, 3).to_string(),
            "backfill-report#it#1764716000#3"
        );
    }
}
