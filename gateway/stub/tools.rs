//! Tool use, as a model that always reaches for a tool when it is offered one.
//!
//! When a chat completions or messages request declares `tools` (and `tool_choice` is not
//! `none`) and its last turn is the user's, the stub calls a tool instead of answering: the one
//! `tool_choice` names, else the first. Its arguments are derived from the user's text and the
//! tool's JSON schema, so a test knows exactly what to expect: every string property gets the
//! text, every number or integer property its word count, every boolean `true`. When the last
//! turn carries the tool's result (an OpenAI `tool` message, Anthropic `tool_result` blocks),
//! the stub answers with text built from that result as it would from a user message.
//!
//! The answers are shaped like vLLM's and Anthropic's: OpenAI `tool_calls` with `arguments` as a
//! JSON string (streamed as the name first, then argument fragments) and `finish_reason:
//! "tool_calls"`; Anthropic `tool_use` blocks (streamed with `input_json_delta`) and
//! `stop_reason: "tool_use"`.

use super::body::{sse_data, Body, Ctx};
use super::openai::{include_usage, now, usage, DONE};
use super::text::{content_text, last_user_message, tokens};
use bytes::Bytes;
use http::Response;
use serde_json::{json, Map, Value};

/// The call the stub makes: which tool, with which arguments (serialized JSON).
pub(super) struct Call {
    name: String,
    arguments: String,
    /// The user text the arguments came from (for usage counts).
    input: String,
}

/// Whether the stub calls a tool for this OpenAI chat request, and which.
pub(super) fn openai_call(req: &Value) -> Option<Call> {
    let last = req.get("messages")?.as_array()?.last()?;
    if last.get("role").and_then(Value::as_str) != Some("user") {
        return None;
    }
    let chosen = match req.get("tool_choice") {
        Some(Value::String(s)) if s == "none" => return None,
        Some(c) => c.pointer("/function/name").and_then(Value::as_str),
        None => None,
    };
    let tool = pick(req.get("tools")?, chosen, |t| {
        t.pointer("/function/name").and_then(Value::as_str)
    })?;
    let schema = tool.pointer("/function/parameters");
    call(
        tool.pointer("/function/name")?,
        schema,
        last_user_message(req),
    )
}

/// Whether the stub calls a tool for this Anthropic messages request, and which.
pub(super) fn anthropic_call(req: &Value) -> Option<Call> {
    if anthropic_tool_result(req).is_some() {
        return None;
    }
    let last = req.get("messages")?.as_array()?.last()?;
    if last.get("role").and_then(Value::as_str) != Some("user") {
        return None;
    }
    let choice = req.get("tool_choice");
    if choice.and_then(|c| c.get("type")).and_then(Value::as_str) == Some("none") {
        return None;
    }
    let chosen = choice.and_then(|c| c.get("name")).and_then(Value::as_str);
    let tool = pick(req.get("tools")?, chosen, |t| {
        t.get("name").and_then(Value::as_str)
    })?;
    call(
        tool.get("name")?,
        tool.get("input_schema"),
        last_user_message(req),
    )
}

fn pick<'a>(
    tools: &'a Value,
    chosen: Option<&str>,
    name: impl Fn(&Value) -> Option<&str>,
) -> Option<&'a Value> {
    let tools = tools.as_array()?;
    match chosen {
        Some(n) => tools.iter().find(|t| name(t) == Some(n)),
        None => tools.first(),
    }
}

fn call(name: &Value, schema: Option<&Value>, input: String) -> Option<Call> {
    let mut args = Map::new();
    if let Some(props) = schema
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
    {
        for (key, prop) in props {
            let value = match prop.get("type").and_then(Value::as_str) {
                Some("string") => json!(input),
                Some("integer" | "number") => json!(tokens(&input)),
                Some("boolean") => json!(true),
                _ => continue,
            };
            args.insert(key.clone(), value);
        }
    }
    Some(Call {
        name: name.as_str()?.to_owned(),
        arguments: Value::Object(args).to_string(),
        input,
    })
}

/// The text of the tool result in the last OpenAI message, when it is a `tool` message.
pub(super) fn openai_tool_result(req: &Value) -> Option<String> {
    let last = req.get("messages")?.as_array()?.last()?;
    (last.get("role").and_then(Value::as_str) == Some("tool"))
        .then(|| last.get("content").map(content_text).unwrap_or_default())
}

/// The text of the `tool_result` blocks of the last Anthropic message, when it has any.
pub(super) fn anthropic_tool_result(req: &Value) -> Option<String> {
    let last = req.get("messages")?.as_array()?.last()?;
    let results: Vec<String> = last
        .get("content")?
        .as_array()?
        .iter()
        .filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_result"))
        .map(|b| b.get("content").map(content_text).unwrap_or_default())
        .collect();
    (!results.is_empty()).then(|| results.join("\n"))
}

