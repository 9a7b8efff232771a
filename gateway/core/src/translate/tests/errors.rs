//! Error bodies across APIs, and the TranslateError contract.

use serde_json::json;

use crate::translate::{
    anthropic_error_to_openai, anthropic_to_openai_request, openai_error_to_anthropic,
};

#[test]
fn openai_statuses_map_to_anthropic_error_types() {
    let body = br#"{"error":{"message":"bad things","type":"invalid_request_error","param":null,"code":null}}"#;
    for (status, kind) in [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (402, "billing_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (413, "request_too_large"),
        (422, "invalid_request_error"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (502, "api_error"),
        (503, "api_error"),
        (504, "timeout_error"),
        (529, "overloaded_error"),
    ] {
        assert_eq!(
            openai_error_to_anthropic(status, body),
            json!({"type": "error", "error": {"type": kind, "message": "bad things"}}),
            "{status}"
        );
    }
}

#[test]
fn upstream_messages_are_found_in_every_common_shape() {
    let cases: [(&[u8], &str); 6] = [
        (
            br#"{"object":"error","message":"model not loaded","type":"NotFoundError","code":404}"#,
            "model not loaded",
        ),
        (br#"{"detail":"Not Found"}"#, "Not Found"),
        (br#"{"error":"context too long"}"#, "context too long"),
        (b"upstream connect error", "upstream connect error"),
        (b"", "upstream answered HTTP 503"),
        (br#"{"error":{"code":7}}"#, "upstream answered HTTP 503"),
    ];
    for (body, message) in cases {
        let out = openai_error_to_anthropic(503, body);
        assert_eq!(out["error"]["message"], message);
    }
    let long = "x".repeat(5000);
    let out = openai_error_to_anthropic(500, long.as_bytes());
    assert_eq!(
        out["error"]["message"].as_str().unwrap().chars().count(),
        1001
    );
}

#[test]
fn anthropic_errors_map_to_openai_shape() {
    let body = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}"#;
    assert_eq!(
        anthropic_error_to_openai(529, body),
        json!({"error": {"message": "Overloaded", "type": "server_error", "param": null, "code": "overloaded_error"}})
    );
    let body = br#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#;
    assert_eq!(
        anthropic_error_to_openai(429, body)["error"]["type"],
        "rate_limit_error"
    );
    let out = anthropic_error_to_openai(401, b"");
    assert_eq!(
        out,
        json!({"error": {"message": "upstream answered HTTP 401", "type": "invalid_request_error", "param": null, "code": "authentication_error"}})
    );
}

#[test]
fn translate_error_reports_side_status_and_message() {
    let err = anthropic_to_openai_request(&json!({"messages": 1}), "m").unwrap_err();
    assert!(err.is_client() && !err.is_upstream());
    assert_eq!(err.status(), 400);
    assert_eq!(err.message(), "messages: expected an array, found a number");
    assert_eq!(
        err.to_string(),
        "cannot translate request: messages: expected an array, found a number"
    );
}
