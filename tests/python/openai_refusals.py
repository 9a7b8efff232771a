"""Refusals as the `openai` SDK surfaces them: typed exceptions with the gateway's message.

Invalid JSON and oversized bodies cannot come out of the SDK's typed methods, so those go
through the SDK's own low-level `client.post(..., content=...)`, which maps statuses to the same
exception classes.
"""

from common import check, emit, expect_error, openai_client  # first: it explains a missing SDK

import openai

KEY_PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----"
# One byte over the gateway's default 32 MiB limit, as valid JSON.
OVERSIZED = 32 * 1024 * 1024 + 1


def main():
    client = openai_client()

    blocked = expect_error(
        openai.PermissionDeniedError,
        lambda: client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": f"Is this key still valid?\n{KEY_PEM}"}],
        ),
    )
    check(blocked.status_code == 403, f"status {blocked.status_code}")
    check("secrets.private-key" in blocked.message, blocked.message)
    check(blocked.code == "policy_blocked", f"code {blocked.code}")
    check(blocked.type == "permission_error", f"type {blocked.type}")
    check(blocked.response.headers.get("x-sovgate-error") == "policy_blocked", "header")

    invalid = expect_error(
        openai.BadRequestError,
        lambda: client.post("/chat/completions", cast_to=object, content=b'{"model": "gpt-4o", "messages": ['),
    )
    check(invalid.status_code == 400, f"status {invalid.status_code}")
    check(invalid.code == "invalid_json", f"code {invalid.code}")
    check(invalid.type == "invalid_request_error", f"type {invalid.type}")

    head = b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "'
    tail = b'"}]}'
    big = head + b"a" * (OVERSIZED - len(head) - len(tail)) + tail
    too_large = expect_error(
        openai.APIStatusError,
        lambda: client.post("/chat/completions", cast_to=object, content=big),
    )
    check(too_large.status_code == 413, f"status {too_large.status_code}")
    check(too_large.code == "body_too_large", f"code {too_large.code}")

    emit(
        {
            "blocked": {"status": blocked.status_code, "message": blocked.message},
            "invalid": {"status": invalid.status_code, "message": invalid.message},
            "too_large": {"status": too_large.status_code, "class": type(too_large).__name__},
        }
    )


main()
