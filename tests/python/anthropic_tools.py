"""Tool use with the official `anthropic` SDK, served by an OpenAI-only pool through the gateway.

The stub behind the gateway speaks OpenAI chat completions only and calls the offered tool
(string properties get the user's text, see gateway/stub/tools.rs); the gateway translates both
ways. Every turn is made plain and streamed: the raw stream must parse into the SDK's typed
events one by one, and the SDK's own accumulator must rebuild the tool input from the
`input_json_delta` fragments.

Usage: anthropic_tools.py
"""

from common import Sent, anthropic_client, check, emit  # first: it explains a missing SDK

MODEL = "claude-sonnet-4-5"
PROMPT = "ATTORNEY-CLIENT PRIVILEGED: weather in Paris for the deposition?"
RESULT = "Sunny, 21 degrees"
TOOLS = [
    {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "input_schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"],
        },
    }
]
# What the stub derives from the schema: the text for strings, its word count for integers.
EXPECTED_INPUT = {"city": PROMPT, "days": len(PROMPT.split())}

RAW_TYPES = {
    "message_start": "RawMessageStartEvent",
    "content_block_start": "RawContentBlockStartEvent",
    "content_block_delta": "RawContentBlockDeltaEvent",
    "content_block_stop": "RawContentBlockStopEvent",
    "message_delta": "RawMessageDeltaEvent",
    "message_stop": "RawMessageStopEvent",
}


def ask():
    return [{"role": "user", "content": PROMPT}]


def answer(tool_use_id):
    """The conversation after the model called the tool, with the tool's result."""
    return ask() + [
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": tool_use_id, "name": "get_weather", "input": EXPECTED_INPUT}
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": tool_use_id, "content": RESULT}],
        },
    ]


def plain_call(client):
    m = client.messages.create(model=MODEL, max_tokens=256, tools=TOOLS, messages=ask())
    check(m.stop_reason == "tool_use", f"stop_reason {m.stop_reason}")
    blocks = [b for b in m.content if b.type == "tool_use"]
    check(len(blocks) == 1, f"{m.content}")
    b = blocks[0]
    check(b.name == "get_weather", f"{b}")
    check(b.input == EXPECTED_INPUT, f"tool input {b.input!r}")
    check(m.usage.input_tokens > 0 and m.usage.output_tokens > 0, f"{m.usage}")
    return {"id": b.id, "input": b.input, "model": m.model}


def raw_stream(client):
    """Every event as the SDK parsed it, with its class name."""
    events = []
    partial = []
    stop_reason = None
    output_tokens = None
    with client.messages.create(
        model=MODEL, max_tokens=256, tools=TOOLS, messages=ask(), stream=True
    ) as stream:
        for ev in stream:
            cls = type(ev).__name__
            check(RAW_TYPES.get(ev.type) == cls, f"{ev.type} parsed as {cls}")
            events.append(ev.type)
            if ev.type == "content_block_start":
                check(ev.content_block.type == "tool_use", f"{ev}")
                check(ev.content_block.name == "get_weather", f"{ev}")
            if ev.type == "content_block_delta":
                check(type(ev.delta).__name__ == "InputJSONDelta", f"{ev.delta}")
                partial.append(ev.delta.partial_json)
            if ev.type == "message_delta":
                stop_reason = ev.delta.stop_reason
                output_tokens = ev.usage.output_tokens
    check(stop_reason == "tool_use", f"stop_reason {stop_reason}")
    check(output_tokens and output_tokens > 0, f"usage {output_tokens}")
    return {"events": events, "partial_json": partial, "output_tokens": output_tokens}


def helper_stream(client, messages):
    """The SDK's accumulating stream helper; returns the final message it rebuilt."""
    kinds = set()
    with client.messages.stream(model=MODEL, max_tokens=256, tools=TOOLS, messages=messages) as s:
        for ev in s:
            kinds.add(ev.type)
        return s.get_final_message(), sorted(kinds)


def main():
    sent = Sent()
    client = anthropic_client(sent)
    plain = plain_call(client)
    raw = raw_stream(client)
    final, kinds = helper_stream(client, ask())
    check(final.stop_reason == "tool_use", f"final stop_reason {final.stop_reason}")
    tool = [b for b in final.content if b.type == "tool_use"][0]
    check(tool.input == EXPECTED_INPUT, f"accumulated input {tool.input!r}")
    check("input_json" in kinds, f"helper events {kinds}")

    followup = client.messages.create(
        model=MODEL, max_tokens=256, tools=TOOLS, messages=answer(plain["id"])
    )
    check(followup.stop_reason == "end_turn", f"follow-up stop_reason {followup.stop_reason}")
    streamed, _ = helper_stream(client, answer(tool.id))
    check(streamed.stop_reason == "end_turn", f"streamed follow-up {streamed.stop_reason}")
    emit(
        {
            "plain": plain,
            "raw": raw,
            "helper": {"id": tool.id, "input": tool.input, "events": kinds},
            "followup": {
                "plain": "".join(b.text for b in followup.content if b.type == "text"),
                "stream": "".join(b.text for b in streamed.content if b.type == "text"),
            },
            "prompt": PROMPT,
            "result": RESULT,
            "sent": sent.hex(),
        }
    )


main()
