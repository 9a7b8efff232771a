//! The residency decision of one request, as audited and counted.
//!
//! Written into the audit record under `residency` (so compliance can show where every
//! residency-bound request went and why), and counted in
//! `sovgate_residency_decisions_total{zone, outcome}`.

use super::{client_address, Geo};
use crate::config::Tenant;
use crate::metrics::Metrics;
use http::HeaderMap;
use serde::Serialize;
use sovgate_core::geo::GeoRefusal;
use sovgate_core::residency::Residency;
use std::borrow::Cow;
use std::net::IpAddr;

pub const METRIC: &str = "sovgate_residency_decisions_total";

/// Outcome of a decision that let the request through.
pub const ALLOWED: &str = "allowed";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// The client address the decision used (after trusted-proxy headers).
    pub client: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_country: Option<String>,
    /// The residency in force for this request (zone names and codes as configured).
    pub zone: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_country: Option<String>,
    /// `allowed`, or the refusal code; empty until decided.
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Decision {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    fn zone_label(&self) -> String {
        if self.zone.is_empty() {
            "-".into()
        } else {
            self.zone.join("+")
        }
    }

    /// Settles the outcome once and counts it; later calls change nothing.
    pub fn conclude(&mut self, metrics: &Metrics, outcome: &str, reason: Option<String>) {
        if !self.outcome.is_empty() {
            return;
        }
        self.outcome = outcome.to_owned();
        self.reason = reason;
        metrics.inc(
            METRIC,
            &[("zone", &self.zone_label()), ("outcome", &self.outcome)],
        );
    }
}

/// The residency in force for a request: the tenant's, narrowed to the zones holding the client's
/// country when the tenant has `residency_from_client`. `None` for an unconstrained tenant (no
/// decision is made or recorded). Starts `decision` with the client side.
pub fn request_residency<'a>(
    geo: &Geo,
    tenant: Option<&'a Tenant>,
    remote: IpAddr,
    headers: &HeaderMap,
    decision: &mut Option<Decision>,
) -> Result<Option<Cow<'a, Residency>>, GeoRefusal> {
    let Some(t) = tenant else { return Ok(None) };
    let Some(residency) = t.residency.as_ref() else {
        return Ok(None);
    };
    let d = decision.get_or_insert_with(Decision::default);
    d.zone = residency.names().to_vec();
    let client = client_address(remote, headers, geo.trusted_proxies());
    let located = match &client {
        Ok(ip) => {
            d.client = ip.to_string();
            geo.locate(*ip)
        }
        Err(e) => {
            d.client = format!("{remote} (forwarded: {e})");
            Err(sovgate_core::geo::Unlocated::LookupFailed(e.clone()))
        }
    };
    if let Ok(c) = &located {
        d.client_country = Some(c.to_string());
    }
    if !t.residency_from_client {
        return Ok(Some(Cow::Borrowed(residency)));
    }
    let country = located.map_err(|why| GeoRefusal::ClientUnlocated {
        client: d.client.clone(),
        why,
    })?;
    match residency.narrow(country) {
        Some(r) => {
            d.zone = r.names().to_vec();
            Ok(Some(Cow::Owned(r)))
        }
        None => Err(GeoRefusal::ClientOutside {
            client: d.client.clone(),
            country,
            zones: residency.names().to_vec(),
        }),
    }
}
