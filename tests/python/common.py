"""What every SDK scenario shares: clients aimed at the gateway, a recorder of the exact bytes
the SDK put on the wire, and the one JSON object a scenario prints for the Rust side to check.

The scenarios assert SDK-level facts themselves (an exception's class, status and message); the
Rust test that started them asserts what the recording stubs behind the gateway received.
"""

import json
import os
import sys

try:
    import anthropic
    import openai
except ImportError as missing:
    # Exit code 3 tells the Rust side to explain how to create the virtual environment.
    sys.stderr.write(f"SOVGATE_SDK_MISSING: {missing}\n")
    sys.exit(3)

URL = os.environ["SOVGATE_URL"]
# Any key: the gateway replaces client credentials with its own provider keys.
KEY = "sk-anything"


class Sent:
    """Keeps a copy of each request body the SDK sends, as bytes on the wire."""

    def __init__(self):
        self.bodies = []

    def hook(self, request):
        self.bodies.append(request.read())

    def hex(self):
        return [b.hex() for b in self.bodies]


def openai_client(sent=None):
    hooks = {"request": [sent.hook]} if sent else {}
    return openai.OpenAI(
        base_url=f"{URL}/v1",
        api_key=KEY,
        # A retry would hide a refusal behind a second identical call and double the stub's counts.
        max_retries=0,
        timeout=30,
        http_client=openai.DefaultHttpxClient(event_hooks=hooks),
    )


def anthropic_client(sent=None):
    hooks = {"request": [sent.hook]} if sent else {}
    return anthropic.Anthropic(
        base_url=URL,
        api_key=KEY,
        max_retries=0,
        timeout=30,
        http_client=anthropic.DefaultHttpxClient(event_hooks=hooks),
    )


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def expect_error(cls, call):
    """Runs `call`, which must raise `cls`; returns the exception."""
    try:
        got = call()
    except cls as e:
        return e
    raise AssertionError(f"expected {cls.__name__}, got a result: {got!r}")


def emit(result):
    """The scenario's result, one JSON object on stdout, read by tests/sdk.rs."""
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    sys.stdout.flush()
