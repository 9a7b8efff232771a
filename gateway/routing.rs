//! Glue between the built config and the pure routing policy, shared by the proxy and `scan` so a
//! dry run reports exactly the route the gateway would take.

use crate::config::{Config, Provider, ZoneUpstream};
use crate::geo::destination::Candidate;
use sovgate_core::api::Family;
use sovgate_core::policy::{decide, ExternalCandidate, Refusal, Route, RouteInput};
use sovgate_core::residency::Residency;
use sovgate_core::types::Class;

/// The external provider a client addressed: on the reverse listener, the first provider
/// configured for the API family the request speaks.
pub fn addressed_provider(config: &Config, family: Family) -> Option<usize> {
    config.providers.iter().position(|p| p.family == family)
}

pub fn choose_route(
    config: &Config,
    residency: Option<&Residency>,
    family: Family,
    class: Class,
    model: Option<&str>,
) -> Result<Route, Refusal> {
    choose_route_to(config, residency, (family, class, model), None)
}

/// [`choose_route`] for a request sent to a known provider (intercepted by host): that provider
/// is the external candidate, and only if it speaks the request's API.
pub fn choose_route_to(
    config: &Config,
    residency: Option<&Residency>,
    (family, class, model): (Family, Class, Option<&str>),
    addressed: Option<usize>,
) -> Result<Route, Refusal> {
    let provider = match addressed {
        Some(i) => config
            .providers
            .get(i)
            .filter(|p| p.family == family)
            .map(|_| i),
        None => addressed_provider(config, family),
    };
    let external = provider.map(|i| {
        let p = &config.providers[i];
        ExternalCandidate {
            provider: i,
            region: &p.region,
            // The best declared upstream: a per-zone one inside the residency, else the default.
            declared: Some(
                upstream_candidates(p, residency)
                    .first()
                    .map_or(&p.declared, |c| c.declared),
            ),
        }
    });
    let input = RouteInput {
        class,
        model,
        external,
        residency,
    };
    decide(&config.policy, &config.models, &input)
}

/// The upstreams of a provider a residency-bound request may use, best first: per-zone upstreams
/// keyed by one of the residency's own names, then other per-zone upstreams declared inside it,
/// then the default upstream if its declared region is inside. Without a residency, the default.
pub fn upstream_candidates<'a>(
    p: &'a Provider,
    residency: Option<&Residency>,
) -> Vec<Candidate<'a>> {
    let default = Candidate {
        upstream: &p.upstream,
        declared: &p.declared,
    };
    let Some(r) = residency else {
        return vec![default];
    };
    let named = |z: &ZoneUpstream| r.names().iter().any(|n| n.eq_ignore_ascii_case(&z.zone));
    let zone = |z: &'a ZoneUpstream| Candidate {
        upstream: &z.upstream,
        declared: &z.declared,
    };
    let inside = p.zone_upstreams.iter().filter(|z| r.covers(&z.declared));
    let mut out: Vec<Candidate<'a>> = inside.clone().filter(|z| named(z)).map(zone).collect();
    out.extend(inside.filter(|z| !named(z)).map(zone));
    if r.covers(&p.declared) {
        out.push(default);
    }
    out
}

/// A human-readable description of a route, for `scan` and the demo.
pub fn describe(config: &Config, route: &Route) -> serde_json::Value {
    match route {
        Route::Local { pool, model } => serde_json::json!({
            "kind": "local",
            "pool": config.pools.get(*pool).map(|p| p.name.as_str()),
            "model": model,
        }),
        Route::External { provider } => serde_json::json!({
            "kind": "external",
            "provider": config.providers.get(*provider).map(|p| p.name.as_str()),
            "upstream": config.providers.get(*provider).map(|p| p.upstream.url()),
        }),
    }
}
