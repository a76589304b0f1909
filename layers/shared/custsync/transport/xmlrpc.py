"""XML-RPC over the shared REST client: the standard library marshals, httpx carries.

HTTP failures are classified as for REST; an XML-RPC Fault by its faultCode:
401/403 ``AuthError``, other 4xx and the spec's -32xxx codes ``PermanentError``,
anything else ``RetryableError``. A reply carrying a DOCTYPE is refused unread,
as for SOAP (the standard library's parser would expand its entities).
"""

from __future__ import annotations

# bandit B411 (XML attacks): a reply carrying a DOCTYPE is refused before loads() reads it (issue 16).
import xmlrpc.client  # nosec B411
from typing import Any
from xml.parsers.expat import ExpatError

from custsync.errors import AuthError, PermanentError, RetryableError, SyncError
from custsync.observability import redact_text
from custsync.transport.errors import malformed_reply, unsafe_reply
from custsync.transport.http import UnsafeReply, refuse_dtd
from custsync.transport.rest import ERROR_TEXT_CHARS, RestClient


def fault_error(vendor: str, fault: xmlrpc.client.Fault) -> SyncError:
    code = int(fault.faultCode)
    reason = f"{vendor} XML-RPC fault {code}: {redact_text(str(fault.faultString)[:ERROR_TEXT_CHARS])}"
    if code in (401, 403):
        return AuthError(reason, vendor=vendor, status=code)
    if 400 <= code < 500 or -32768 <= code <= -32000:
        return PermanentError(reason, vendor=vendor, status=code if code > 0 else None)
    return RetryableError(reason, vendor=vendor)


class XmlRpcClient:
    """Calls on one XML-RPC endpoint (its whole URL), through ``rest`` for auth and timeouts."""

    def __init__(self, rest: RestClient, url: str) -> None:
        self.rest = rest
        self.url = url

    def call(self, method: str, *params: Any) -> Any:
        body = xmlrpc.client.dumps(params, methodname=method, allow_none=False)
        response = self.rest.request("POST", self.url, content=body.encode(), headers={"Content-Type": "text/xml"})
        try:
            refuse_dtd(response.content)
            (result,), _ = xmlrpc.client.loads(response.content)
        except UnsafeReply as exc:
            raise unsafe_reply(exc, self.rest.vendor) from exc
        except xmlrpc.client.Fault as fault:
            raise fault_error(self.rest.vendor, fault) from fault
        except (ExpatError, ValueError) as exc:  # not XML-RPC, or not exactly one value
            raise malformed_reply(ExpatError(f"not an XML-RPC reply: {exc}"), self.rest.vendor) from exc
        return result
