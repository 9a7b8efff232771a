//! Refusals in each provider's own error shape.
//!
//! Clients use the official SDKs, which turn these bodies into typed exceptions
//! (`openai.BadRequestError`, `anthropic.PermissionDeniedError`, ...). A refusal that does not
//! parse as the provider's error would surface as an opaque crash in the client instead of a clear
//! "blocked by policy" message, so each family gets its exact shape.

use super::Family;
use serde_json::json;

/// The gateway's error categories, mapped onto each provider's `type` vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    InvalidRequest,
    Authentication,
    Permission,
    NotFound,
    TooLarge,
    RateLimit,
    Unavailable,
    Upstream,
    Internal,
}

impl ErrorType {
    fn openai(self) -> &'static str {
        match self {
            ErrorType::InvalidRequest | ErrorType::NotFound | ErrorType::TooLarge => {
                "invalid_request_error"
            }
            ErrorType::Authentication => "authentication_error",
            ErrorType::Permission => "permission_error",
            ErrorType::RateLimit => "rate_limit_error",
            ErrorType::Unavailable | ErrorType::Upstream | ErrorType::Internal => "server_error",
        }
    }

    fn anthropic(self) -> &'static str {
        match self {
            ErrorType::InvalidRequest => "invalid_request_error",
            ErrorType::Authentication => "authentication_error",
            ErrorType::Permission => "permission_error",
            ErrorType::NotFound => "not_found_error",
            ErrorType::TooLarge => "request_too_large",
            ErrorType::RateLimit => "rate_limit_error",
            ErrorType::Unavailable => "overloaded_error",
            ErrorType::Upstream | ErrorType::Internal => "api_error",
        }
    }

    fn gemini(self) -> &'static str {
        match self {
            ErrorType::InvalidRequest | ErrorType::TooLarge => "INVALID_ARGUMENT",
            ErrorType::Authentication => "UNAUTHENTICATED",
            ErrorType::Permission => "PERMISSION_DENIED",
            ErrorType::NotFound => "NOT_FOUND",
            ErrorType::RateLimit => "RESOURCE_EXHAUSTED",
            ErrorType::Unavailable => "UNAVAILABLE",
            ErrorType::Upstream | ErrorType::Internal => "INTERNAL",
        }
    }
}

/// The JSON body of a refusal for `family`. `code` is a stable machine-readable reason
/// (`policy_blocked`, `residency_unmet`, ...) that tests and clients can branch on.
pub fn error_body(
    family: Family,
    status: u16,
    kind: ErrorType,
    code: &str,
    message: &str,
) -> Vec<u8> {
    let v = match family {
        Family::OpenAi | Family::Azure => json!({
            "error": { "message": message, "type": kind.openai(), "param": null, "code": code }
        }),
        Family::Anthropic => json!({
            "type": "error",
            "error": { "type": kind.anthropic(), "message": message }
        }),
        Family::Gemini => json!({
            "error": { "code": status, "message": message, "status": kind.gemini() }
        }),
    };
    v.to_string().into_bytes()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let o: serde_json::Value = serde_json::from_slice(&error_body(
            Family::OpenAi,
            403,
            ErrorType::Permission,
            "policy_blocked",
            "blocked",
        ))
        .unwrap();
        assert_eq!(o["error"]["type"], "permission_error");
        assert_eq!(o["error"]["code"], "policy_blocked");
        let a: serde_json::Value = serde_json::from_slice(&error_body(
            Family::Anthropic,
            403,
            ErrorType::Permission,
            "policy_blocked",
            "blocked",
        ))
        .unwrap();
        assert_eq!(a["type"], "error");
        assert_eq!(a["error"]["type"], "permission_error");
        let g: serde_json::Value = serde_json::from_slice(&error_body(
            Family::Gemini,
            451,
            ErrorType::Permission,
            "residency_unmet",
            "no",
        ))
        .unwrap();
        assert_eq!(g["error"]["code"], 451);
        assert_eq!(g["error"]["status"], "PERMISSION_DENIED");
    }
}
