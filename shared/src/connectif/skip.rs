//! Why an accepted Qapla' event produces no Connectif event: the `reason` of a `skipped` line.

/// Why an accepted Qapla' event produces no Connectif event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// No customer e-mail in the payload (v1.2 shipments never have one).
    NoCustomerEmail,
    /// An e-mail that is not an address.
    InvalidCustomerEmail,
    /// No customer name (a required field of every event).
    NoCustomerName,
    /// A child shipment of a multi-parcel order (`notifyChildShipments` is off).
    ChildShipment,
    /// A return shipment's status (`returnShipments` is `skip`).
    ReturnShipment,
    /// The channel has no Connectif endpoint for this reception event (endpoint mode).
    NoEndpoint,
    /// The channel wants Qapla's tracking page, which needs a tracking number.
    NoTrackingNumber,
    /// A field every event needs (e.g. the order reference) is empty in the post, and
    /// enrichment does not fill it: Connectif would refuse the event.
    EmptyRequiredField,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::NoCustomerEmail => "no_customer_email",
            SkipReason::InvalidCustomerEmail => "invalid_customer_email",
            SkipReason::NoCustomerName => "no_customer_name",
            SkipReason::ChildShipment => "child_shipment",
            SkipReason::ReturnShipment => "return_shipment",
            SkipReason::NoEndpoint => "no_endpoint",
            SkipReason::NoTrackingNumber => "no_tracking_number",
            SkipReason::EmptyRequiredField => "empty_required_field",
        }
    }
}
