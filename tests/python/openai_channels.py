"""Findings outside the body, as an integration sends them with the official `openai` SDK: a CRM
note in a custom header and a contact in a query parameter (`extra_headers`, `extra_query`).

Usage: openai_channels.py {finding|benign}
Prints what the SDK returned; the Rust side checks what reached the stand-ins.
"""

import sys

from common import check, emit, openai_client

NOTES = {
    "finding": ("Contact jane.doe@example.com re renewal", "jane.doe@example.com"),
    "benign": ("renewal call went well", "renewal"),
}


def main():
    header, query = NOTES[sys.argv[1]]
    client = openai_client()
    r = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Summarize the Q3 roadmap in one line."}],
        extra_headers={"x-crm-note": header, "x-team": "sales"},
        extra_query={"note": query, "ref": "a/b c"},
    )
    check(r.object == "chat.completion", f"object: {r.object}")
    check(r.choices[0].finish_reason == "stop", f"finish: {r.choices[0].finish_reason}")
    emit({"content": r.choices[0].message.content})


main()
