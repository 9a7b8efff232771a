//! The gateway's one error type, and the one place where errors become responses.
//!
//! Every refusal is classified by where the fault came from (client, upstream, policy, internal),
//! carries a stable machine-readable `code`, an HTTP status and whether a retry could help. The
//! client always gets its own provider's error shape, so an SDK raises a typed exception with a
//! message that says what happened instead of failing to parse.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use sovgate_core::api::{error_body, ErrorType, Family};
use sovgate_core::policy::Refusal;
use std::fmt;

/// Where a fault came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Client,
    Upstream,
    Policy,
    Internal,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Client => "client",
            Origin::Upstream => "upstream",
            Origin::Policy => "policy",
            Origin::Internal => "internal",
        }
    }
}

#[derive(Debug, Clone)]
pub struct GatewayError {
    origin: Origin,
    status: StatusCode,
    kind: ErrorType,
    code: &'static str,
    message: String,
    retry_after: Option<u32>,
    /// The connection must close after this answer (a framing refusal: nothing after the head
    /// can be trusted to be where the client meant it).
    close: bool,
}

impl GatewayError {
    fn new(
        origin: Origin,
        status: StatusCode,
        kind: ErrorType,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        GatewayError {
            origin,
            status,
            kind,
            code,
            message: message.into(),
            retry_after: None,
            close: false,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            Origin::Client,
            StatusCode::BAD_REQUEST,
            ErrorType::InvalidRequest,
            code,
            message,
        )
    }

    /// A request head the framing guard refused: 400, or 501 for an unsupported transfer
    /// coding. The answer closes the connection.
    pub fn framing(r: &crate::proxy::FramingRefusal) -> Self {
        let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST);
        let mut e = Self::new(
            Origin::Client,
            status,
            ErrorType::InvalidRequest,
            r.code,
            r.message,
        );
        e.close = true;
        e
    }

    pub fn unsupported_media(message: impl Into<String>) -> Self {
        Self::new(
            Origin::Client,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorType::InvalidRequest,
            "unsupported_encoding",
            message,
        )
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            Origin::Client,
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorType::TooLarge,
            "body_too_large",
            format!(
                "the request body exceeds the gateway's limit of {limit} bytes (after decoding)"
            ),
        )
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(
            Origin::Client,
            StatusCode::NOT_FOUND,
            ErrorType::NotFound,
            "unknown_endpoint",
            message,
        )
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(
            Origin::Client,
            StatusCode::UNAUTHORIZED,
            ErrorType::Authentication,
            "invalid_sovgate_key",
            message,
        )
    }

    /// The forward proxy wants a `Proxy-Authorization` it did not get (407); the caller adds
    /// `Proxy-Authenticate`.
    pub fn proxy_auth_required(message: impl Into<String>) -> Self {
        Self::new(
            Origin::Client,
            StatusCode::PROXY_AUTHENTICATION_REQUIRED,
            ErrorType::Authentication,
            "proxy_auth_required",
            message,
        )
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            Origin::Policy,
            StatusCode::FORBIDDEN,
            ErrorType::Permission,
            code,
            message,
        )
    }

    /// A rule with `action = "block"` fired.
    pub fn blocked(rule_id: &str) -> Self {
        Self::forbidden(
            "policy_blocked",
            format!("request blocked by Sovgate policy: rule {rule_id} matched; nothing was sent to any model"),
        )
    }

    /// No destination satisfies the policy.
    pub fn refusal(r: &Refusal) -> Self {
        let status = StatusCode::from_u16(r.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let kind = match r.status() {
            403 | 451 => ErrorType::Permission,
            _ => ErrorType::Unavailable,
        };
        Self::new(
            Origin::Policy,
            status,
            kind,
            r.code(),
            format!("request refused by Sovgate: {r}"),
        )
    }

    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            Origin::Upstream,
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorType::Unavailable,
            code,
            message,
        )
    }

    pub fn bad_gateway(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            Origin::Upstream,
            StatusCode::BAD_GATEWAY,
            ErrorType::Upstream,
            code,
            message,
        )
    }

    pub fn gateway_timeout(message: impl Into<String>) -> Self {
        Self::new(
            Origin::Upstream,
            StatusCode::GATEWAY_TIMEOUT,
            ErrorType::Upstream,
            "upstream_timeout",
            message,
        )
    }

    pub fn internal(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            Origin::Internal,
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorType::Internal,
            code,
            message,
        )
    }

    /// Overrides the stable code (e.g. a more specific reason for a 413).
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }

    pub fn with_message_prefix(mut self, prefix: &str) -> Self {
        self.message.insert_str(0, prefix);
        self
    }

    pub fn with_retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn origin(&self) -> Origin {
        self.origin
    }
    pub fn status(&self) -> StatusCode {
        self.status
    }
    pub fn code(&self) -> &'static str {
        self.code
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    /// Whether sending the same request again could succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self.origin, Origin::Upstream) || self.retry_after.is_some()
    }

    /// The response, in the client API's shape.
    pub fn to_response(&self, family: Family) -> Response<Bytes> {
        let body = error_body(
            family,
            self.status.as_u16(),
            self.kind,
            self.code,
            &self.message,
        );
        let mut resp = Response::new(Bytes::from(body));
        *resp.status_mut() = self.status;
        let h = resp.headers_mut();
        h.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h.insert("x-sovgate-error", HeaderValue::from_static(self.code));
        if let Some(s) = self.retry_after {
            h.insert(http::header::RETRY_AFTER, HeaderValue::from(s));
        }
        if self.close {
            // hyper ends an HTTP/1.1 connection after an answer that says so.
            h.insert(http::header::CONNECTION, HeaderValue::from_static("close"));
        }
        resp
    }
}

impl fmt::Display for GatewayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}, {}): {}",
            self.status.as_u16(),
            self.origin.as_str(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for GatewayError {}