/// An OpenAI chat completion (or chunk stream) that calls the tool.
pub(super) fn openai_answer(ctx: Ctx, req: &Value, call: &Call) -> Response<Body> {
    let model = ctx.model(req);
    let n = ctx.next_id();
    let id = format!("chatcmpl-{}-{n}", ctx.name());
    let call_id = format!("call_{}_{n}", ctx.name());
    let created = now();
    let usage = usage(tokens(&call.input), tokens(&call.arguments));
    let stream = req.get("stream").and_then(Value::as_bool) == Some(true);
    if !stream {
        return ctx.json(&json!({
            "id": id, "object": "chat.completion", "created": created, "model": model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": null, "tool_calls": [{
                    "id": call_id, "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }]},
                "logprobs": null,
                "finish_reason": "tool_calls",
            }],
            "usage": usage,
        }));
    }
    let chunk = |delta: Value, finish: Value| {
        sse_data(&json!({
            "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        }))
    };
    let mut frames = vec![
        chunk(json!({"role": "assistant", "content": ""}), Value::Null),
        chunk(
            json!({"tool_calls": [{"index": 0, "id": call_id, "type": "function",
                    "function": {"name": call.name, "arguments": ""}}]}),
            Value::Null,
        ),
    ];
    for piece in ctx.chunks(&call.arguments) {
        frames.push(chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}),
            Value::Null,
        ));
    }
    frames.push(chunk(json!({}), json!("tool_calls")));
    if include_usage(req) {
        frames.push(sse_data(&json!({
            "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [], "usage": usage,
        })));
    }
    frames.push(Bytes::from_static(DONE));
    ctx.sse(frames)
}

/// An Anthropic message (or event stream) with one `tool_use` block.
pub(super) fn anthropic_answer(ctx: Ctx, req: &Value, call: &Call) -> Response<Body> {
    let model = ctx.model(req);
    let n = ctx.next_id();
    let id = format!("msg_{}_{n}", ctx.name());
    let tool_id = format!("toolu_{}_{n}", ctx.name());
    let (input_tokens, output_tokens) = (tokens(&call.input), tokens(&call.arguments));
    let input: Value = serde_json::from_str(&call.arguments).unwrap_or_else(|_| json!({}));
    if req.get("stream").and_then(Value::as_bool) != Some(true) {
        return ctx.json(&json!({
            "id": id, "type": "message", "role": "assistant",
            "content": [{"type": "tool_use", "id": tool_id, "name": call.name, "input": input}],
            "model": model, "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
        }));
    }
    let deltas = ctx
        .chunks(&call.arguments)
        .into_iter()
        .map(|piece| json!({"type": "input_json_delta", "partial_json": piece}))
        .collect();
    let head = super::anthropic::Head {
        id: &id,
        model: &model,
        input_tokens,
        output_tokens,
    };
    let block = json!({"type": "tool_use", "id": tool_id, "name": call.name, "input": {}});
    super::anthropic::stream_one_block(ctx, &head, block, deltas, "tool_use")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn weather_openai(messages: Value, choice: Option<Value>) -> Value {
        let mut req = json!({"model": "m", "messages": messages, "tools": [
            {"type": "function", "function": {"name": "other", "parameters": {}}},
            {"type": "function", "function": {"name": "get_weather", "parameters": {
                "type": "object", "properties": {
                    "city": {"type": "string"}, "days": {"type": "integer"},
                    "metric": {"type": "boolean"}, "extra": {"type": "object"}}}}}]});
        if let Some(c) = choice {
            req["tool_choice"] = c;
        }
        req
    }

    #[test]
    fn openai_arguments_follow_the_schema_and_the_choice() {
        let user = json!([{"role": "user", "content": "Paris next week"}]);
        let named = json!({"type": "function", "function": {"name": "get_weather"}});
        let c = openai_call(&weather_openai(user.clone(), Some(named))).unwrap();
        assert_eq!(c.name, "get_weather");
        let args: Value = serde_json::from_str(&c.arguments).unwrap();
        assert_eq!(
            args,
            json!({"city": "Paris next week", "days": 3, "metric": true})
        );
        assert_eq!(
            openai_call(&weather_openai(user.clone(), None))
                .unwrap()
                .name,
            "other",
            "no choice: the first tool"
        );
        assert!(openai_call(&weather_openai(user, Some(json!("none")))).is_none());
        let answered = json!([{"role": "user", "content": "Paris"},
            {"role": "assistant", "tool_calls": []},
            {"role": "tool", "tool_call_id": "c1", "content": "sunny"}]);
        assert!(openai_call(&weather_openai(answered.clone(), None)).is_none());
        assert_eq!(
            openai_tool_result(&weather_openai(answered, None)).as_deref(),
            Some("sunny")
        );
    }

    #[test]
    fn anthropic_calls_until_a_tool_result_arrives() {
        let tools = json!([{"name": "lookup", "input_schema": {"type": "object",
            "properties": {"q": {"type": "string"}}}}]);
        let ask = json!({"tools": tools, "messages": [{"role": "user", "content": "find it"}]});
        let c = anthropic_call(&ask).unwrap();
        assert_eq!(
            (c.name.as_str(), c.arguments.as_str()),
            ("lookup", r#"{"q":"find it"}"#)
        );
        let mut none = ask.clone();
        none["tool_choice"] = json!({"type": "none"});
        assert!(anthropic_call(&none).is_none());
        let back = json!({"tools": tools, "messages": [
            {"role": "user", "content": "find it"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "lookup", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                "content": [{"type": "text", "text": "found"}]}]}]});
        assert!(anthropic_call(&back).is_none());
        assert_eq!(anthropic_tool_result(&back).as_deref(), Some("found"));
    }
}
