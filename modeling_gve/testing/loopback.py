# Copyright 2026 The GVE package authors. Apache-2.0.
"""An OpenAI-compatible chat server on 127.0.0.1, for tests, benchmarks and dry runs.

It speaks the same HTTP API as vLLM/SGLang (``POST /v1/chat/completions``), checks that each
request is a well-formed multimodal chat request (message parts, decodable base64 media),
and answers with schema-valid JSON built deterministically from the prompt, so a pipeline
run against it is reproducible. Per request key (the ``X-VSynFlow-Key`` header) a
``behaviour(key, attempt)`` function can make it answer malformed JSON, schema-invalid JSON,
slowly (past the client's timeout), or with HTTP 500, to exercise validation and retries.
It does not look at the media: it is not a captioner.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Literal

from ..synthesis.prompts import PromptLibrary

Behaviour = Literal["valid", "malformed", "invalid_schema", "slow", "error500"]
_WORDS = (
    "person walks across sunny street camera pans left crowd gathers near red car while music plays birds fly over "
    "green park children laugh dog runs after ball water splashes light fades slowly city skyline glows at dusk"
).split()


def answer_for(kind: str, prompt: str, library: PromptLibrary) -> dict:
    """A schema-valid answer for ``kind``: each property gets a word count inside its range,
    words picked deterministically from a hash of the prompt."""
    schema = library.templates[kind].schema
    digest = hashlib.sha256(prompt.encode()).digest()
    out = {}
    for i, (name, spec) in enumerate(schema["properties"].items()):
        low, high = spec.get("x-words", [5, 10])
        count = low + digest[i] % (high - low + 1)
        out[name] = " ".join(_WORDS[(digest[(i + j) % len(digest)] + j) % len(_WORDS)] for j in range(count))
    return out


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # many clients connect at once (the default backlog is 5)
    daemon_threads = True


class LoopbackChatServer:
    """A threaded HTTP server; use as a context manager.

    Args:
        behaviour: ``(key, attempt) -> Behaviour``; default: always ``"valid"``.
        port: the port on 127.0.0.1; 0 picks a free one.
        latency: seconds each answer takes (simulates generation time).
        slow_seconds: how long a ``"slow"`` answer takes.
        keep_bodies: keep the last request body per key in ``bodies`` (tests inspect them).

    Attributes:
        url: the ``base_url`` to give a client (``http://127.0.0.1:PORT/v1``).
        requests: ``Counter`` of requests per key; ``log``: ``(key, attempt, behaviour)`` per request.
    """

    def __init__(
        self,
        behaviour: Callable[[str, int], Behaviour] | None = None,
        *,
        port: int = 0,
        latency: float = 0.0,
        slow_seconds: float = 5.0,
        library: PromptLibrary | None = None,
        keep_bodies: bool = False,
    ):
        self.behaviour = behaviour or (lambda key, attempt: "valid")
        self.latency, self.slow_seconds = latency, slow_seconds
        self.library = library or PromptLibrary()
        self.requests: Counter = Counter()
        self.log: list[tuple[str, int, str]] = []
        self.keep_bodies = keep_bodies
        self.bodies: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> "LoopbackChatServer":
        self._thread = threading.Thread(target=self._server.serve_forever, name="loopback-chat", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        """A request-handler class bound to this server (http.server builds one handler per request)."""
        return type("BoundHandler", (_Handler,), {"owner": self})

    def respond(self, key: str, body: dict, prompt: str) -> tuple[int, dict | str]:
        """Record one valid chat request under ``key`` and build its ``(status, payload)``."""
        with self._lock:
            self.requests[key] += 1
            attempt = self.requests[key]
            what = self.behaviour(key, attempt)
            self.log.append((key, attempt, what))
            if self.keep_bodies:
                self.bodies[key] = body
        time.sleep(self.latency)
        if what == "slow":
            time.sleep(self.slow_seconds)
        if what == "error500":
            return 500, {"error": {"message": "internal error (simulated)"}}
        kind = key.split("/")[0] if key.split("/")[0] in self.library.templates else "video_captions"
        if what == "malformed":
            content = 'Sure! Here are the captions: {"1": "a man walks'  # cut off, not JSON
        elif what == "invalid_schema":
            content = json.dumps({"caption": "wrong key"})
        else:
            content = json.dumps(answer_for(kind, prompt, self.library))
        return 200, {
            "id": "chatcmpl-loopback",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", ""),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": len(content.split())},
        }


class _Handler(BaseHTTPRequestHandler):
    """``POST /v1/chat/completions``: checks the request, then lets ``owner.respond`` answer."""

    owner: LoopbackChatServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes

    def log_message(self, *args):  # quiet
        pass

    def _send(self, status: int, payload: dict | str) -> None:
        data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
            pass

    def do_POST(self):  # noqa: N802 - http.server API
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path.rstrip("/") != "/v1/chat/completions":
            return self._send(404, {"error": f"no route {self.path}"})
        try:
            body = json.loads(raw)
            prompt = check_request(body)
        except (ValueError, KeyError, TypeError) as err:
            return self._send(400, {"error": {"message": f"bad request: {err}"}})
        self._send(*self.owner.respond(self.headers.get("X-VSynFlow-Key", ""), body, prompt))


def check_request(body: dict) -> str:
    """Validate an OpenAI chat request with multimodal parts; returns the concatenated text.

    Raises:
        ValueError: not the chat-completions shape, unknown part types, undecodable media.
    """
    messages = body["messages"]
    if not isinstance(messages, list) or not messages:
        raise ValueError("messages must be a non-empty list")
    texts = []
    for message in messages:
        content = message["content"]
        if isinstance(content, str):
            texts.append(content)
            continue
        for part in content:
            kind = part["type"]
            if kind == "text":
                texts.append(part["text"])
            elif kind in ("image_url", "video_url"):
                url = part[kind]["url"]
                if url.startswith("data:"):
                    header, _, data = url.partition(",")
                    if ";base64" not in header or not base64.b64decode(data, validate=True):
                        raise ValueError(f"{kind}: empty or non-base64 data URL")
                elif not url.startswith(("file://", "http://", "https://")):
                    raise ValueError(f"{kind}: unsupported URL {url[:40]!r}")
            else:
                raise ValueError(f"unknown content part type {kind!r}")
    return "".join(texts)


def main(argv: list[str] | None = None) -> int:
    """``python -m modeling_gve.testing.loopback [--port 8000]``: serve until Ctrl-C (V-SynFlow without a GPU)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m modeling_gve.testing.loopback", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds each answer takes")
    args = parser.parse_args(argv)
    with LoopbackChatServer(port=args.port, latency=args.latency) as server:
        print(f"serving an OpenAI-compatible chat API at {server.url} (Ctrl-C stops)", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


__all__ = ["LoopbackChatServer", "answer_for", "check_request", "main"]

if __name__ == "__main__":
    raise SystemExit(main())
