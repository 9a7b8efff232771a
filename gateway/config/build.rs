//! File types → runtime types, checking everything and reporting every error at once.

use super::error::{Collector, ConfigErrors};
use super::file::{ConfigFile, PoolFile, ProviderFile, TenantFile};
use super::model::*;
use sha2::{Digest, Sha256};
use sovgate_core::api::Family;
use sovgate_core::glob::Glob;
use sovgate_core::policy::{ModelRoute, Placement, PolicyTable};
use sovgate_core::residency::Residency;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// Parses and builds a config. `name` is shown in errors; relative paths resolve against `base`.
pub fn build(name: &str, text: &str, base: &Path) -> Result<Config, ConfigErrors> {
    let mut c = Collector::new(name, text);
    let file: ConfigFile = match toml::from_str(text) {
        Ok(f) => f,
        Err(e) => {
            let at = e.span().map_or(0, |s| s.start);
            c.at(at, e.message().trim().to_owned(), Some(
                "see the config reference in the README; every key of sovgate.toml is listed there",
            ));
            c.finish()?;
            return Err(ConfigErrors(Vec::new()));
        }
    };
    let path = |s: &str| -> PathBuf {
        let p = Path::new(s);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };

    let mut listen = Listen::default();
    for (slot, value) in [
        (&mut listen.reverse, &file.listen.reverse),
        (&mut listen.forward, &file.listen.forward),
        (&mut listen.admin, &file.listen.admin),
        (&mut listen.transparent, &file.listen.transparent),
    ] {
        if let Some(v) = value {
            match v.get_ref().parse() {
                Ok(a) => *slot = Some(a),
                Err(_) => c.at(
                    v.span().start,
                    format!("`{}` is not an address", v.get_ref()),
                    Some("write it as IP:PORT, e.g. \"127.0.0.1:8080\""),
                ),
            }
        }
    }

    let mut limits = Limits::default();
    if let Some(v) = &file.limits.max_body {
        match parse_size(v.get_ref()) {
            Some(n) if n > 0 => limits.max_body = n,
            _ => c.at(
                v.span().start,
                "max_body must be a positive size",
                Some("a number of bytes, or a string like \"32MiB\""),
            ),
        }
    }
    if let Some(v) = &file.limits.max_decompression_ratio {
        limits.max_decompression_ratio = (*v.get_ref()).max(1);
    }
    if let Some(v) = &file.limits.upstream_timeout_ms {
        limits.upstream_timeout = Duration::from_millis(*v.get_ref());
    }
    if let Some(v) = &file.limits.connect_timeout_ms {
        limits.connect_timeout = Duration::from_millis(*v.get_ref());
    }
    if let Some(v) = &file.limits.max_headers {
        limits.max_headers = *v.get_ref() as usize;
    }

    let rules = RulesConfig {
        dirs: file
            .rules
            .dirs
            .as_ref()
            .map(|d| d.get_ref().iter().map(|s| path(s)).collect())
            .unwrap_or_default(),
        embedded: file.rules.embedded.unwrap_or(file.rules.dirs.is_none()),
    };

    let tls = TlsConfig {
        ca_cert: file.tls.ca_cert.as_ref().map(|s| path(s.get_ref())),
        ca_key: file.tls.ca_key.as_ref().map(|s| path(s.get_ref())),
        upstream_roots: file.tls.upstream_roots.as_ref().map(|s| path(s.get_ref())),
        server_cert: file.tls.server_cert.as_ref().map(|s| path(s.get_ref())),
        server_key: file.tls.server_key.as_ref().map(|s| path(s.get_ref())),
        client_ca: file.tls.client_ca.as_ref().map(|s| path(s.get_ref())),
    };
    let egress = super::egress::check(&mut c, &file);
    if file.tls.server_cert.is_some() != file.tls.server_key.is_some() {
        let at = file
            .tls
            .server_cert
            .as_ref()
            .or(file.tls.server_key.as_ref())
            .map_or(0, |s| s.span().start);
        c.at(
            at,
            "server_cert and server_key go together",
            Some("set both to serve TLS on the reverse listener, or neither"),
        );
    }

    let geo = super::geo::geo(&mut c, &file.geo, name, text, &path);

    let mut policy = PolicyTable::default();
    for (slot, value) in [
        (&mut policy.privileged, &file.policy.privileged),
        (&mut policy.confidential, &file.policy.confidential),
        (&mut policy.internal, &file.policy.internal),
        (&mut policy.public, &file.policy.public),
    ] {
        if let Some(v) = value {
            match Placement::parse(v.get_ref()) {
                Some(p) => *slot = p,
                None => c.at(
                    v.span().start,
                    format!("unknown placement `{}`", v.get_ref()),
                    Some("use \"local\", \"residency\" or \"deny\""),
                ),
            }
        }
    }
    if let Some(v) = &file.policy.prefer {
        match v.get_ref().as_str() {
            "local" => policy.prefer_local = true,
            "client" => policy.prefer_local = false,
            other => c.at(
                v.span().start,
                format!("unknown preference `{other}`"),
                Some("use \"local\" or \"client\""),
            ),
        }
    }

    super::geo::check_zones(&mut c, &file.zones);
    let zones: Vec<(String, Vec<String>)> = file
        .zones
        .iter()
        .map(|(k, v)| (k.clone(), v.get_ref().clone()))
        .collect();
    let tenants = file
        .tenants
        .iter()
        .filter_map(|t| tenant(&mut c, t, &zones, &path))
        .collect::<Vec<_>>();
    let providers = file
        .providers
        .iter()
        .filter_map(|p| provider(&mut c, p, &zones, &path))
        .collect::<Vec<_>>();
    let pools = file
        .pools
        .iter()
        .filter_map(|p| {
            let declared = match &p.region {
                Some(r) => super::geo::declared(&mut c, Some(r), r.get_ref(), &zones),
                None => Residency::default(),
            };
            pool(&mut c, p).map(|pool| Pool { declared, ..pool })
        })
        .collect::<Vec<_>>();

    let mut models = Vec::new();
    for m in &file.models {
        match pools.iter().position(|p| p.name == *m.pool.get_ref()) {
            Some(i) => models.push(ModelRoute {
                external: Glob::new(m.external.get_ref()),
                pool: i,
                model: m.model.clone(),
            }),
            None => c.at(
                m.pool.span().start,
                format!("no pool named `{}`", m.pool.get_ref()),
                Some("declare it in a [[pools]] table, or fix the name"),
            ),
        }
    }
    check_unique(&mut c, file.pools.iter().map(|p| &p.name), "pool");
    check_unique(&mut c, file.providers.iter().map(|p| &p.name), "provider");
    check_unique(&mut c, file.tenants.iter().map(|p| &p.name), "tenant");
    if tenants.iter().filter(|t| t.anonymous).count() > 1 {
        c.at(
            0,
            "more than one tenant without keys_file",
            Some("only one anonymous tenant can exist; give the others a keys_file"),
        );
    }

    let audit = AuditConfig {
        path: if file.audit.disabled {
            None
        } else {
            Some(path(
                file.audit
                    .path
                    .as_ref()
                    .map_or("audit/audit.jsonl", |p| p.get_ref()),
            ))
        },
        sync: file.audit.sync,
    };
    let inspect = super::inspect::build(&file.inspect, &mut c);
    c.finish()?;
    Ok(Config {
        source: name.to_owned(),
        listen,
        limits,
        rules,
        inspect,
        tls,
        geo,
        policy,
        tenants,
        providers,
        pools,
        models,
        audit,
        egress,
        zones,
    })
}

