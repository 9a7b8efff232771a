"""Chat completions through the gateway with the official `openai` SDK, as a customer writes them.

Usage: openai_chat.py {benign|privileged|email}
Each scenario sends one non-streaming and one streaming request and prints what the SDK
returned; the SDK must parse every answer and end every stream cleanly.
"""

import json
import sys

from common import Sent, check, emit, openai_client

PROMPTS = {
    "benign": "Summarize the Q3 roadmap for the northern region in one line.",
    # A Salesforce case as an integration would paste it: one field holds privileged strategy.
    "privileged": json.dumps(
        {
            "Id": "500x000000Abc",
            "Subject": "Supplier dispute",
            "Status": "Open",
            "legal_case_strategy__c": "Settle below 2M; argue laches.",
        }
    ),
    "email": "Draft a reply to jane.doe@example.com about the renewal.",
}


def complete(client, prompt):
    r = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": prompt}]
    )
    check(r.object == "chat.completion", f"object: {r.object}")
    check(len(r.choices) == 1, f"choices: {r.choices}")
    check(r.choices[0].finish_reason == "stop", f"finish: {r.choices[0].finish_reason}")
    return {"content": r.choices[0].message.content, "model": r.model}


def stream(client, prompt):
    pieces, finish, usage = [], None, None
    s = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": prompt}],
        stream=True,
        stream_options={"include_usage": True},
    )
    for chunk in s:
        if chunk.usage is not None:
            usage = chunk.usage.total_tokens
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append(choice.delta.content)
            if choice.finish_reason is not None:
                finish = choice.finish_reason
    # Reaching here means the SDK saw `[DONE]` (or the end of the body) without an error.
    check(finish == "stop", f"stream finish_reason: {finish}")
    check(usage is not None, "the usage chunk (choices: []) was not delivered")
    return {"content": "".join(pieces), "chunks": len(pieces)}


def main():
    scenario = sys.argv[1]
    prompt = PROMPTS[scenario]
    sent = Sent()
    client = openai_client(sent)
    plain = complete(client, prompt)
    streamed = stream(client, prompt)
    check(streamed["chunks"] > 1, f"answer was not streamed in pieces: {streamed}")
    emit({"prompt": prompt, "plain": plain, "stream": streamed, "sent": sent.hex()})


main()
