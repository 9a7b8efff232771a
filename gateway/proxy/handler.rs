//! One request through the pipeline: identify, authenticate, read, inspect, route, transform,
//! audit, forward, relay. Each step either hands the next one what it decided or returns a typed
//! error; [`handle`] turns errors into responses in one place.

use super::auth::authenticate;
use super::body::{decode, read_limited};
use super::relay::{full, Completion, ProxyBody, Staged, Tracked};
use super::state::State;
use super::upstream::{build_request, provider_credential, strip_key_param, Outgoing};
use super::{forward, ConnInfo};
use crate::audit::{AuditDestination, AuditEvent, AuditFinding, AuditRecord};
use crate::error::GatewayError;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use sovgate_core::api::{identify, Endpoint, Family, Op};
use sovgate_core::inspect::{inspect_with, InspectError, Report};
use sovgate_core::output::OutputRules;
use sovgate_core::policy::Route;
use sovgate_core::respond::{ResponsePlan, Translation};
use sovgate_core::rules::RuleSet;
use sovgate_core::transform::{set_top_level_string, transform_with};
use sovgate_core::translate::{anthropic_to_openai_request, openai_to_anthropic_request};
use sovgate_core::types::{DestinationKind, Direction};
use sovgate_core::vault::Vault;
use std::sync::Arc;
use std::time::Instant;

/// Per-request facts gathered along the way, for the audit record and metrics.
pub struct Ctx {
    pub id: String,
    pub started: Instant,
    pub conn: ConnInfo,
    pub family: Family,
    pub api: String,
    pub tenant: String,
    pub model: Option<String>,
    pub findings: Vec<AuditFinding>,
    pub class: sovgate_core::types::Class,
    pub bytes_in: u64,
    /// The residency decision, for tenants with a residency.
    pub geo: Option<crate::geo::decision::Decision>,
}

pub async fn handle(
    state: Arc<State>,
    conn: ConnInfo,
    req: Request<Incoming>,
) -> Response<ProxyBody> {
    let mut ctx = Ctx {
        id: super::request_id(),
        started: Instant::now(),
        conn,
        family: Family::OpenAi,
        api: "unknown".into(),
        tenant: "-".into(),
        model: None,
        findings: Vec::new(),
        class: sovgate_core::types::Class::Public,
        bytes_in: 0,
        geo: None,
    };
    match pipeline(&state, &mut ctx, req).await {
        Ok(resp) => resp,
        Err(e) => {
            if let Some(d) = ctx.geo.as_mut() {
                d.conclude(&state.metrics, e.code(), Some(e.message().to_owned()));
            }
            refuse(&state, &ctx, &e)
        }
    }
}

/// A refusal: audited, counted, and shaped like the client's provider's own errors.
fn refuse(state: &State, ctx: &Ctx, e: &GatewayError) -> Response<ProxyBody> {
    let mut rec = base_record(ctx);
    rec.action = "refuse".into();
    rec.status = Some(e.status().as_u16());
    rec.reason = Some(format!("{}: {}", e.code(), e.message()));
    if let Err(err) = state.audit.append(&rec) {
        tracing::error!(request_id = %ctx.id, "audit record for a refusal failed: {err}");
    }
    let status = e.status().as_u16().to_string();
    state.metrics.inc(
        "sovgate_requests_total",
        &[
            ("api", &ctx.api),
            ("class", ctx.class.as_str()),
            ("destination", "none"),
            ("status", &status),
            ("reason", e.code()),
        ],
    );
    tracing::info!(request_id = %ctx.id, api = %ctx.api, "refused: {e}");
    let (parts, body) = e.to_response(ctx.family).into_parts();
    let mut resp = Response::from_parts(parts, full(body));
    if let Ok(v) = http::HeaderValue::from_str(&ctx.id) {
        resp.headers_mut().insert("x-sovgate-request-id", v);
    }
    resp
}

