//! One release per hold: the port the page claims a hold through before it calls Qapla', and
//! where the outcome is kept so that a second submission (a double click, the back button,
//! another link of the same hold) shows the first outcome instead of a second release.
//! In the stack: a conditional write in the state table (`crate::aws::DynamoReleases`).

use crate::qapla::v2::Action;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;

/// What became of a release, as the customer is shown it and Connectif is told it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The courier accepted it.
    Ok,
    /// Sent to a courier that answers later (BRT): the tracking will say.
    Pending,
    /// The courier (or Qapla') refused it, with its message.
    Error,
    /// Qapla' says the parcel is not held (anymore): nothing to release.
    NotHeld,
    /// Sent, but the answer never came (a timeout after the request left): not sent again.
    Unconfirmed,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Pending => "pending",
            Verdict::Error => "error",
            Verdict::NotHeld => "not_held",
            Verdict::Unconfirmed => "unconfirmed",
        }
    }
}

/// A settled release: the action, the verdict and the courier's message (no address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub action: Action,
    pub verdict: Verdict,
    #[serde(default)]
    pub message: String,
}

/// What the ledger holds for a hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// Claimed by a submission whose call has not settled (or whose function died).
    Claimed,
    Settled(Outcome),
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("release ledger: {0}")]
pub struct LedgerError(pub String);

#[async_trait]
pub trait Ledger: Send + Sync {
    /// What is recorded for `hold`, if anything.
    async fn get(&self, hold: &str) -> Result<Option<Recorded>, LedgerError>;
    /// Claim `hold` for one release (kept until `expires`, Unix seconds): `None` if this call
    /// claimed it, else what was there (conditional: two submissions never both claim).
    async fn claim(&self, hold: &str, expires: i64) -> Result<Option<Recorded>, LedgerError>;
    /// Record the outcome of the claimed `hold`.
    async fn settle(&self, hold: &str, outcome: &Outcome, expires: i64) -> Result<(), LedgerError>;
    /// Give a claimed, unsettled `hold` back (the call never reached the courier).
    async fn free(&self, hold: &str) -> Result<(), LedgerError>;
}

/// In memory (local runs, tests).
#[derive(Default)]
pub struct MemoryLedger {
    holds: Mutex<HashMap<String, Recorded>>,
}

impl MemoryLedger {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Recorded>> {
        self.holds.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl Ledger for MemoryLedger {
    async fn get(&self, hold: &str) -> Result<Option<Recorded>, LedgerError> {
        Ok(self.lock().get(hold).cloned())
    }

    async fn claim(&self, hold: &str, _expires: i64) -> Result<Option<Recorded>, LedgerError> {
        let mut holds = self.lock();
        if let Some(recorded) = holds.get(hold) {
            return Ok(Some(recorded.clone()));
        }
        holds.insert(hold.to_owned(), Recorded::Claimed);
        Ok(None)
    }

    async fn settle(
        &self,
        hold: &str,
        outcome: &Outcome,
        _expires: i64,
    ) -> Result<(), LedgerError> {
        self.lock()
            .insert(hold.to_owned(), Recorded::Settled(outcome.clone()));
        Ok(())
    }

    async fn free(&self, hold: &str) -> Result<(), LedgerError> {
        let mut holds = self.lock();
        if holds.get(hold) == Some(&Recorded::Claimed) {
            holds.remove(hold);
        }
        Ok(())
    }
}