fn check_unique<'a>(
    c: &mut Collector<'_>,
    names: impl Iterator<Item = &'a Spanned<String>>,
    what: &str,
) {
    let mut seen = HashSet::new();
    for n in names {
        if !seen.insert(n.get_ref().clone()) {
            c.at(
                n.span().start,
                format!("duplicate {what} name `{}`", n.get_ref()),
                None,
            );
        }
    }
}

fn tenant(
    c: &mut Collector<'_>,
    t: &TenantFile,
    zones: &[(String, Vec<String>)],
    path: &dyn Fn(&str) -> PathBuf,
) -> Option<Tenant> {
    let mut key_hashes = HashSet::new();
    if let Some(kf) = &t.keys_file {
        match std::fs::read_to_string(path(kf.get_ref())) {
            Ok(text) => {
                for (i, line) in text.lines().enumerate() {
                    let line = line.split('#').next().unwrap_or("").trim();
                    if line.is_empty() {
                        continue;
                    }
                    match parse_key_hash(line) {
                        Some(h) => {
                            key_hashes.insert(h);
                        }
                        None => c.at(kf.span().start, format!("{}:{}: not a key hash", kf.get_ref(), i + 1), Some("each line is `sha256:<64 hex digits>`; `sovgate keys hash KEY` prints one")),
                    }
                }
            }
            Err(e) => c.at(
                kf.span().start,
                format!("cannot read keys_file `{}`: {e}", kf.get_ref()),
                None,
            ),
        }
    }
    let names: Vec<String> = t.residency.iter().map(|s| s.get_ref().clone()).collect();
    let residency = if names.is_empty() {
        None
    } else {
        match Residency::resolve(&names, zones) {
            Ok(r) => Some(r),
            Err(bad) => {
                let at = t
                    .residency
                    .iter()
                    .find(|s| *s.get_ref() == bad)
                    .map_or(0, |s| s.span().start);
                c.at(at, format!("unknown zone or country `{bad}`"), Some("use a built-in zone (EU, EEA, EFTA, UK, US, ...), an ISO country code, or define it under [zones]"));
                None
            }
        }
    };
    let from_client = t.residency_from_client.as_ref();
    if from_client.is_some_and(|f| *f.get_ref()) && t.residency.is_empty() {
        c.at(
            from_client.map_or(0, |f| f.span().start),
            "residency_from_client picks among the tenant's residency zones, and it lists none",
            Some("list the zones clients may be in, e.g. residency = [\"EU\", \"UK\", \"US\"]"),
        );
    }
    Some(Tenant {
        name: t.name.get_ref().clone(),
        residency_from_client: from_client.is_some_and(|f| *f.get_ref()),
        anonymous: t.keys_file.is_none(),
        key_hashes,
        residency,
        allow_anonymous: t.allow_anonymous,
        client_names: t
            .client_names
            .iter()
            .map(|n| n.get_ref().to_ascii_lowercase())
            .collect(),
    })
}