pub fn base_record(ctx: &Ctx) -> AuditRecord {
    let mut rec = AuditRecord::new(AuditEvent::Decision, ctx.id.clone());
    rec.tenant = ctx.tenant.clone();
    rec.client = ctx.conn.remote.to_string();
    rec.listener = ctx.conn.listener.to_owned();
    rec.api = ctx.api.clone();
    rec.model = ctx.model.clone();
    rec.findings = ctx.findings.clone();
    rec.classification = ctx.class;
    rec.bytes_in = Some(ctx.bytes_in);
    if let Some(d) = &ctx.geo {
        rec.extra.insert("residency".into(), d.to_json());
    }
    rec
}

async fn pipeline(
    state: &Arc<State>,
    ctx: &mut Ctx,
    req: Request<Incoming>,
) -> Result<Response<ProxyBody>, GatewayError> {
    if let Some(r) = &ctx.conn.framing {
        return Err(GatewayError::framing(r));
    }
    let (mut parts, body) = req.into_parts();
    // Intercepted (forward, transparent): the addressed host names the provider and its API.
    let target = ctx.conn.intercepted.clone();
    if let Some(t) = &target {
        ctx.family = t.family;
        t.admit()?;
    }
    let hint = target.as_ref().map(|t| t.family);
    let ep = identify(parts.method.as_str(), parts.uri.path(), hint)
        .map_err(|u| GatewayError::not_found(u.to_string()))?;
    ctx.family = ep.family;
    ctx.api = ep.label();
    let config = Arc::clone(&state.config);
    let tenant = match super::auth::proven(&config, ctx.conn.tenant) {
        Some(t) => t,
        None => authenticate(&config, &parts.headers, ctx.conn.local)?,
    };
    ctx.tenant = tenant.name().to_owned();
    if ep.op == Op::Models {
        return Ok(super::models::list(&config, ep.family));
    }

    let limits = &config.limits;
    let raw = read_limited(body, limits.max_body).await?;
    ctx.bytes_in = raw.len() as u64;
    let encoding = parts
        .headers
        .get(http::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok());
    let decoded = decode(
        encoding,
        raw,
        limits.max_body,
        limits.max_decompression_ratio,
    )?;

    let rules = state.rules.load_full();
    let mut report = inspect_with(&decoded, &rules, Direction::Request, &config.inspect).map_err(
        |e| match e {
            InspectError::Json(j) => GatewayError::bad_request(
                "invalid_json",
                format!("the request body is not acceptable JSON: {j}"),
            ),
            InspectError::Limit { rule } => GatewayError::blocked(&rules.rule(rule).id),
        },
    )?;
    // The path, query and headers are channels too: their findings classify and block as the
    // body's do.
    let head = super::channels::inspect(&parts, ep.family, &rules);
    head.merge_into(&mut report);
    record_findings(ctx, &rules, &report);
    if let Some(rule) = report.block {
        return Err(GatewayError::blocked(&rules.rule(rule).id));
    }
    ctx.model = report.model.clone().or_else(|| ep.path_model.clone());

    let residency = crate::geo::decision::request_residency(
        &state.geo,
        tenant.tenant,
        ctx.conn.remote.ip(),
        &parts.headers,
        &mut ctx.geo,
    )
    .map_err(|r| GatewayError::refusal(&sovgate_core::policy::Refusal::Geo(r)))?;
    let residency = residency.as_deref();
    let addressed = target.as_ref().and_then(|t| t.provider);
    let route = choose_route(
        &config,
        residency,
        &ep,
        &report,
        ctx.model.as_deref(),
        addressed,
    )?;
    let (route, pin) = super::residency::verify(
        state,
        &config,
        route,
        residency,
        ctx.model.as_deref(),
        &mut ctx.geo,
    )
    .await?;
    let dest_kind = match route {
        Route::Local { .. } => DestinationKind::Local,
        Route::External { .. } => DestinationKind::External,
    };
    let head_changed = super::channels::apply(&mut parts, ep.family, &head, &rules, dest_kind)?;
    let mut vault = Vault::new();
    let mut out = decoded.clone();
    if report.transforms {
        let t = transform_with(
            &decoded,
            &rules,
            Direction::Request,
            dest_kind,
            &mut vault,
            &config.inspect,
        )
        .map_err(|e| {
            GatewayError::internal(
                "transform_failed",
                format!("the request could not be transformed safely: {e}"),
            )
        })?;
        if let Some(b) = t.body {
            out = Bytes::from(b);
        }
    }
    let changed = head_changed || out != decoded;
    let mut plan = ResponsePlan {
        family: ep.family,
        op: ep.op,
        translation: None,
        vault: Arc::new(vault),
        client_model: ctx.model.clone().unwrap_or_default(),
        request_id: ctx.id.clone(),
        include_usage: report.include_usage,
        output: OutputRules::new(Arc::clone(&rules)),
    };
    match route {
        Route::Local { pool, model } => {
            let pool_state = state.pools.get(pool).cloned().ok_or_else(|| {
                GatewayError::internal("bad_pool", "model map points at a missing pool")
            })?;
            let translation = Translation::between(ep.family, ep.op, pool_state.config.family).map_err(|()| {
                GatewayError::unavailable(
                    "translation_unavailable",
                    format!(
                        "pool `{}` speaks {} and this request is {}; no translation exists for this pair",
                        pool_state.config.name,
                        pool_state.config.family.as_str(),
                        ep.label()
                    ),
                )
            })?;
            let pool_model = model
                .clone()
                .or_else(|| ctx.model.clone())
                .unwrap_or_default();
            let mut path = path_and_query(&parts.uri, ep.family);
            match translation {
                Some(t) => {
                    out = translate_request(t, &out, &pool_model)?;
                    path = t.upstream_path().to_owned();
                }
                None => {
                    if let Some(m) = &model {
                        if let Some(b) = set_top_level_string(&out, "model", m) {
                            out = Bytes::from(b);
                        }
                    }
                }
            }
            plan.translation = translation;
            let action = if changed { "transform" } else { "forward" };
            let lease_pool = Arc::clone(&pool_state);
            let mut rec = base_record(ctx);
            rec.action = action.into();
            rec.destination = Some(AuditDestination {
                kind: DestinationKind::Local,
                name: pool_state.config.name.clone(),
                endpoint: String::new(),
            });
            audit_decision(state, &rec)?;
            let mut parts = parts;
            if plan.translation == Some(Translation::OpenAiToAnthropic)
                && !parts.headers.contains_key("anthropic-version")
            {
                parts.headers.insert(
                    "anthropic-version",
                    http::HeaderValue::from_static("2023-06-01"),
                );
            }
            let key = super::balance::affinity_for(&lease_pool, &out);
            let pins = pin.as_ref().and_then(|p| p.pool_addrs());
            let (resp, lease) =
                forward::to_pool(state, &lease_pool, &parts, &path, key, out, pins).await?;
            // The completion record names the endpoint that answered (after any retries).
            if let Some(d) = rec.destination.as_mut() {
                d.endpoint = lease.upstream().url();
            }
            relay(state, ctx, rec, resp, Some(lease), "local", &plan).await
        }
        Route::External { provider } => {
            let p = config.providers.get(provider).ok_or_else(|| {
                GatewayError::internal("bad_provider", "route points at a missing provider")
            })?;
            let pinned = match &pin {
                Some(super::residency::Pin::External(pinned)) => Some(pinned),
                _ => None,
            };
            // A residency-checked request goes to the checked upstream; otherwise an
            // intercepted one may keep the host the client addressed.
            let upstream = match pinned {
                Some(x) => std::borrow::Cow::Borrowed(&x.upstream),
                None => crate::intercept::upstream_for(p, target.as_deref())?,
            };
            let mut rec = base_record(ctx);
            rec.action = if changed { "transform" } else { "forward" }.into();
            rec.destination = Some(AuditDestination {
                kind: DestinationKind::External,
                name: p.name.clone(),
                endpoint: upstream.url(),
            });
            audit_decision(state, &rec)?;
            let mut req = build_request(Outgoing {
                method: &parts.method,
                headers: &parts.headers,
                upstream: &upstream,
                path_and_query: path_and_query(&parts.uri, ep.family),
                credential: provider_credential(p),
                body: out,
            })?;
            if let Some(x) = pinned {
                *req.uri_mut() = super::dial::pin_uri(req.uri(), x.addr)
                    .map_err(|e| GatewayError::internal("bad_upstream_uri", e))?;
            }
            let resp = forward::send(state, req).await?;
            relay(state, ctx, rec, resp, None, "external", &plan).await
        }
    }
}

