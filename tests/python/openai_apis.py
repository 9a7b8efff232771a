"""Embeddings and the Responses API through the gateway with the official `openai` SDK.

Usage: openai_apis.py {benign|ssn}
"""

import sys

from common import Sent, check, emit, openai_client

INPUTS = {
    "benign": "Outline a launch plan for the new analytics dashboard.",
    "ssn": "Update the payroll record for SSN 123-45-6789 to the new address.",
}


def main():
    scenario = sys.argv[1]
    text = INPUTS[scenario]
    sent = Sent()
    client = openai_client(sent)
    out = {"input": text}
    if scenario == "benign":
        e = client.embeddings.create(model="text-embedding-3-small", input=[text, "second"])
        check(len(e.data) == 2, f"{e}")
        check(all(len(d.embedding) == 8 for d in e.data), "the stub's 8-dimensional vectors")
        check(e.data[0].embedding != e.data[1].embedding, "distinct inputs, distinct vectors")
        out["embeddings"] = len(e.data)
    r = client.responses.create(model="gpt-4o", input=text)
    check(r.status == "completed", f"status {r.status}")
    out["responses"] = {"text": r.output_text, "model": r.model}
    out["sent"] = sent.hex()
    emit(out)


main()
