//! The routing policy: classification + tenant → where a request may go.
//!
//! This is the one place that decides whether anything leaves the company. It is a pure function
//! of its inputs so that `sovgate scan` reports exactly the route the proxy takes, and so that the
//! fail-closed cases (no pool, residency unmet, class denied) are unit-tested without sockets.
//!
//! The rule of thumb: a class the policy keeps local never reaches an external provider, whatever
//! else is true — there is no fallback from local to external, only the other way round.

use crate::geo::GeoRefusal;
use crate::glob::Glob;
use crate::residency::Residency;
use crate::types::Class;
use std::fmt;

/// Where a class of data may go (`[policy]` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Local pools only.
    Local,
    /// A local pool, or an external provider inside the tenant's residency.
    Residency,
    /// Nowhere: refused.
    Deny,
}

impl Placement {
    pub fn parse(s: &str) -> Option<Placement> {
        match s {
            "local" => Some(Placement::Local),
            "residency" => Some(Placement::Residency),
            "deny" => Some(Placement::Deny),
            _ => None,
        }
    }
}

/// The `[policy]` table, built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyTable {
    pub public: Placement,
    pub internal: Placement,
    pub confidential: Placement,
    pub privileged: Placement,
    /// Where both are allowed, go local even if the client addressed an external provider.
    pub prefer_local: bool,
}

impl Default for PolicyTable {
    fn default() -> Self {
        PolicyTable {
            public: Placement::Residency,
            internal: Placement::Residency,
            confidential: Placement::Local,
            privileged: Placement::Local,
            prefer_local: false,
        }
    }
}

impl PolicyTable {
    pub fn placement(&self, class: Class) -> Placement {
        match class {
            Class::Public => self.public,
            Class::Internal => self.internal,
            Class::Confidential => self.confidential,
            Class::Privileged => self.privileged,
        }
    }
}

/// One `[[models]]` entry: an external model name (glob) served by a local pool.
#[derive(Debug, Clone)]
pub struct ModelRoute {
    pub external: Glob,
    pub pool: usize,
    /// The model name the pool serves; `None` keeps the client's name.
    pub model: Option<String>,
}

/// The external provider the client addressed, if any is configured for its API.
#[derive(Debug, Clone, Copy)]
pub struct ExternalCandidate<'a> {
    pub provider: usize,
    /// The provider's declared region (ISO country code).
    pub region: &'a str,
    /// The declared location of the upstream that would be used, when it is a zone rather than
    /// `region` (a per-zone upstream such as `EU = "https://eu.api.openai.com"`).
    pub declared: Option<&'a Residency>,
}

/// Everything the decision depends on.
#[derive(Debug, Clone, Copy)]
pub struct RouteInput<'a> {
    pub class: Class,
    pub model: Option<&'a str>,
    pub external: Option<ExternalCandidate<'a>>,
    /// The tenant's residency; `None` means unconstrained.
    pub residency: Option<&'a Residency>,
}

/// The chosen destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Local { pool: usize, model: Option<String> },
    External { provider: usize },
}

/// Why no destination was allowed. Each maps to one HTTP status and a stable code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The policy denies this class outright.
    ClassDenied { class: Class },
    /// The class must stay local and no pool serves the requested model.
    NoLocalPool { class: Class, model: Option<String> },
    /// External is the only option and it is outside the tenant's residency.
    ResidencyUnmet { region: String, zones: Vec<String> },
    /// Nothing local serves the model and no external provider is configured for the API.
    NoDestination { model: Option<String> },
    /// Where the destination (or the client) actually is does not satisfy the residency.
    Geo(GeoRefusal),
}

