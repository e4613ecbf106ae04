"""A fault-injecting model server: a real HTTP server that speaks the OpenAI chat-completions
protocol and fails the way hosted models do.

Tests and bench/bench_faults.py point `LLMResource(backend="openai", base_url=...)` at it. Each
request takes the next scripted action ("ok", "429", "500", "timeout", "malformed", "truncated",
"quote_key"); when the script is exhausted, `default` applies, or faults are drawn at the configured
rates. "quote_key" answers 400 with the request's API key in the message, as some gateways do when
they reject a key, so a test can check that no secret is stored or logged. The answer
content comes from `respond(messages)`, so answers depend on the prompt like a model's would;
`delay_s` makes every answer slow (a run can be killed while calls are in flight).

Every request is logged with its conversation (the messages before the first assistant turn, so a
retry and a validation re-ask of one prompt share it): `repeated_after(snapshot)` counts prompts
asked again after they had been answered, which a response cache must keep at zero.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Respond = Callable[[list[dict[str, Any]]], str]
FAULTS = ("429", "500", "timeout", "malformed", "truncated", "quote_key")


def start_http_server(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """`handler` served on a free local port from a daemon thread."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def stop_http_server(httpd: ThreadingHTTPServer | None) -> None:
    if httpd:
        httpd.shutdown()
        httpd.server_close()


def conversation_key(messages: list[dict[str, Any]]) -> str:
    """The prompt a request answers: its messages up to the first assistant turn."""
    head = []
    for m in messages:
        if m.get("role") == "assistant":
            break
        head.append(m)
    return hashlib.sha256(json.dumps(head, sort_keys=True).encode()).hexdigest()[:16]


class FakeChatServer:
    def __init__(self, respond: Respond, script: list[str] | None = None, default: str = "ok",
                 rates: dict[str, float] | None = None, seed: int = 0, hang_s: float = 5.0,
                 delay_s: float = 0.0):
        self.respond = respond
        self.script = list(script or [])
        self.default = default
        self.rates = rates or {}
        self.hang_s = hang_s
        self.delay_s = delay_s
        self.requests: list[dict[str, Any]] = []
        self.actions: list[str] = []
        self.keys: list[str] = []  # conversation of each request
        self.authorization: list[str] = []  # the Authorization header of each request
        self.answered: set[str] = set()  # conversations that got a complete answer
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    # -- lifecycle --------------------------------------------------------------------------------

    def __enter__(self) -> FakeChatServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                server.authorization.append(self.headers.get("Authorization", ""))
                action = server._next_action(body)
                server._serve(self, action, body)

        self._httpd = start_http_server(Handler)
        return self

    def __exit__(self, *exc) -> None:
        stop_http_server(self._httpd)

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    @property
    def calls(self) -> int:
        return len(self.requests)

    @property
    def faults(self) -> int:
        return sum(1 for a in self.actions if a != "ok")

    def snapshot(self) -> tuple[int, frozenset[str]]:
        """(requests so far, conversations answered so far), for `repeated_after`."""
        with self._lock:
            return len(self.requests), frozenset(self.answered)

    def repeated_after(self, snapshot: tuple[int, frozenset[str]]) -> int:
        """Requests since `snapshot` for prompts that had been answered before it."""
        start, answered = snapshot
        with self._lock:
            return sum(1 for k in self.keys[start:] if k in answered)

    # -- behaviour --------------------------------------------------------------------------------

    def _next_action(self, body: dict[str, Any]) -> str:
        with self._lock:
            self.requests.append(body)
            self.keys.append(conversation_key(body.get("messages", [])))
            if self.script:
                action = self.script.pop(0)
            else:
                action = self.default
                roll = self._rng.random()
                for fault in FAULTS:
                    rate = self.rates.get(fault, 0.0)
                    if roll < rate:
                        action = fault
                        break
                    roll -= rate
            self.actions.append(action)
            return action

    def _serve(self, handler: BaseHTTPRequestHandler, action: str, body: dict[str, Any]) -> None:
        if action in ("429", "500", "quote_key"):
            if action == "quote_key":
                key = handler.headers.get("Authorization", "").removeprefix("Bearer ")
                status, message = 400, f"Incorrect API key provided: {key}. Headers: Authorization: Bearer {key}"
            else:
                status, message = int(action), f"injected {action}"
            payload = json.dumps({"error": {"message": message, "type": "fault"}}).encode()
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
            return
        time.sleep(self.hang_s if action == "timeout" else self.delay_s)
        content = self.respond(body.get("messages", []))
        finish = "stop"
        if action == "malformed":
            content = content[: max(1, len(content) // 2)] + "}{ not json"
        elif action == "truncated":
            content = content[: max(1, len(content) // 2)]
            finish = "length"
        payload = json.dumps({
            "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": 0,
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": finish}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }).encode()
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            return  # the client gave up (timeout) or was killed: that is the point of the fault
        if action == "ok":
            with self._lock:
                self.answered.add(conversation_key(body.get("messages", [])))
