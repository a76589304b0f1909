"""What a vendor would receive, exactly, with its secrets masked: the sync API's ``?dryRun=true`` (and through it
``custsync preview``).

Each call of the planned request goes through the connector's own ``send``, its real clients and transport, in a
dry run (``custsync/transport/dryrun.py``): the request that would change something is recorded at the transport,
on the wire as it would be (auth applied, every header, the body: JSON, a SOAP envelope, an XML-RPC call), and
not sent. What only reads (a token) is made. The recorded request is then masked: credentials headers, any
header, query parameter, JSON key or XML element named like a secret (``password``, ``api_key``, ``token``...)
and every value of the vendor's secret held under such a name, wherever it appears.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from custsync.connector import Connector, SyncContext, VendorRequest
from custsync.transport.dryrun import NotSent, capturing

if TYPE_CHECKING:
    from collections.abc import Mapping

MASK = "*****"
# Names of what is secret: in a header, a query string, a JSON key, an XML element, or a vendor secret's key.
SECRET_NAME = re.compile(r"password|passwd|secret|token|api[_-]?key|credential", re.IGNORECASE)
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
_JSON_MEMBER = re.compile(r'"(?P<name>(?:[^"\\]|\\.)*)"(?P<colon>\s*:\s*)(?P<value>"(?:[^"\\]|\\.)*"|-?[\d.eE+-]+)')
_XML_ELEMENT = re.compile(
    r"(?P<open><(?P<tag>(?:[\w.-]+:)?(?P<name>[\w.-]+))(?:\s[^>]*)?>)(?P<text>[^<]*)(?=</(?P=tag)>)"
)
MIN_SECRET_CHARS = 4  # a shorter value would mask ordinary text


@dataclass(frozen=True)
class WireRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: str

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "url": self.url, "headers": self.headers, "body": self.body}


def wire_requests(connector: Connector, request: VendorRequest, context: SyncContext) -> list[WireRequest]:
    """The requests ``request``'s calls would put on the wire, masked; nothing that would change anything is sent."""
    secrets = secret_values(connector.current_secret())
    captured: list[httpx.Request] = []
    for call in request.calls:
        with capturing() as capture, contextlib.suppress(NotSent):  # where the call ended, withheld
            connector.send(VendorRequest((call,)), context)
        captured += capture.requests
    return [masked(item, secrets) for item in captured]


def secret_values(secret: Mapping[str, Any]) -> list[str]:
    """The values of ``secret`` held under a secret's name (password, api_key...), longest first."""
    values = {str(value) for name, value in secret.items() if SECRET_NAME.search(name) and value not in (None, "")}
    return sorted((value for value in values if len(value) >= MIN_SECRET_CHARS), key=len, reverse=True)


def masked(request: httpx.Request, secrets: Iterable[str] = ()) -> WireRequest:
    values = list(secrets)
    headers = {}
    for name, value in request.headers.multi_items():
        if name.lower() in CREDENTIAL_HEADERS:
            scheme, _, _ = value.partition(" ")
            value = f"{scheme} {MASK}" if scheme and " " in value else MASK
        elif SECRET_NAME.search(name):
            value = MASK
        headers[name] = _values_masked(value, values)
    body = request.content.decode("utf-8", errors="replace")
    return WireRequest(
        method=request.method,
        url=_values_masked(_url_masked(str(request.url)), values),
        headers=headers,
        body=_values_masked(_body_masked(body, request.headers.get("content-type", "")), values),
    )


def _url_masked(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        parts = parts._replace(
            netloc=f"{parts.username}:{MASK}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        )
    if parts.query:
        pairs = [(name, MASK if SECRET_NAME.search(name) else value) for name, value in parse_qsl(parts.query, True)]
        parts = parts._replace(query=urlencode(pairs))
    return parts.geturl()


def _body_masked(body: str, content_type: str) -> str:
    kind = content_type.lower()
    if "json" in kind:
        return _JSON_MEMBER.sub(_json_member_masked, body)
    if "xml" in kind:
        return _XML_ELEMENT.sub(_xml_element_masked, body)
    if "x-www-form-urlencoded" in kind:
        pairs = [(name, MASK if SECRET_NAME.search(name) else value) for name, value in parse_qsl(body, True)]
        return urlencode(pairs)
    return body


def _json_member_masked(match: re.Match[str]) -> str:
    if not SECRET_NAME.search(match["name"]):
        return match[0]
    return f'"{match["name"]}"{match["colon"]}"{MASK}"'


def _xml_element_masked(match: re.Match[str]) -> str:
    if not SECRET_NAME.search(match["name"]) or not match["text"]:
        return match[0]
    return f"{match['open']}{MASK}"


def _values_masked(text: str, secrets: list[str]) -> str:
    for value in secrets:
        text = text.replace(value, MASK)
    return text
