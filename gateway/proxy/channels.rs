//! The request's head (path, query, headers) through the policy core's channel inspection
//! ([`sovgate_core::channels`]): this module only reads the head out of hyper's types and writes
//! the core's edits back; what is scanned and what is removed is decided there.

use crate::error::GatewayError;
use http::request::Parts;
use http::{HeaderMap, Uri};
use sovgate_core::api::Family;
use sovgate_core::channels::{edits, inspect_head, Head, HeadReport};
use sovgate_core::rules::RuleSet;
use sovgate_core::types::{DestinationKind, Direction};

fn head(parts: &Parts, family: Family) -> Head<'_> {
    Head {
        family,
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes()))
            .collect(),
    }
}

/// Scans the head; the caller merges the report into the body's.
pub fn inspect(parts: &Parts, family: Family, rules: &RuleSet) -> HeadReport {
    inspect_head(&head(parts, family), rules, Direction::Request)
}

/// Removes, for destination `dest`, every header and query parameter that holds an acting
/// finding; refuses when a path segment holds one. Returns whether anything was removed.
pub fn apply(
    parts: &mut Parts,
    family: Family,
    report: &HeadReport,
    rules: &RuleSet,
    dest: DestinationKind,
) -> Result<bool, GatewayError> {
    if report.findings.is_empty() {
        return Ok(false);
    }
    let e = edits(&head(parts, family), report, rules, dest).map_err(|r| {
        GatewayError::forbidden(
            "policy_blocked",
            format!(
                "request blocked by Sovgate policy: rule {} matched in URL path segment {} (a path cannot be edited); nothing was sent to any model",
                rules.rule(r.rule).id,
                r.segment
            ),
        )
    })?;
    if e.is_empty() {
        return Ok(false);
    }
    if !e.drop_headers.is_empty() {
        // Rebuilt rather than removed by name: only the entry that held the finding goes, other
        // values of the same name stay.
        let mut kept = HeaderMap::with_capacity(parts.headers.len());
        for (i, (n, v)) in parts.headers.iter().enumerate() {
            if !e.drop_headers.contains(&i) {
                kept.append(n.clone(), v.clone());
            }
        }
        parts.headers = kept;
    }
    if let Some(q) = &e.query {
        parts.uri = with_query(&parts.uri, q)?;
    }
    Ok(true)
}

/// `uri` with its query replaced (`""`: none), scheme and authority kept.
fn with_query(uri: &Uri, query: &str) -> Result<Uri, GatewayError> {
    let pq = if query.is_empty() {
        uri.path().to_owned()
    } else {
        format!("{}?{query}", uri.path())
    };
    let mut p = uri.clone().into_parts();
    p.path_and_query = Some(pq.parse().map_err(|e| {
        GatewayError::internal("transform_failed", format!("rebuilding the query: {e}"))
    })?);
    Uri::from_parts(p)
        .map_err(|e| GatewayError::internal("transform_failed", format!("rebuilding the URI: {e}")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn query_edit_keeps_scheme_authority_and_path() {
        let u: Uri = "http://api.openai.com/v1/chat?a=1&b=2".parse().unwrap();
        assert_eq!(
            with_query(&u, "b=2").unwrap().to_string(),
            "http://api.openai.com/v1/chat?b=2"
        );
        let u: Uri = "/v1/chat?a=1".parse().unwrap();
        assert_eq!(with_query(&u, "").unwrap().to_string(), "/v1/chat");
    }

    #[test]
    fn every_header_the_gateway_strips_is_unscanned_and_only_those() {
        use super::super::auth::CREDENTIAL_HEADERS;
        use super::super::upstream::{HOP_BY_HOP, REWRITTEN};
        use sovgate_core::channels::UNSCANNED_HEADERS;
        let stripped: Vec<&str> = CREDENTIAL_HEADERS
            .iter()
            .chain(HOP_BY_HOP.iter())
            .chain(REWRITTEN.iter())
            .copied()
            .collect();
        for h in &stripped {
            assert!(UNSCANNED_HEADERS.contains(h), "{h} is stripped but scanned");
        }
        for h in UNSCANNED_HEADERS {
            assert!(stripped.contains(&h), "{h} is unscanned but forwarded");
        }
    }
}
