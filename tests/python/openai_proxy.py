"""The `openai` SDK through Sovgate's forward proxy, configured only by the environment, as a
network team deploys it: HTTPS_PROXY points at the forward listener and SSL_CERT_FILE at the
company CA. The client keeps the provider's real URL (https://api.openai.com/v1, given as
SOVGATE_URL); Sovgate intercepts the CONNECT, terminates TLS with a certificate minted from the
CA, and inspects every request.

Usage: openai_proxy.py {benign|privileged|email}
Runs the chat scenarios of openai_chat.py (one plain, one streamed request) unchanged.
"""

import os
import runpy
import sys

from common import check

check(os.environ.get("HTTPS_PROXY", "").startswith("http://"), "HTTPS_PROXY is not set")
check(os.path.isfile(os.environ.get("SSL_CERT_FILE", "")), "SSL_CERT_FILE is not a file")
check(os.environ["SOVGATE_URL"].startswith("https://"), "the client must speak TLS end to end")

runpy.run_path(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "openai_chat.py"),
    run_name="__main__",
)
