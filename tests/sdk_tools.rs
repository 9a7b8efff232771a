//! Tool use through translation, with the official SDKs: an `anthropic` client served by an
//! OpenAI-only pool, and an `openai` client served by a pool configured `api = "anthropic"`.
//!
//! The scripts (`tests/python/anthropic_tools.py`, `openai_tools.py`) check what the SDK parsed:
//! every stream event as its typed class, the tool input rebuilt from the fragments, stop
//! reasons and usage. This file checks what the stub behind the gateway received in its own API:
//! tool definitions, the model's tool call replayed, and the tool's result.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::sdk::{sdk, sent, text};
use crate::support::*;
use serde_json::{json, Value};

/// `claude-*` goes to the OpenAI pool `gpu`.
async fn anthropic_on_openai_pool() -> Harness {
    Harness::with_config(&CONFIG.replace("pool = \"gpu-anthropic\"", "pool = \"gpu\"")).await
}

/// `gpt-4o*` goes to the Anthropic pool `gpu-anthropic`.
async fn openai_on_anthropic_pool() -> Harness {
    let text = CONFIG.replace(
        "external = \"gpt-4o*\"\npool = \"gpu\"",
        "external = \"gpt-4o*\"\npool = \"gpu-anthropic\"",
    );
    assert_ne!(text, CONFIG, "the test config changed shape");
    Harness::with_config(&text).await
}

fn bodies(h: &Harness) -> Vec<(String, Value)> {
    h.local
        .requests()
        .iter()
        .map(|r| (r.path.clone(), r.json().unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthropic_sdk_tool_use_against_an_openai_only_pool() {
    let h = anthropic_on_openai_pool().await;
    let out = sdk(&h, "anthropic_tools.py", &[]).await;
    assert_eq!(h.external.calls(), 0, "privileged tool use went external");
    let prompt = text(&out, "/prompt").to_owned();
    let words = prompt.split_whitespace().count();
    let expected_input = json!({"city": prompt, "days": words});

    // What the SDK rebuilt, plain and from `input_json_delta` fragments.
    assert_eq!(out["plain"]["input"], expected_input);
    assert_eq!(out["helper"]["input"], expected_input);
    let fragments: String = out["raw"]["partial_json"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(
        out["raw"]["partial_json"].as_array().unwrap().len() > 1,
        "arguments arrived in pieces"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&fragments).unwrap(),
        expected_input
    );
    let events: Vec<&str> = out["raw"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    let mut expected = vec!["message_start", "content_block_start"];
    expected.extend(std::iter::repeat_n(
        "content_block_delta",
        out["raw"]["partial_json"].as_array().unwrap().len(),
    ));
    expected.extend(["content_block_stop", "message_delta", "message_stop"]);
    assert_eq!(events, expected);
    assert!(text(&out, "/plain/id").starts_with("call_local_"), "{out}");
    let result = text(&out, "/result").to_owned();
    assert_eq!(text(&out, "/followup/plain"), format!("[local] {result}"));
    assert_eq!(text(&out, "/followup/stream"), format!("[local] {result}"));

    // What the OpenAI stub received: functions, then the call and a tool message.
    let got = bodies(&h);
    assert_eq!(
        got.len(),
        5,
        "call, raw stream, helper stream, two follow-ups"
    );
    assert_eq!(sent(&out).len(), 5);
    for (path, body) in &got {
        assert_eq!(path, "/v1/chat/completions");
        assert_eq!(
            body["model"], "local-claude",
            "the model map's name for claude-*"
        );
        assert_eq!(
            body["tools"],
            json!([{"type": "function", "function": {
                "name": "get_weather", "description": "Current weather for a city.",
                "parameters": {"type": "object", "properties": {
                    "city": {"type": "string"}, "days": {"type": "integer"}},
                    "required": ["city"]}}}])
        );
    }
    for i in [1, 2, 4] {
        assert_eq!(got[i].1["stream"], true);
        assert_eq!(got[i].1["stream_options"]["include_usage"], true);
    }
    let call_id = text(&out, "/plain/id");
    let msgs = got[3].1["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    assert_eq!(msgs[0], json!({"role": "user", "content": prompt}));
    assert_eq!(msgs[1]["role"], "assistant");
    let call = &msgs[1]["tool_calls"][0];
    assert_eq!(
        (&call["id"], &call["type"], &call["function"]["name"]),
        (&json!(call_id), &json!("function"), &json!("get_weather"))
    );
    let args: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args, expected_input);
    assert_eq!(
        msgs[2],
        json!({"role": "tool", "tool_call_id": call_id, "content": result})
    );
    let streamed_msgs = got[4].1["messages"].as_array().unwrap();
    assert_eq!(
        streamed_msgs[2]["tool_call_id"], out["helper"]["id"],
        "the streamed call's id came back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_sdk_tool_calls_against_an_anthropic_pool() {
    let h = openai_on_anthropic_pool().await;
    let out = sdk(&h, "openai_tools.py", &[]).await;
    assert_eq!(h.external.calls(), 0, "privileged tool call went external");
    let prompt = text(&out, "/prompt").to_owned();
    let expected_args = json!({"query": prompt, "exact": true});
    for which in ["plain", "stream"] {
        let args = text(&out, &format!("/{which}/arguments"));
        assert_eq!(
            serde_json::from_str::<Value>(args).unwrap(),
            expected_args,
            "{which}"
        );
        assert!(text(&out, &format!("/{which}/id")).starts_with("toolu_local_"));
    }
    assert!(out["stream"]["chunks"].as_u64().unwrap() > 3, "{out}");
    let result = text(&out, "/result").to_owned();
    assert_eq!(text(&out, "/followup/plain"), format!("[local] {result}"));
    assert_eq!(text(&out, "/followup/stream"), format!("[local] {result}"));

    let got = bodies(&h);
    assert_eq!(got.len(), 4, "call, streamed call, two follow-ups");
    for (path, body) in &got {
        assert_eq!(path, "/v1/messages");
        assert_eq!(
            body["model"], "llama-3.1-70b-instruct",
            "the model map's name for gpt-4o*"
        );
        assert_eq!(
            body["tools"],
            json!([{"name": "search_docket", "description": "Searches the court docket.",
                "input_schema": {"type": "object", "properties": {
                    "query": {"type": "string"}, "exact": {"type": "boolean"}},
                    "required": ["query"]}}])
        );
        assert!(
            body["max_tokens"].as_u64().unwrap() > 0,
            "Anthropic requires it"
        );
    }
    assert_eq!(got[1].1["stream"], true);
    let msgs = got[2].1["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    let call_id = text(&out, "/plain/id");
    assert_eq!(
        msgs[1],
        json!({"role": "assistant", "content": [{"type": "tool_use", "id": call_id,
            "name": "search_docket", "input": expected_args}]})
    );
    assert_eq!(msgs[2]["role"], "user");
    let block = &msgs[2]["content"][0];
    assert_eq!(block["type"], "tool_result");
    assert_eq!(block["tool_use_id"], json!(call_id));
    let content = if block["content"].is_string() {
        block["content"].as_str().unwrap().to_owned()
    } else {
        block["content"][0]["text"].as_str().unwrap().to_owned()
    };
    assert_eq!(content, result);
}
