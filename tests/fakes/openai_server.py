"""A real HTTP server that speaks the OpenAI chat-completions protocol, with scripted faults.

Tests and the fault benchmark point `LLMResource(backend="openai", base_url=...)` at it. Each
request takes the next scripted action ("ok", "429", "500", "timeout", "malformed", "truncated"); when
the script is exhausted, `default` applies, or faults are drawn at the configured rates. The answer
content comes from `respond(messages)`, so answers depend on the prompt like a model's would.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Respond = Callable[[list[dict[str, Any]]], str]
FAULTS = ("429", "500", "timeout", "malformed", "truncated")


class FakeChatServer:
    def __init__(self, respond: Respond, script: list[str] | None = None, default: str = "ok",
                 rates: dict[str, float] | None = None, seed: int = 0, hang_s: float = 5.0):
        self.respond = respond
        self.script = list(script or [])
        self.default = default
        self.rates = rates or {}
        self.hang_s = hang_s
        self.requests: list[dict[str, Any]] = []
        self.actions: list[str] = []
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
                action = server._next_action(body)
                server._serve(self, action, body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    @property
    def calls(self) -> int:
        return len(self.requests)

    # -- behaviour --------------------------------------------------------------------------------

    def _next_action(self, body: dict[str, Any]) -> str:
        with self._lock:
            self.requests.append(body)
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
        if action in ("429", "500"):
            payload = json.dumps({"error": {"message": f"injected {action}", "type": "fault"}}).encode()
            handler.send_response(int(action))
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
            return
        if action == "timeout":
            time.sleep(self.hang_s)
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
            pass  # the client gave up (timeout): that is the point of the fault
