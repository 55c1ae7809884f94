//! Every adapter that speaks to AWS, behind the ports the domain rooms own: the state table
//! ([`table`]: its schema, and [`DynamoState`], [`DynamoPace`], the cursors, stall index and
//! backfill runs of [`history`](self::history)), SQS ([`SqsQueue`] and [`SqsWork`], all sent
//! by [`SignedSend`]; the dead letters' [`replay`]), Secrets Manager's channel store
//! ([`SecretsManagerStore`]) and the release link key ([`SecretLinkKey`]), the release
//! page's one-use ledger ([`release`]), CloudWatch's count of refused posts ([`CloudWatchRefusals`]),
//! and the SDK's HTTP connector ([`connector`]). Only this room and `config` (which wires
//! it) use the AWS SDK (`make structure` checks it).

pub mod cloudwatch;
pub mod connector;
mod history;
pub mod pace;
pub mod queue;
pub mod release;
pub mod replay;
pub mod secrets;
pub mod send;
pub mod state;
pub mod table;
pub mod work;

pub use cloudwatch::CloudWatchRefusals;
pub use pace::DynamoPace;
pub use queue::{SqsQueue, message_of};
pub use release::SecretLinkKey;
pub use secrets::SecretsManagerStore;
pub use send::{Entry, SendError, SetupError, SignedSend};
pub use state::{DynamoState, LastDelivered};
pub use table::Table;
pub use work::SqsWork;
