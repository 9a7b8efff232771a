//! Anthropic Messages request → OpenAI chat request.

use serde_json::json;

use crate::translate::anthropic_to_openai_request;

const POOL: &str = "llama-3.1-70b-instruct";

#[test]
fn simple_request_maps_every_scalar_field() {
    let req = json!({
        "model": "claude-sonnet-4-5-20250929",
        "max_tokens": 1024,
        "system": "You are a contracts paralegal.",
        "messages": [{"role": "user", "content": "Summarise clause 7."}],
        "temperature": 0.2,
        "top_p": 0.9,
        "top_k": 40,
        "stop_sequences": ["</answer>"],
        "metadata": {"user_id": "u-4821"},
        "thinking": {"type": "enabled", "budget_tokens": 2048}
    });
    let out = anthropic_to_openai_request(&req, POOL).unwrap();
    assert_eq!(
        out,
        json!({
            "model": POOL,
            "messages": [
                {"role": "system", "content": "You are a contracts paralegal."},
                {"role": "user", "content": "Summarise clause 7."}
            ],
            "max_tokens": 1024,
            "temperature": 0.2,
            "top_p": 0.9,
            "stop": ["</answer>"],
            "user": "u-4821"
        })
    );
    // Field order follows what the provider itself sends (preserve_order).
    let keys: Vec<_> = out.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys[..2], ["model".to_owned(), "messages".to_owned()]);
}

#[test]
fn system_blocks_join_and_ignore_cache_control() {
    let req = json!({
        "max_tokens": 10,
        "system": [
            {"type": "text", "text": "Policy A."},
            {"type": "text", "text": "Policy B.", "cache_control": {"type": "ephemeral"}}
        ],
        "messages": [{"role": "user", "content": "hi"}]
    });
    let out = anthropic_to_openai_request(&req, POOL).unwrap();
    assert_eq!(
        out["messages"][0],
        json!({"role": "system", "content": "Policy A.\n\nPolicy B."})
    );
}

#[test]
fn stream_requests_usage() {
    let req =
        json!({"max_tokens": 10, "stream": true, "messages": [{"role": "user", "content": "x"}]});
    let out = anthropic_to_openai_request(&req, POOL).unwrap();
    assert_eq!(out["stream"], true);
    assert_eq!(out["stream_options"], json!({"include_usage": true}));
    let req =
        json!({"max_tokens": 10, "stream": false, "messages": [{"role": "user", "content": "x"}]});
    let out = anthropic_to_openai_request(&req, POOL).unwrap();
    assert!(out.get("stream").is_none() && out.get("stream_options").is_none());
}

#[test]
fn images_become_image_url_parts() {
    let req = json!({
        "max_tokens": 300,
        "messages": [{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/scan.jpg"}},
            {"type": "text", "text": "Compare these two scans."}
        ]}]
    });
    let out = anthropic_to_openai_request(&req, POOL).unwrap();
    assert_eq!(
        out["messages"][0],
        json!({"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            {"type": "image_url", "image_url": {"url": "https://example.com/scan.jpg"}},
            {"type": "text", "text": "Compare these two scans."}
        ]})
    );
}

#[test]
fn text_blocks_collapse_to_one_string_and_documents_become_text() {
    let req = json!({
        "max_tokens": 300,
        "messages": [{"role": "user", "content": [
            {"type": "document", "title": "NDA v3",
             "source": {"type": "text", "media_type": "text/plain", "data": "The parties agree..."},
             "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "Is clause 2 mutual?"}
        ]}]
    });
    let out = anthropic_to_openai_request(&req, POOL).unwrap();
    assert_eq!(
        out["messages"][0],
        json!({"role": "user", "content": "NDA v3\n\nThe parties agree...\n\nIs clause 2 mutual?"})
    );
    let content_doc = json!({"max_tokens": 5, "messages": [{"role": "user", "content": [
        {"type": "document", "source": {"type": "content", "content": [{"type": "text", "text": "Part 1"}]}}
    ]}]});
    let out = anthropic_to_openai_request(&content_doc, POOL).unwrap();
    assert_eq!(out["messages"][0]["content"], "Part 1");
}

#[test]
fn tools_and_tool_choice_map() {
    let schema = json!({"type": "object", "properties": {"matter_id": {"type": "string"}}, "required": ["matter_id"]});
    let req = json!({
        "max_tokens": 500,
        "tools": [{"name": "lookup_matter", "description": "Find a matter", "input_schema": schema,
                   "cache_control": {"type": "ephemeral"}}],
        "tool_choice": {"type": "tool", "name": "lookup_matter", "disable_parallel_tool_use": true},
        "messages": [{"role": "user", "content": "Open matter 77."}]
    });
    let out = anthropic_to_openai_request(&req, POOL).unwrap();
    assert_eq!(
        out["tools"],
        json!([{"type": "function", "function": {"name": "lookup_matter", "description": "Find a matter", "parameters": schema}}])
    );
    assert_eq!(
        out["tool_choice"],
        json!({"type": "function", "function": {"name": "lookup_matter"}})
    );
    assert_eq!(out["parallel_tool_calls"], false);

    for (choice, expected) in [
        (json!({"type": "auto"}), json!("auto")),
        (json!({"type": "any"}), json!("required")),
        (json!({"type": "none"}), json!("none")),
    ] {
        let req = json!({"max_tokens": 5, "tool_choice": choice, "messages": [{"role": "user", "content": "x"}]});
        let out = anthropic_to_openai_request(&req, POOL).unwrap();
        assert_eq!(out["tool_choice"], expected);
        assert!(out.get("parallel_tool_calls").is_none());
    }
}

#[test]
fn multi_turn_tool_use_keeps_order() {
    let req = json!({
        "max_tokens": 500,
        "messages": [
            {"role": "user", "content": "Weather in Paris and Berlin?"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "two lookups", "signature": "sig=="},
                {"type": "text", "text": "Checking both."},
                {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_01B", "name": "get_weather", "input": {"city": "Berlin", "unit": "c"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01A", "content": "18°C, clear"},
                {"type": "tool_result", "tool_use_id": "toolu_01B", "is_error": true,
                 "content": [{"type": "text", "text": "station offline"}, {"type": "text", "text": "retry later"}]},
                {"type": "text", "text": "Also, which is warmer?"}
            ]}
        ]
    });
    let out = anthropic_to_openai_request(&req, POOL).unwrap();
    assert_eq!(
        out["messages"],
        json!([
            {"role": "user", "content": "Weather in Paris and Berlin?"},
            {"role": "assistant", "content": "Checking both.", "tool_calls": [
                {"id": "toolu_01A", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "toolu_01B", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Berlin\",\"unit\":\"c\"}"}}
            ]},
            {"role": "tool", "tool_call_id": "toolu_01A", "content": "18°C, clear"},
            {"role": "tool", "tool_call_id": "toolu_01B", "content": "Error: station offline\n\nretry later"},
            {"role": "user", "content": "Also, which is warmer?"}
        ])
    );
}