fn path_and_query(uri: &http::Uri, family: Family) -> String {
    match uri.query() {
        Some(q) if family == Family::Gemini => {
            let q = strip_key_param(q);
            if q.is_empty() {
                uri.path().to_owned()
            } else {
                format!("{}?{q}", uri.path())
            }
        }
        Some(q) => format!("{}?{q}", uri.path()),
        None => uri.path().to_owned(),
    }
}

fn record_findings(ctx: &mut Ctx, rules: &RuleSet, report: &Report) {
    ctx.class = report.class;
    ctx.findings = report
        .findings
        .iter()
        .map(|f| {
            let r = rules.rule(f.rule);
            AuditFinding {
                rule: r.id.clone(),
                path: f.path.clone(),
                count: f.count,
                action: r.action.as_str().to_owned(),
                mode: if r.mode == sovgate_core::types::Mode::Monitor {
                    "monitor"
                } else {
                    "enforce"
                }
                .to_owned(),
            }
        })
        .chain(report.opaque.iter().map(|path| AuditFinding {
            // A part the gateway could not read: classified, never forwarded unread as public.
            rule: "inspect.opaque".into(),
            path: path.clone(),
            count: 1,
            action: "classify".into(),
            mode: "enforce".into(),
        }))
        .collect();
}

fn choose_route(
    config: &crate::config::Config,
    residency: Option<&sovgate_core::residency::Residency>,
    ep: &Endpoint,
    report: &Report,
    model: Option<&str>,
    addressed: Option<usize>,
) -> Result<Route, GatewayError> {
    let input = (ep.family, report.class, model);
    crate::routing::choose_route_to(config, residency, input, addressed)
        .map_err(|r| GatewayError::refusal(&r))
}

