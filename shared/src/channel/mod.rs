//! Per-channel settings (one Qapla' channel = one secret), where they are stored, and
//! authentication of a webhook against them.

mod aliases;
mod auth;
mod id;
mod rotation;
mod rules;
mod settings;
mod store;
mod switches;

pub use auth::{AuthError, Authenticated, CacheLimits, Channels, NEGATIVE_TTL, Presented};
pub use id::{ChannelId, InvalidChannelId};
pub use rules::{ExtraField, Rules, Stalls, Suppression, courier_name};
pub use settings::{
    Aliases, ChannelSettings, ConnectifSettings, Endpoints, EstimatedDelivery, PreviousKey,
    ReleaseLinks, ReturnShipments, SettingsError, TrackingUrlSource,
};
pub use store::{ChannelStore, MemoryStore, StoreError};
pub use switches::{KIND_OFF, Reconcile, Sends};