#[test]
fn text_before_a_tool_result_stays_before_it() {
    let req = json!({"max_tokens": 5, "messages": [{"role": "user", "content": [
        {"type": "text", "text": "Context first."},
        {"type": "tool_result", "tool_use_id": "t1"}
    ]}]});
    let out = anthropic_to_openai_request(&req, POOL).unwrap();
    assert_eq!(
        out["messages"],
        json!([
            {"role": "user", "content": "Context first."},
            {"role": "tool", "tool_call_id": "t1", "content": ""}
        ])
    );
}

#[test]
fn assistant_with_only_tool_calls_has_null_content() {
    let req = json!({"max_tokens": 5, "messages": [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "run", "input": {}}]}
    ]});
    let out = anthropic_to_openai_request(&req, POOL).unwrap();
    assert_eq!(out["messages"][1]["content"], serde_json::Value::Null);
    assert_eq!(
        out["messages"][1]["tool_calls"][0]["function"]["arguments"],
        "{}"
    );
}

#[test]
fn untranslatable_content_is_refused_with_its_path() {
    let cases = [
        (
            json!([{"type": "server_tool_use", "id": "s", "name": "web_search", "input": {}}]),
            "messages[0].content[0].type",
        ),
        (
            json!([{"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBE"}}]),
            "messages[0].content[0].source.type",
        ),
        (
            json!([{"type": "image", "source": {"type": "file", "file_id": "file_1"}}]),
            "messages[0].content[0].source.type",
        ),
        (
            json!([{"type": "tool_result", "tool_use_id": "t", "content": [{"type": "image", "source": {"type": "url", "url": "u"}}]}]),
            "messages[0].content[0].content[0].type",
        ),
        (
            json!([{"type": "tool_use", "id": "t", "name": "n", "input": {}}]),
            "messages[0].content[0].type",
        ),
        (json!([{"type": "text"}]), "messages[0].content[0].text"),
        (json!(42), "messages[0].content"),
    ];
    for (content, path) in cases {
        let req = json!({"max_tokens": 5, "messages": [{"role": "user", "content": content}]});
        let err = anthropic_to_openai_request(&req, POOL).unwrap_err();
        assert!(err.is_client() && err.status() == 400, "{err}");
        assert!(
            err.message().starts_with(path),
            "{path} not in {}",
            err.message()
        );
    }
}

#[test]
fn bad_shapes_are_client_errors() {
    let cases = [
        json!([]),
        json!({"max_tokens": 5}),
        json!({"max_tokens": "5", "messages": []}),
        json!({"max_tokens": 5, "messages": [{"role": "system", "content": "x"}]}),
        json!({"max_tokens": 5, "messages": [], "tools": [{"type": "web_search_20250305", "name": "web_search"}]}),
        json!({"max_tokens": 5, "messages": [], "tools": [{"name": "t"}]}),
        json!({"max_tokens": 5, "messages": [], "tool_choice": {"type": "sometimes"}}),
        json!({"max_tokens": 5, "messages": [], "system": [{"type": "image"}]}),
        json!({"max_tokens": 5, "messages": [], "stop_sequences": [1]}),
    ];
    for req in cases {
        let err = anthropic_to_openai_request(&req, POOL).unwrap_err();
        assert!(err.is_client(), "{req}: {err}");
        assert!(!err.message().is_empty());
    }
}