/// Nothing leaves unless its decision is on record.
fn audit_decision(state: &State, rec: &AuditRecord) -> Result<(), GatewayError> {
    state.audit.append(rec).map_err(|e| {
        tracing::error!(request_id = %rec.request_id, "audit write failed, refusing: {e}");
        GatewayError::internal(
            "audit_unavailable",
            "the audit log cannot be written; the request was not forwarded",
        )
        .with_retry_after(5)
    })
}

/// Largest non-streamed answer the gateway buffers to translate or restore.
const MAX_ANSWER: usize = 64 << 20;

#[allow(clippy::too_many_arguments)]
async fn relay(
    state: &Arc<State>,
    ctx: &Ctx,
    mut rec: AuditRecord,
    resp: Response<Incoming>,
    lease: Option<super::pool::Lease>,
    destination: &'static str,
    plan: &ResponsePlan,
) -> Result<Response<ProxyBody>, GatewayError> {
    let (mut parts, body) = resp.into_parts();
    let mut status = parts.status.as_u16();
    let report = super::report::ReportSink::new(plan.output.clone());
    rec.status = Some(status);
    parts.headers = super::upstream::end_to_end(&parts.headers, &[]);
    if let Ok(v) = http::HeaderValue::from_str(&ctx.id) {
        parts.headers.insert("x-sovgate-request-id", v);
    }
    // The decision, for the company's own clients and operators (never secrets, only labels).
    parts.headers.insert(
        "x-sovgate-classification",
        http::HeaderValue::from_static(ctx.class.as_str()),
    );
    let dest_name = rec
        .destination
        .as_ref()
        .map(|d| format!("{destination}:{}", d.name))
        .unwrap_or_default();
    if let Ok(v) = http::HeaderValue::from_str(&dest_name) {
        parts.headers.insert("x-sovgate-destination", v);
    }
    let body: ProxyBody = body.map_err(super::relay::box_err).boxed();
    let streaming = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let body = if plan.is_passthrough() {
        body
    } else if streaming {
        parts.headers.remove(http::header::CONTENT_LENGTH);
        Staged::new(body, plan.sse_stage(), plan.family)
            .reporting(report.clone())
            .boxed()
    } else if plan.op == Op::StreamGenerateContent && plan.translation.is_none() {
        parts.headers.remove(http::header::CONTENT_LENGTH);
        Staged::new(body, plan.json_array_stage(), plan.family)
            .reporting(report.clone())
            .boxed()
    } else {
        let bytes = collect_bounded(body, MAX_ANSWER).await.map_err(|m| {
            GatewayError::bad_gateway(
                "upstream_failed",
                format!("reading the upstream answer: {m}"),
            )
        })?;
        let answer = plan.full_answer(status, &bytes).map_err(|e| {
            GatewayError::bad_gateway(
                "answer_untranslatable",
                format!("the pool's answer could not be returned: {e}"),
            )
        })?;
        report.set(answer.restored, &answer.output);
        let out = match blocked_answer(plan, &answer) {
            Some(refusal) => {
                let (p, b) = refusal.into_parts();
                status = p.status.as_u16();
                rec.status = Some(status);
                parts.status = p.status;
                parts.headers.extend(p.headers);
                b.to_vec()
            }
            None => answer.body,
        };
        parts.headers.insert(
            http::header::CONTENT_LENGTH,
            http::HeaderValue::from(out.len()),
        );
        if plan.translation.is_some() {
            parts.headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
        }
        full(out)
    };
    let labels = vec![
        ("api", ctx.api.clone()),
        ("class", ctx.class.as_str().to_owned()),
        ("destination", destination.to_owned()),
        ("status", status.to_string()),
    ];
    {
        let l: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
        state.metrics.inc("sovgate_requests_total", &l);
    }
    let completion = Completion {
        state: Arc::clone(state),
        record: rec,
        started: ctx.started,
        labels,
        lease,
        report: Some(report),
    };
    Ok(Response::from_parts(
        parts,
        Tracked::new(body, completion).boxed(),
    ))
}

