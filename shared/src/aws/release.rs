//! The release page's one-use ledger in the state table (`crate::release::Ledger`): item
//! `release#<channel>#<shipment id>#<held at>`, created with `attribute_not_exists(pk)` (so
//! two submissions never both claim a hold), its `outcome` empty while claimed and the
//! outcome's JSON (action, verdict, the courier's message; never an address) once settled,
//! deleted on a give-back only while still empty. And the stack's link key, read from its
//! Secrets Manager secret once, when first needed.

use super::table::{self, Pk, Table, attr};
use crate::links::{KeySource, LinkKey};
use crate::release::{Ledger, LedgerError, Outcome, Recorded};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use secrecy::SecretString;

fn error(e: impl std::error::Error) -> LedgerError {
    LedgerError(crate::telemetry::error_chain(&e))
}

/// Unix seconds as DynamoDB's TTL reads them (links count in Italian time: an hour or two
/// either way is nothing against the 30 days an outcome is kept).
fn ttl(expires: i64) -> AttributeValue {
    AttributeValue::N(expires.max(0).to_string())
}

#[async_trait]
impl Ledger for Table {
    async fn get(&self, hold: &str) -> Result<Option<Recorded>, LedgerError> {
        let item = Table::get(self, Pk::Release(hold))
            .await
            .map_err(|e| LedgerError(crate::telemetry::error_chain(&*e)))?;
        Ok(item.map(|item| {
            let outcome = table::text(&item, attr::OUTCOME).unwrap_or_default();
            match serde_json::from_str::<Outcome>(&outcome) {
                Ok(outcome) => Recorded::Settled(outcome),
                Err(_) => Recorded::Claimed,
            }
        }))
    }

    async fn claim(&self, hold: &str, expires: i64) -> Result<Option<Recorded>, LedgerError> {
        let put = (self.put(Pk::Release(hold)))
            .item(attr::OUTCOME, AttributeValue::S(String::new()))
            .item(attr::EXPIRES_AT, ttl(expires))
            .condition_expression("attribute_not_exists(#k)")
            .expression_attribute_names("#k", attr::PK);
        match put.send().await {
            Ok(_) => Ok(None),
            Err(e) if table::condition_failed(&e) => Ok(Some(
                Ledger::get(self, hold).await?.unwrap_or(Recorded::Claimed),
            )),
            Err(e) => Err(error(e)),
        }
    }

    async fn settle(&self, hold: &str, outcome: &Outcome, expires: i64) -> Result<(), LedgerError> {
        let json = serde_json::to_string(outcome).map_err(error)?;
        (self.put(Pk::Release(hold)))
            .item(attr::OUTCOME, AttributeValue::S(json))
            .item(attr::EXPIRES_AT, ttl(expires))
            .send()
            .await
            .map_err(error)?;
        Ok(())
    }

    async fn free(&self, hold: &str) -> Result<(), LedgerError> {
        let delete = (self.delete(Pk::Release(hold)))
            .condition_expression("#o = :empty")
            .expression_attribute_names("#o", attr::OUTCOME)
            .expression_attribute_values(":empty", AttributeValue::S(String::new()));
        match delete.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(error(e)),
        }
    }
}

/// The link key in a Secrets Manager secret (the stack generates it), read once.
pub struct SecretLinkKey {
    client: aws_sdk_secretsmanager::Client,
    id: String,
    key: tokio::sync::OnceCell<LinkKey>,
}

impl SecretLinkKey {
    pub fn new(client: aws_sdk_secretsmanager::Client, id: impl Into<String>) -> Self {
        SecretLinkKey {
            client,
            id: id.into(),
            key: tokio::sync::OnceCell::new(),
        }
    }
}

#[async_trait]
impl KeySource for SecretLinkKey {
    async fn key(&self) -> Result<LinkKey, String> {
        let key = self.key.get_or_try_init(|| async {
            let out = (self.client.get_secret_value())
                .secret_id(&self.id)
                .send()
                .await
                .map_err(|e| crate::telemetry::error_chain(&e))?;
            let text = out.secret_string.unwrap_or_default();
            LinkKey::new(SecretString::from(text))
                .ok_or_else(|| "the release link secret holds under 32 bytes".to_owned())
        });
        key.await.cloned()
    }
}
