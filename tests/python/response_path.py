"""The response path as the official SDKs read it: restored pseudonyms and response rules in
streamed answers (OpenAI chat, OpenAI Responses API, Anthropic Messages).

Usage: response_path.py {restore|block}

restore: the user's address comes back restored, the code name redacted, and every stream ends
properly (`[DONE]`, `response.completed`, `message_stop`) as the SDK reads it; the raw bytes the
SDK parsed are kept too, to show the terminator really arrived.
block: the answer holds a secret a response rule blocks; each SDK surfaces the error event the
gateway ends the stream with, and never the secret.
"""

import sys

import anthropic
import httpx2 as httpx  # the HTTP client of these SDK versions (requirements.txt)
import openai

from common import URL, KEY, check, emit

EMAIL = "jane.doe@example.com"
PROMPTS = {
    "restore": f"Reply to {EMAIL} about Falcon kindly",
    "block": f"Reply to {EMAIL} with TOPSECRET at once",
}
REDACTED = "[REDACTED:out.falcon]"


class Tee(httpx.HTTPTransport):
    """A transport that keeps a copy of every response body as the SDK reads it."""

    def __init__(self):
        super().__init__()
        self.bodies = []

    def handle_request(self, request):
        response = super().handle_request(request)
        raw = bytearray()
        self.bodies.append(raw)
        inner = response.stream

        class Recorded(httpx.SyncByteStream):
            def __iter__(self):
                for chunk in inner:
                    raw.extend(chunk)
                    yield chunk

            def close(self):
                inner.close()

        response.stream = Recorded()
        return response

    def last(self):
        return bytes(self.bodies[-1]).decode("utf-8", "replace")


def openai_client(tee):
    return openai.OpenAI(
        base_url=f"{URL}/v1",
        api_key=KEY,
        max_retries=0,
        timeout=30,
        http_client=openai.DefaultHttpxClient(transport=tee),
    )


def anthropic_client(tee):
    return anthropic.Anthropic(
        base_url=URL,
        api_key=KEY,
        max_retries=0,
        timeout=30,
        http_client=anthropic.DefaultHttpxClient(transport=tee),
    )


def chat_stream(client, tee, prompt):
    pieces, finish, error = [], None, None
    try:
        s = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": prompt}], stream=True
        )
        for chunk in s:
            for choice in chunk.choices:
                if choice.delta.content:
                    pieces.append(choice.delta.content)
                if choice.finish_reason is not None:
                    finish = choice.finish_reason
    except openai.APIError as e:
        error = {"class": type(e).__name__, "message": str(e.message)}
    raw = tee.last()
    return {
        "text": "".join(pieces),
        "finish": finish,
        "done": raw.rstrip().endswith("data: [DONE]"),
        "error": error,
        "raw": raw,
    }


def responses_stream(client, tee, prompt):
    deltas, types, final, error = [], [], None, None
    with client.responses.stream(model="gpt-4o", input=prompt) as s:
        for event in s:
            types.append(event.type)
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
            if event.type == "error":
                error = {"code": event.code, "message": event.message}
        if "response.completed" in types:
            final = s.get_final_response().output_text
    return {
        "text": "".join(deltas),
        "final": final,
        "types": types,
        "error": error,
        "raw": tee.last(),
    }


def anthropic_stream(client, tee, prompt):
    pieces, stop, error = [], None, None
    try:
        with client.messages.stream(
            model="claude-3-5-sonnet-latest",
            max_tokens=256,
            messages=[{"role": "user", "content": prompt}],
        ) as s:
            for text in s.text_stream:
                pieces.append(text)
            final = s.get_final_message()
            stop = final.stop_reason
            check(final.content[0].text == "".join(pieces), "final message differs from the stream")
    except anthropic.APIError as e:
        error = {"class": type(e).__name__, "message": str(e.message)}
    raw = tee.last()
    return {
        "text": "".join(pieces),
        "stop": stop,
        "message_stop": "event: message_stop" in raw,
        "error": error,
        "raw": raw,
    }


def restore(results):
    chat, resp, msgs = results["chat"], results["responses"], results["anthropic"]
    for name, r in results.items():
        check(EMAIL in r["text"], f"{name}: the restored address is missing: {r['text']!r}")
        check(REDACTED in r["text"], f"{name}: the code name was not redacted: {r['text']!r}")
        check("Falcon" not in r["raw"] and "\u27e6" not in r["raw"], f"{name}: {r['raw']!r}")
        check(r["error"] is None, f"{name}: unexpected error {r['error']}")
    check(chat["finish"] == "stop" and chat["done"], f"chat stream did not end properly: {chat}")
    check(resp["types"][-1] == "response.completed", f"responses: {resp['types']}")
    check(resp["final"] == resp["text"], f"responses final {resp['final']!r} vs {resp['text']!r}")
    check(msgs["stop"] == "end_turn" and msgs["message_stop"], f"anthropic: {msgs}")


def block(results):
    chat, resp, msgs = results["chat"], results["responses"], results["anthropic"]
    for name, r in results.items():
        check("TOPSECRET" not in r["raw"], f"{name}: the secret reached the client")
        check(r["error"] is not None, f"{name}: no error surfaced: {r}")
        check("out.secret" in r["error"]["message"], f"{name}: {r['error']}")
    check(not chat["done"], "a blocked chat stream must not end with [DONE]")
    check(chat["error"]["class"] == "APIError", f"chat: {chat['error']}")
    check(resp["error"]["code"] == "output_blocked", f"responses: {resp['error']}")
    check("response.completed" not in resp["types"], f"responses: {resp['types']}")
    check(not msgs["message_stop"], "a blocked anthropic stream must not end with message_stop")


def main():
    scenario = sys.argv[1]
    prompt = PROMPTS[scenario]
    results = {}
    tee = Tee()
    results["chat"] = chat_stream(openai_client(tee), tee, prompt)
    tee = Tee()
    results["responses"] = responses_stream(openai_client(tee), tee, prompt)
    tee = Tee()
    results["anthropic"] = anthropic_stream(anthropic_client(tee), tee, prompt)
    {"restore": restore, "block": block}[scenario](results)
    for r in results.values():
        del r["raw"]
    emit(results)


main()
