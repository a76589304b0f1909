"""A pass-through HTTP proxy in front of an AWS endpoint (moto) that can refuse every request for a while,
as a DynamoDB outage looks to its clients: ``ServiceUnavailable``, 503. Point one service at it with
``AWS_ENDPOINT_URL_<SERVICE>`` (botocore's per-service endpoint variable)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from typing import Any

import httpx
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "content-encoding"}
# The request keeps its Host: SigV4 signs it, and moto checks the signature when it enforces IAM.
_NOT_FORWARDED = _HOP_BY_HOP - {"host"}


class OutageProxy:
    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self.refused = 0
        self._refuse_until = 0.0
        self._refuse_at_most_until = 0.0
        self._refused_by_then = 0
        self._client = httpx.Client(timeout=30)
        self._server = make_server("127.0.0.1", 0, self, threaded=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="outage-proxy", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}"

    def start(self) -> OutageProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._client.close()

    def refuse_for(self, seconds: float, at_least: int = 1, longest: float = 60.0) -> None:
        """Refuse every request for ``seconds``, and on until ``at_least`` were refused (a loaded machine may send
        none for a while), ``longest`` seconds at most."""
        now = time.monotonic()
        self._refuse_until = now + seconds
        self._refuse_at_most_until = now + max(seconds, longest)
        self._refused_by_then = self.refused + at_least

    @property
    def refusing(self) -> bool:
        now = time.monotonic()
        if now < self._refuse_until:
            return True
        return self.refused < self._refused_by_then and now < self._refuse_at_most_until

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        if self.refusing:
            self.refused += 1
            body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ServiceUnavailable", "message": "outage"})
            response = Response(body, status=503, content_type="application/x-amz-json-1.0")
            return response(environ, start_response)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _NOT_FORWARDED}
        answer = self._client.request(
            request.method, f"{self.target}{request.full_path.rstrip('?')}", headers=headers, content=request.get_data()
        )
        passed = [(k, v) for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP]
        return Response(answer.content, status=answer.status_code, headers=passed)(environ, start_response)
