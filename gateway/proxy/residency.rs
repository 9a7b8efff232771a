//! The residency step of the pipeline: after the policy chose a destination from what is
//! declared, check where it actually is, and pin the address the request will be sent to.
//!
//! For an external provider the per-zone upstreams inside the residency are tried first, then the
//! default upstream; when none has an address inside, the request goes to a local pool if the
//! policy allows one for the model (as it does when the declared region is outside), else it is
//! refused with 451 and the reason. A local pool's endpoints are checked the same way, and only
//! the endpoints inside stay in rotation for the request; there is never a fallback from local to
//! external.

use super::state::State;
use crate::config::Config;
use crate::error::GatewayError;
use crate::geo::decision::{Decision, ALLOWED};
use crate::geo::destination::{pick, Candidate, Pinned};
use sovgate_core::geo::GeoRefusal;
use sovgate_core::policy::{local_route, Refusal, Route};
use sovgate_core::residency::Residency;
use std::net::IpAddr;

/// Where a checked request may connect.
#[derive(Debug, Clone)]
pub enum Pin {
    External(Pinned),
    /// Per pool endpoint: the address to dial, or `None` when the endpoint is outside.
    Pool(Vec<Option<IpAddr>>),
}

impl Pin {
    pub fn pool_addrs(&self) -> Option<&[Option<IpAddr>]> {
        match self {
            Pin::Pool(p) => Some(p),
            Pin::External(_) => None,
        }
    }
}

fn refused(r: GeoRefusal) -> GatewayError {
    GatewayError::refusal(&Refusal::Geo(r))
}

/// Checks `route` against where its destination is. Without a residency there is nothing to
/// check and the route stands as chosen.
pub async fn verify(
    state: &State,
    config: &Config,
    route: Route,
    residency: Option<&Residency>,
    model: Option<&str>,
    decision: &mut Option<Decision>,
) -> Result<(Route, Option<Pin>), GatewayError> {
    let (Some(residency), Some(d)) = (residency, decision.as_mut()) else {
        return Ok((route, None));
    };
    let provider = match route {
        Route::Local { pool, .. } => {
            let pins = verify_pool(state, pool, residency, d).await?;
            return Ok((route, Some(pins)));
        }
        Route::External { provider } => provider,
    };
    let p = config.providers.get(provider).ok_or_else(|| {
        GatewayError::internal("bad_provider", "route points at a missing provider")
    })?;
    let candidates = crate::routing::upstream_candidates(p, Some(residency));
    match pick(&state.geo, residency, &candidates).await {
        Ok(pinned) => {
            d.destination_address = Some(pinned.addr.to_string());
            d.destination_country = Some(pinned.country.to_string());
            d.conclude(&state.metrics, ALLOWED, None);
            Ok((route, Some(Pin::External(pinned))))
        }
        Err(outside) => match local_route(&config.models, model) {
            Some(local @ Route::Local { pool, .. }) => {
                tracing::info!(
                    "external destination outside the residency ({outside}); going local"
                );
                let pins = verify_pool(state, pool, residency, d).await?;
                Ok((local, Some(pins)))
            }
            _ => Err(refused(outside)),
        },
    }
}

async fn verify_pool(
    state: &State,
    pool: usize,
    residency: &Residency,
    d: &mut Decision,
) -> Result<Pin, GatewayError> {
    let ps = state
        .pools
        .get(pool)
        .ok_or_else(|| GatewayError::internal("bad_pool", "model map points at a missing pool"))?;
    let declared = &ps.config.declared;
    let mut pins = Vec::with_capacity(ps.endpoints.len());
    let mut inside = Vec::new();
    let mut tried = Vec::new();
    for e in &ps.endpoints {
        let c = Candidate {
            upstream: &e.upstream,
            declared,
        };
        match pick(&state.geo, residency, &[c]).await {
            Ok(p) => {
                inside.push(p.clone());
                pins.push(Some(p.addr));
            }
            Err(why) => {
                tried.push(why.to_string());
                pins.push(None);
            }
        }
    }
    if inside.is_empty() {
        return Err(refused(GeoRefusal::NoAddressInside {
            host: format!("local pool `{}`", ps.config.name),
            zones: residency.names().to_vec(),
            tried,
        }));
    }
    let join = |f: &dyn Fn(&Pinned) -> String| inside.iter().map(f).collect::<Vec<_>>().join(",");
    d.destination_address = Some(join(&|p| p.addr.to_string()));
    let mut countries: Vec<String> = inside.iter().map(|p| p.country.to_string()).collect();
    countries.dedup();
    d.destination_country = Some(countries.join(","));
    d.conclude(&state.metrics, ALLOWED, None);
    Ok(Pin::Pool(pins))
}
