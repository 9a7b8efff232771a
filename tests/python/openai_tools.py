"""Tool calls with the official `openai` SDK, served by a pool configured `api = "anthropic"`.

The stub behind the gateway speaks only the Anthropic Messages API here and calls the offered
tool (string properties get the user's text, see gateway/stub/tools.rs); the gateway translates
both ways. Plain and streamed: the streamed tool call is rebuilt from its chunk deltas exactly as
an application does it.

Usage: openai_tools.py
"""

import json

from common import Sent, check, emit, openai_client  # first: it explains a missing SDK

MODEL = "gpt-4o"
PROMPT = "ATTORNEY-CLIENT PRIVILEGED: look up the Henderson docket"
RESULT = "Docket 24-117, hearing on 3 March"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "search_docket",
            "description": "Searches the court docket.",
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string"}, "exact": {"type": "boolean"}},
                "required": ["query"],
            },
        },
    }
]
EXPECTED_ARGS = {"query": PROMPT, "exact": True}


def ask():
    return [{"role": "user", "content": PROMPT}]


def answer(call_id, arguments):
    return ask() + [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": "search_docket", "arguments": arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call_id, "content": RESULT},
    ]


def plain_call(client):
    r = client.chat.completions.create(model=MODEL, messages=ask(), tools=TOOLS)
    choice = r.choices[0]
    check(choice.finish_reason == "tool_calls", f"finish_reason {choice.finish_reason}")
    calls = choice.message.tool_calls
    check(calls and len(calls) == 1, f"{choice.message}")
    c = calls[0]
    check(c.type == "function" and c.function.name == "search_docket", f"{c}")
    check(json.loads(c.function.arguments) == EXPECTED_ARGS, f"arguments {c.function.arguments}")
    check(r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0, f"{r.usage}")
    return {"id": c.id, "arguments": c.function.arguments}


def streamed_call(client):
    calls = {}
    finish = None
    usage = None
    chunks = 0
    stream = client.chat.completions.create(
        model=MODEL, messages=ask(), tools=TOOLS, stream=True, stream_options={"include_usage": True}
    )
    for chunk in stream:
        chunks += 1
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            for d in choice.delta.tool_calls or []:
                slot = calls.setdefault(d.index, {"id": None, "name": None, "arguments": ""})
                if d.id:
                    slot["id"] = d.id
                if d.function and d.function.name:
                    slot["name"] = d.function.name
                if d.function and d.function.arguments:
                    slot["arguments"] += d.function.arguments
            if choice.finish_reason:
                finish = choice.finish_reason
    check(finish == "tool_calls", f"finish_reason {finish}")
    check(list(calls) == [0], f"{calls}")
    c = calls[0]
    check(c["name"] == "search_docket" and c["id"], f"{c}")
    check(json.loads(c["arguments"]) == EXPECTED_ARGS, f"streamed arguments {c['arguments']}")
    check(usage is not None and usage.completion_tokens > 0, f"usage {usage}")
    return {"id": c["id"], "arguments": c["arguments"], "chunks": chunks}


def main():
    sent = Sent()
    client = openai_client(sent)
    plain = plain_call(client)
    streamed = streamed_call(client)
    followup = client.chat.completions.create(
        model=MODEL, messages=answer(plain["id"], plain["arguments"]), tools=TOOLS
    )
    check(followup.choices[0].finish_reason == "stop", f"{followup.choices[0]}")
    pieces = []
    for chunk in client.chat.completions.create(
        model=MODEL, messages=answer(streamed["id"], streamed["arguments"]), tools=TOOLS, stream=True
    ):
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append(choice.delta.content)
    emit(
        {
            "plain": plain,
            "stream": streamed,
            "followup": {
                "plain": followup.choices[0].message.content,
                "stream": "".join(pieces),
            },
            "prompt": PROMPT,
            "result": RESULT,
            "sent": sent.hex(),
        }
    )


main()
