"""The Messages API through the gateway with the official `anthropic` SDK.

Usage: anthropic_messages.py {benign|privileged|refusal}
"""

import sys

from common import Sent, anthropic_client, check, emit, expect_error  # first: it explains a missing SDK

import anthropic

PROMPTS = {
    "benign": "Write a haiku about the quarterly planning offsite.",
    "privileged": "ATTORNEY-CLIENT PRIVILEGED: summarize our exposure in the Henderson matter.",
}
MODEL = "claude-sonnet-4-5"


def create(client, prompt):
    m = client.messages.create(
        model=MODEL, max_tokens=256, messages=[{"role": "user", "content": prompt}]
    )
    check(m.type == "message" and m.role == "assistant", f"{m}")
    check(m.stop_reason == "end_turn", f"stop_reason {m.stop_reason}")
    return {"content": "".join(b.text for b in m.content if b.type == "text"), "model": m.model}


def stream(client, prompt):
    pieces = []
    with client.messages.stream(
        model=MODEL, max_tokens=256, messages=[{"role": "user", "content": prompt}]
    ) as s:
        for text in s.text_stream:
            pieces.append(text)
        final = s.get_final_message()
    check(final.stop_reason == "end_turn", f"final stop_reason {final.stop_reason}")
    joined = "".join(pieces)
    check(final.content[0].text == joined, "final message differs from the streamed text")
    return {"content": joined, "chunks": len(pieces)}


def refusal(client):
    e = expect_error(
        anthropic.PermissionDeniedError,
        lambda: client.messages.create(
            model=MODEL,
            max_tokens=64,
            messages=[
                {
                    "role": "user",
                    "content": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
                }
            ],
        ),
    )
    check(e.status_code == 403, f"status {e.status_code}")
    check(e.body["type"] == "error", f"{e.body}")
    check(e.body["error"]["type"] == "permission_error", f"{e.body}")
    check("secrets.private-key" in e.body["error"]["message"], f"{e.body}")
    return {"status": e.status_code, "message": e.body["error"]["message"]}


def main():
    scenario = sys.argv[1]
    sent = Sent()
    client = anthropic_client(sent)
    if scenario == "refusal":
        emit({"refusal": refusal(client), "sent": sent.hex()})
        return
    prompt = PROMPTS[scenario]
    plain = create(client, prompt)
    streamed = stream(client, prompt)
    check(streamed["chunks"] > 1, f"answer was not streamed in pieces: {streamed}")
    emit({"prompt": prompt, "plain": plain, "stream": streamed, "sent": sent.hex()})


main()