/// The provider-shaped refusal that replaces a complete answer a response rule blocked.
fn blocked_answer(
    plan: &ResponsePlan,
    answer: &sovgate_core::respond::Answer,
) -> Option<Response<Bytes>> {
    let rule = answer.output.blocked()?;
    let id = &plan.output.as_ref()?.rules().rule(rule).id;
    let e = GatewayError::forbidden(
        sovgate_core::respond::OUTPUT_BLOCKED,
        sovgate_core::respond::blocked_message(id),
    );
    Some(e.to_response(plan.family))
}

/// Rewrites a request body into the pool's API.
fn translate_request(t: Translation, body: &[u8], model: &str) -> Result<Bytes, GatewayError> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        GatewayError::internal(
            "transform_failed",
            format!("re-reading the transformed body: {e}"),
        )
    })?;
    let out = match t {
        Translation::AnthropicToOpenAi => anthropic_to_openai_request(&v, model),
        Translation::OpenAiToAnthropic => openai_to_anthropic_request(&v, model),
    }
    .map_err(|e| {
        GatewayError::bad_request(
            "untranslatable_request",
            format!(
                "this request cannot be served by the local pool's API: {}",
                e.message()
            ),
        )
    })?;
    serde_json::to_vec(&out).map(Bytes::from).map_err(|e| {
        GatewayError::internal(
            "transform_failed",
            format!("serializing the translated body: {e}"),
        )
    })
}

/// Reads a whole answer, at most `max` bytes. Errors become text here so the future stays free
/// of boxed-error lifetimes.
async fn collect_bounded(mut body: ProxyBody, max: usize) -> Result<Bytes, String> {
    let mut buf = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| e.to_string())?;
        if let Ok(d) = frame.into_data() {
            if buf.len() + d.len() > max {
                return Err(format!("the answer exceeds {max} bytes"));
            }
            buf.extend_from_slice(&d);
        }
    }
    Ok(Bytes::from(buf))
}
