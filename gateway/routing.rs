//! Glue between the built config and the pure routing policy, shared by the proxy and `scan` so a
//! dry run reports exactly the route the gateway would take.

use crate::config::Config;
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
    let external = provider.map(|i| ExternalCandidate {
        provider: i,
        region: &config.providers[i].region,
    });
    let input = RouteInput {
        class,
        model,
        external,
        residency,
    };
    decide(&config.policy, &config.models, &input)
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