impl Refusal {
    pub fn status(&self) -> u16 {
        match self {
            Refusal::ClassDenied { .. } => 403,
            Refusal::ResidencyUnmet { .. } | Refusal::Geo(_) => 451,
            Refusal::NoLocalPool { .. } | Refusal::NoDestination { .. } => 503,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Refusal::ClassDenied { .. } => "policy_denied",
            Refusal::NoLocalPool { .. } => "no_local_pool",
            Refusal::ResidencyUnmet { .. } => "residency_unmet",
            Refusal::NoDestination { .. } => "no_destination",
            Refusal::Geo(g) => g.code(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let model = |m: &Option<String>| m.clone().unwrap_or_else(|| "(none)".into());
        match self {
            Refusal::ClassDenied { class } => {
                write!(f, "requests classified {class} are denied by policy")
            }
            Refusal::NoLocalPool { class, model: m } => write!(
                f,
                "requests classified {class} must stay on local pools, and no local pool serves model {}",
                model(m)
            ),
            Refusal::ResidencyUnmet { region, zones } => write!(
                f,
                "the provider is in {region}, outside the tenant's residency ({}), and no local pool serves the model",
                zones.join(", ")
            ),
            Refusal::NoDestination { model: m } => write!(
                f,
                "no local pool serves model {} and no external provider is configured for this API",
                model(m)
            ),
            Refusal::Geo(g) => g.fmt(f),
        }
    }
}

/// Finds the local pool serving `model`: the first matching `[[models]]` entry.
pub fn local_route(models: &[ModelRoute], model: Option<&str>) -> Option<Route> {
    let name = model.unwrap_or("");
    models
        .iter()
        .find(|m| m.external.matches(name))
        .map(|m| Route::Local {
            pool: m.pool,
            model: m.model.clone(),
        })
}

/// Decides the destination. Pure: same inputs, same answer.
pub fn decide(
    policy: &PolicyTable,
    models: &[ModelRoute],
    input: &RouteInput<'_>,
) -> Result<Route, Refusal> {
    let local = local_route(models, input.model);
    match policy.placement(input.class) {
        Placement::Deny => Err(Refusal::ClassDenied { class: input.class }),
        Placement::Local => local.ok_or_else(|| Refusal::NoLocalPool {
            class: input.class,
            model: input.model.map(str::to_owned),
        }),
        Placement::Residency => {
            if policy.prefer_local {
                if let Some(route) = local.clone() {
                    return Ok(route);
                }
            }
            let Some(ext) = input.external else {
                return local.ok_or_else(|| Refusal::NoDestination {
                    model: input.model.map(str::to_owned),
                });
            };
            let inside = input.residency.is_none_or(|r| match ext.declared {
                Some(d) => r.covers(d),
                None => r.allows(ext.region),
            });
            if inside {
                return Ok(Route::External {
                    provider: ext.provider,
                });
            }
            local.ok_or_else(|| Refusal::ResidencyUnmet {
                region: ext.region.to_owned(),
                zones: input
                    .residency
                    .map(|r| r.names().to_vec())
                    .unwrap_or_default(),
            })
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn models() -> Vec<ModelRoute> {
        vec![ModelRoute {
            external: Glob::new("gpt-4o*"),
            pool: 0,
            model: Some("llama".into()),
        }]
    }

    fn input<'a>(
        class: Class,
        model: &'a str,
        region: &'a str,
        residency: Option<&'a Residency>,
    ) -> RouteInput<'a> {
        RouteInput {
            class,
            model: Some(model),
            external: Some(ExternalCandidate {
                provider: 3,
                region,
                declared: None,
            }),
            residency,
        }
    }

    #[test]
    fn privileged_goes_local_never_external() {
        let p = PolicyTable::default();
        let r = decide(
            &p,
            &models(),
            &input(Class::Privileged, "gpt-4o", "US", None),
        );
        assert_eq!(
            r,
            Ok(Route::Local {
                pool: 0,
                model: Some("llama".into())
            })
        );
        let r = decide(&p, &models(), &input(Class::Privileged, "o1", "US", None));
        assert_eq!(r.as_ref().map_err(Refusal::status), Err(503));
        assert_eq!(r.map_err(|e| e.code()), Err("no_local_pool"));
    }

    #[test]
    fn public_goes_where_addressed_unless_prefer_local() {
        let mut p = PolicyTable::default();
        let i = input(Class::Public, "gpt-4o", "US", None);
        assert_eq!(
            decide(&p, &models(), &i),
            Ok(Route::External { provider: 3 })
        );
        p.prefer_local = true;
        assert!(matches!(decide(&p, &models(), &i), Ok(Route::Local { .. })));
    }

    #[test]
    fn residency_unmet_goes_local_or_451() {
        let p = PolicyTable::default();
        let eu = Residency::resolve(&["EU".into()], &[]).unwrap();
        let r = decide(
            &p,
            &models(),
            &input(Class::Public, "gpt-4o", "US", Some(&eu)),
        );
        assert!(matches!(r, Ok(Route::Local { .. })));
        let r = decide(&p, &models(), &input(Class::Public, "o1", "US", Some(&eu)));
        assert_eq!(r.map_err(|e| e.status()), Err(451));
        let r = decide(&p, &models(), &input(Class::Public, "o1", "DE", Some(&eu)));
        assert_eq!(r, Ok(Route::External { provider: 3 }));
    }

    #[test]
    fn a_declared_zone_upstream_inside_the_residency_is_external() {
        let p = PolicyTable::default();
        let eu = Residency::resolve(&["EU".into()], &[]).unwrap();
        let de = Residency::resolve(&["DE".into()], &[]).unwrap();
        let eea = Residency::resolve(&["EEA".into()], &[]).unwrap();
        let mut i = input(Class::Public, "o1", "US", Some(&eu));
        i.external = Some(ExternalCandidate {
            provider: 3,
            region: "US",
            declared: Some(&de),
        });
        assert_eq!(
            decide(&p, &models(), &i),
            Ok(Route::External { provider: 3 })
        );
        // EEA reaches beyond the EU (Norway): not inside.
        i.external = Some(ExternalCandidate {
            provider: 3,
            region: "US",
            declared: Some(&eea),
        });
        assert_eq!(decide(&p, &models(), &i).map_err(|e| e.status()), Err(451));
        let g = Refusal::Geo(crate::geo::GeoRefusal::Unresolved {
            host: "eu.example".into(),
            error: "no such host".into(),
        });
        assert_eq!((g.status(), g.code()), (451, "residency_unresolved"));
        assert!(g.to_string().contains("eu.example did not resolve"));
    }

    #[test]
    fn deny_is_403() {
        let p = PolicyTable {
            privileged: Placement::Deny,
            ..PolicyTable::default()
        };
        let r = decide(
            &p,
            &models(),
            &input(Class::Privileged, "gpt-4o", "US", None),
        );
        assert_eq!(
            r.map_err(|e| (e.status(), e.code())),
            Err((403, "policy_denied"))
        );
    }

    #[test]
    fn no_external_configured_uses_local_or_503() {
        let p = PolicyTable::default();
        let mut i = input(Class::Public, "o1", "US", None);
        i.external = None;
        assert_eq!(
            decide(&p, &models(), &i).map_err(|e| e.code()),
            Err("no_destination")
        );
    }
}
