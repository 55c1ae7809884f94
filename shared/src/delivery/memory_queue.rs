//! An in-memory FIFO queue with SQS's group semantics: the queue of the local worker (the
//! SQS sample event run without AWS) and of the soak and durable tests.

use super::{
    Envelope, HandOff, HandOffError, HandedOff, QueueControl, QueueError, QueueMessage, group_id,
};
use async_trait::async_trait;
use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

struct Stored {
    msg: QueueMessage,
    visible_at: Instant,
    in_flight: bool,
}

/// In-memory FIFO queue: groups in order, one batch per group in flight at a time,
/// deduplication by event id, visibility delays, a dead-letter list.
pub struct MemoryQueue {
    visibility: Duration,
    inner: Mutex<MemoryInner>,
}

#[derive(Default)]
struct MemoryInner {
    messages: Vec<Stored>,
    dead: Vec<(String, String)>,
    dedup: HashSet<String>,
    next_id: u64,
}

impl MemoryQueue {
    /// `visibility`: how long a received message stays hidden unless told otherwise.
    pub fn new(visibility: Duration) -> Self {
        MemoryQueue {
            visibility,
            inner: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Up to `max` messages, FIFO per group; a group with a message in flight or hidden
    /// yields nothing.
    pub fn receive(&self, max: usize) -> Vec<QueueMessage> {
        let now = Instant::now();
        let visibility = self.visibility;
        let mut inner = self.lock();
        let mut blocked: HashSet<String> = HashSet::new();
        let mut batch = Vec::new();
        for stored in inner.messages.iter_mut() {
            let group = stored.msg.group.clone();
            if blocked.contains(&group) {
                continue;
            }
            if stored.in_flight || stored.visible_at > now {
                blocked.insert(group);
                continue;
            }
            if batch.len() < max {
                stored.in_flight = true;
                stored.msg.receive_count += 1;
                stored.visible_at = now + visibility;
                batch.push(stored.msg.clone());
            }
        }
        batch
    }

    /// What Lambda's event source does after the handler: delete the successes, release
    /// the failures (which stay hidden for their visibility).
    pub fn settle(&self, batch: &[QueueMessage], failed: &[String]) {
        let failed: HashSet<&String> = failed.iter().collect();
        let done: HashSet<&String> = batch
            .iter()
            .map(|m| &m.id)
            .filter(|id| !failed.contains(id))
            .collect();
        let mut inner = self.lock();
        inner.messages.retain(|s| !done.contains(&s.msg.id));
        for s in inner
            .messages
            .iter_mut()
            .filter(|s| failed.contains(&s.msg.id))
        {
            s.in_flight = false;
        }
    }

    pub fn len(&self) -> usize {
        self.lock().messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Dead letters as (body, reason).
    pub fn dead_letters(&self) -> Vec<(String, String)> {
        self.lock().dead.clone()
    }
}

#[async_trait]
impl HandOff for MemoryQueue {
    async fn hand_off(&self, envelope: Envelope) -> Result<HandedOff, HandOffError> {
        let body = serde_json::to_string(&envelope).map_err(|e| HandOffError(Box::new(e)))?;
        let mut inner = self.lock();
        if !inner.dedup.insert(envelope.dedup_id()) {
            return Ok(HandedOff::Queued);
        }
        inner.next_id += 1;
        let id = format!("m{}", inner.next_id);
        inner.messages.push(Stored {
            msg: QueueMessage {
                receipt: id.clone(),
                id,
                body,
                group: group_id(&envelope),
                receive_count: 0,
                sent_at: SystemTime::now(),
            },
            visible_at: Instant::now(),
            in_flight: false,
        });
        Ok(HandedOff::Queued)
    }
}

#[async_trait]
impl QueueControl for MemoryQueue {
    async fn follow_up(&self, envelope: Envelope) -> Result<(), QueueError> {
        let handed = HandOff::hand_off(self, envelope).await;
        handed.map(|_| ()).map_err(|e| QueueError(Box::new(e)))
    }

    async fn retry_later(&self, msg: &QueueMessage, delay: Duration) -> Result<(), QueueError> {
        let mut inner = self.lock();
        if let Some(s) = inner.messages.iter_mut().find(|s| s.msg.id == msg.id) {
            s.visible_at = Instant::now() + delay;
        }
        Ok(())
    }

    async fn dead_letter(&self, msg: &QueueMessage, reason: &str) -> Result<(), QueueError> {
        self.lock().dead.push((msg.body.clone(), reason.to_owned()));
        Ok(())
    }
}
