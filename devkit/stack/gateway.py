"""API Gateway (a REST API with Lambda proxy integrations) in front of Lambda handlers, as a WSGI application.

A request becomes the proxy event API Gateway sends the function serving its route, and the handler's answer
becomes the response, so that an HTTP client (schemathesis, in tests/integration/test_openapi_conformance.py)
reaches the real handlers in process. As API Gateway does: ``path`` is the path as sent, still percent-encoded;
``pathParameters`` and query values are decoded; a path no route declares is 403 "Missing Authentication Token".
A body that is not UTF-8 is passed base64-encoded, as for a binary media type.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as the template declares it: /vendors/exsalerate/customers/{key}
    handler: Handler

    def parameters(self, method: str, path: str) -> dict[str, str] | None:
        """The route's path parameters, decoded, when it serves ``method`` ``path`` (still encoded); else None."""
        declared, sent = self.path.split("/"), path.split("/")
        if method != self.method or len(declared) != len(sent):
            return None
        parameters = {}
        for segment, value in zip(declared, sent, strict=True):
            if segment.startswith("{") and segment.endswith("}"):
                if not value:
                    return None
                parameters[segment[1:-1]] = unquote(value)
            elif segment != value:
                return None
        return parameters


class Gateway:
    def __init__(self, routes: Iterable[Route], context: Any, stage: str = "local") -> None:
        self.routes = list(routes)
        self.context = context
        self.stage = stage

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        path = str(environ.get("RAW_URI") or quote(request.path)).split("?", 1)[0]
        for route in self.routes:
            parameters = route.parameters(request.method, path)
            if parameters is not None:
                # An exception escapes, as a function error does (API Gateway would answer 502): the test sees it.
                answer = route.handler(self.event(request, route, path, parameters), self.context)
                return self.response(answer)(environ, start_response)
        return Response('{"message":"Missing Authentication Token"}', 403, content_type="application/json")(
            environ, start_response
        )

    def event(self, request: Request, route: Route, path: str, parameters: Mapping[str, str]) -> dict[str, Any]:
        headers = {name: request.headers.getlist(name) for name in request.headers.keys()}  # noqa: SIM118 - a MultiDict
        query = {name: request.args.getlist(name) for name in request.args}
        raw = request.get_data()
        try:
            body, encoded = raw.decode("utf-8"), False
        except UnicodeDecodeError:
            body, encoded = base64.b64encode(raw).decode(), True
        return {
            "resource": route.path,
            "path": path,
            "httpMethod": request.method,
            "headers": {name: values[-1] for name, values in headers.items()},
            "multiValueHeaders": headers,
            "queryStringParameters": {name: values[-1] for name, values in query.items()} or None,
            "multiValueQueryStringParameters": query or None,
            "pathParameters": dict(parameters) or None,
            "stageVariables": None,
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "stage": self.stage,
                "httpMethod": request.method,
                "path": f"/{self.stage}{path}",
                "resourcePath": route.path,
                "domainName": request.host,
            },
            "body": body if raw else None,
            "isBase64Encoded": encoded,
        }

    @staticmethod
    def response(answer: Mapping[str, Any]) -> Response:
        body = answer.get("body") or ""
        content = base64.b64decode(body) if answer.get("isBase64Encoded") else str(body).encode()
        response = Response(content, status=int(answer["statusCode"]))
        response.headers.clear()
        for name, values in (answer.get("multiValueHeaders") or {}).items():
            for value in values:
                response.headers.add(name, value)
        for name, value in (answer.get("headers") or {}).items():
            response.headers.setdefault(name, value)
        return response