/// Hash of a Sovgate key as stored in keys files.
pub fn hash_key(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

fn parse_key_hash(line: &str) -> Option<[u8; 32]> {
    let hex_part = line.strip_prefix("sha256:")?;
    let bytes = hex::decode(hex_part).ok()?;
    bytes.try_into().ok()
}

fn provider(
    c: &mut Collector<'_>,
    p: &ProviderFile,
    zones: &[(String, Vec<String>)],
    path: &dyn Fn(&str) -> PathBuf,
) -> Option<Provider> {
    let family = match Family::parse(p.api.get_ref()) {
        Some(f) => f,
        None => {
            c.at(
                p.api.span().start,
                format!("unknown api `{}`", p.api.get_ref()),
                Some("use openai, anthropic, azure_openai or gemini"),
            );
            return None;
        }
    };
    let hosts: Vec<String> = p
        .hosts
        .iter()
        .map(|h| {
            h.get_ref()
                .to_ascii_lowercase()
                .trim_end_matches('.')
                .to_owned()
        })
        .collect();
    // A host pattern (`*.openai.azure.com`) names no single upstream: the first plain host does.
    let plain_host = hosts.iter().find(|h| !h.contains('*'));
    let upstream_text = match (&p.upstream, plain_host.or(hosts.first())) {
        (Some(u), _) => (u.get_ref().clone(), u.span().start),
        (None, Some(h)) if h.contains('*') => (super::egress::PATTERN_UPSTREAM.to_owned(), 0),
        (None, Some(h)) => (format!("https://{h}"), p.name.span().start),
        (None, None) => {
            c.at(
                p.name.span().start,
                format!(
                    "provider `{}` has neither upstream nor hosts",
                    p.name.get_ref()
                ),
                Some("add `upstream = \"https://...\"`"),
            );
            return None;
        }
    };
    let upstream = match parse_upstream(&upstream_text.0) {
        Some(u) => u,
        None => {
            c.at(
                upstream_text.1,
                format!("`{}` is not an http(s) URL", upstream_text.0),
                None,
            );
            return None;
        }
    };
    let key = match (&p.key_file, &p.key_env) {
        (Some(f), _) => match std::fs::read_to_string(path(f.get_ref())) {
            Ok(k) => Some(Secret(k.trim().to_owned())),
            Err(e) => {
                c.at(
                    f.span().start,
                    format!("cannot read key_file `{}`: {e}", f.get_ref()),
                    None,
                );
                None
            }
        },
        (None, Some(v)) => std::env::var(v.get_ref()).ok().map(Secret),
        (None, None) => None,
    };
    let region = p
        .region
        .as_ref()
        .map_or("US".to_owned(), |r| r.get_ref().to_ascii_uppercase());
    let declared = super::geo::declared(c, p.region.as_ref(), &region, zones);
    let mut ports = Vec::new();
    for port in &p.ports {
        match *port.get_ref() {
            0 => c.at(port.span().start, "port 0 is not a port".to_owned(), None),
            n => ports.push(n),
        }
    }
    if p.ports.is_empty() {
        ports.push(443);
    }
    Some(Provider {
        name: p.name.get_ref().clone(),
        family,
        hosts,
        upstream,
        region,
        declared,
        zone_upstreams: super::geo::zone_upstreams(c, &p.upstreams, zones),
        key,
        follow_host: p.upstream.is_none(),
        ports,
    })
}

fn pool(c: &mut Collector<'_>, p: &PoolFile) -> Option<Pool> {
    let family = Family::parse(p.api.get_ref()).or_else(|| {
        c.at(
            p.api.span().start,
            format!("unknown api `{}`", p.api.get_ref()),
            Some("use openai or anthropic"),
        );
        None
    })?;
    let balance = match &p.balance {
        None => Balance::LeastOutstanding,
        Some(b) => Balance::parse(b.get_ref()).or_else(|| {
            c.at(
                b.span().start,
                format!("unknown balance strategy `{}`", b.get_ref()),
                Some("use round_robin, least_outstanding, p2c, queue_aware or prefix_affinity"),
            );
            None
        })?,
    };
    let mut endpoints = Vec::new();
    for e in p.endpoints.get_ref() {
        match parse_upstream(e) {
            Some(u) => endpoints.push(u),
            None => c.at(
                p.endpoints.span().start,
                format!("endpoint `{e}` is not an http(s) URL"),
                None,
            ),
        }
    }
    if endpoints.is_empty() {
        c.at(
            p.endpoints.span().start,
            format!("pool `{}` has no endpoints", p.name.get_ref()),
            None,
        );
        return None;
    }
    Some(Pool {
        name: p.name.get_ref().clone(),
        family,
        region: p.region.as_ref().map(|r| r.get_ref().to_ascii_uppercase()),
        declared: Residency::default(),
        balance,
        endpoints,
        models: p.models.clone(),
        tuning: tuning(c, p),
    })
}

fn tuning(c: &mut Collector<'_>, p: &PoolFile) -> PoolTuning {
    let mut t = PoolTuning::default();
    if let Some(path) = &p.health_path {
        if path.get_ref().starts_with('/') {
            t.health_path = Some(path.get_ref().clone());
        } else {
            c.at(path.span().start, "health_path must start with `/`", None);
        }
    }
    if let Some(ms) = &p.health_interval_ms {
        t.health_interval = Duration::from_millis(*ms.get_ref());
    }
    for (value, slot, key) in [
        (&p.rise, &mut t.rise, "rise"),
        (&p.fall, &mut t.fall, "fall"),
    ] {
        if let Some(v) = value {
            if *v.get_ref() == 0 {
                c.at(v.span().start, format!("{key} must be at least 1"), None);
            } else {
                *slot = *v.get_ref();
            }
        }
    }
    if let Some(f) = &p.max_load_factor {
        if f.get_ref().is_finite() && *f.get_ref() >= 1.0 {
            t.max_load_factor = *f.get_ref();
        } else {
            c.at(
                f.span().start,
                "max_load_factor must be a number of at least 1.0",
                Some("1.25 lets an endpoint take a quarter more than its share"),
            );
        }
    }
    backpressure(c, p, &mut t);
    t
}

/// `max_inflight`, `queue_size`, `queue_timeout_ms`, `retry_budget_ms` (extensions).
fn backpressure(c: &mut Collector<'_>, p: &PoolFile, t: &mut PoolTuning) {
    if let Some(n) = &p.max_inflight {
        if *n.get_ref() == 0 {
            c.at(
                n.span().start,
                "max_inflight must be at least 1",
                Some("omit it for no per-endpoint cap"),
            );
        } else {
            t.max_inflight = Some(*n.get_ref());
        }
    }
    if let Some(n) = &p.queue_size {
        t.queue_size = *n.get_ref();
    }
    if let Some(ms) = &p.queue_timeout_ms {
        t.queue_timeout = Duration::from_millis(*ms.get_ref());
    }
    if let Some(ms) = &p.retry_budget_ms {
        t.retry_budget = Duration::from_millis(*ms.get_ref());
    }
}

/// Splits `http(s)://host[:port][/base]`.
pub fn parse_upstream(s: &str) -> Option<Upstream> {
    let (https, rest) = if let Some(r) = s.strip_prefix("https://") {
        (true, r)
    } else {
        (false, s.strip_prefix("http://")?)
    };
    let (authority, base) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
        None => (rest, ""),
    };
    let uri: http::uri::Authority = authority.parse().ok()?;
    let host = uri
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    if host.is_empty() {
        return None;
    }
    Some(Upstream {
        https,
        port: uri.port_u16().unwrap_or(if https { 443 } else { 80 }),
        host,
        base_path: base.to_owned(),
    })
}

/// `1048576`, `"32MiB"`, `"64 KiB"`, `"1MB"` → bytes.
pub(super) fn parse_size(v: &toml::Value) -> Option<usize> {
    match v {
        toml::Value::Integer(n) => usize::try_from(*n).ok(),
        toml::Value::String(s) => {
            let s = s.trim();
            let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            let (num, unit) = s.split_at(split);
            let n: usize = num.parse().ok()?;
            let mult = match unit.trim().to_ascii_lowercase().as_str() {
                "" | "b" => 1,
                "k" | "kb" | "kib" => 1024,
                "m" | "mb" | "mib" => 1024 * 1024,
                "g" | "gb" | "gib" => 1024 * 1024 * 1024,
                _ => return None,
            };
            n.checked_mul(mult)
        }
        _ => None,
    }
}
