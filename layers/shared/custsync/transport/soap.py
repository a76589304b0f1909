"""The SOAP client every SOAP vendor uses: zeep on httpx, WSDLs only from disk.

The WSDL ships in the function folder and is parsed once per container
(``load_wsdl`` is cached; ``wsdl_loads`` counts real parses). Calls go through
httpx with the REST client's timeouts, and failures become the runtime's error
types: a SOAP Fault by its faultcode (``Client`` -> ``PermanentError``,
``Server`` -> ``RetryableError``, carrying the faultstring; a client fault whose
text says the login was refused -> ``AuthError``, so the credentials are re-read
once), an HTTP failure by its status as for REST (``Retry-After`` included: the
transport classifies a non-SOAP answer before zeep sees it), zeep's own errors
here (``zeep_error``), a call's failure as ``custsync.transport.errors`` says.
Calls are bounded like REST ones (``transport/http.py``).
"""

from __future__ import annotations

import functools
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import zeep
from zeep import exceptions as zeep_errors
from zeep.exceptions import Fault
from zeep.proxy import ServiceProxy
from zeep.transports import Transport

from custsync.errors import AuthError, ConfigurationError, PermanentError, RetryableError, SyncError
from custsync.observability import logger, redact_text
from custsync.transport.errors import CALL_FAILURES, call_error, malformed_reply, message, unsafe_reply
from custsync.transport.http import BoundedHttp, CallLimits, refuse_dtd
from custsync.transport.rest import ERROR_TEXT_CHARS, error_for_status, error_for_status_code


class HttpxTransport(Transport):
    """zeep's transport over bounded httpx: it owns all network access, and never fetches a WSDL or schema."""

    def __init__(self, vendor: str, limits: CallLimits) -> None:
        super().__init__(cache=None, timeout=limits.timeout_seconds, operation_timeout=limits.timeout_seconds)
        self.vendor = vendor
        self.http = BoundedHttp(limits)

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> httpx.Response:
        """The reply for zeep to parse: a 2xx, or a 500 carrying XML (a SOAP Fault). Any other answer
        is classified here, where its headers (``Retry-After``) are still known."""
        response = self.http.send("POST", address, content=message, headers=headers)
        if not (response.is_success or _is_soap_fault(response)):
            error = error_for_status(self.vendor, response)
            assert error is not None
            raise error
        refuse_dtd(response.content)
        return response

    def load(self, url: str) -> bytes:
        if urlsplit(url).scheme in ("http", "https"):
            raise ConfigurationError(f"refusing to fetch {url}: WSDLs and schemas ship with the function")
        content: bytes = super().load(url)
        return content


def _is_soap_fault(response: httpx.Response) -> bool:
    return response.status_code == 500 and "xml" in response.headers.get("Content-Type", "").lower()


@functools.cache
def load_wsdl(path: Path, vendor: str, limits: CallLimits) -> zeep.Client:
    """Parse ``path`` once per container (per vendor and limits)."""
    started = time.perf_counter()
    client = zeep.Client(str(path), transport=HttpxTransport(vendor, limits))
    logger.info("WSDL parsed", extra={"wsdl": path.name, "parse_ms": round((time.perf_counter() - started) * 1000, 1)})
    return client


def wsdl_loads() -> int:
    """How many times a WSDL was actually parsed in this process."""
    return load_wsdl.cache_info().misses


def fault_error(vendor: str, fault: Fault, auth_fault: re.Pattern[str] | None = None) -> SyncError:
    """A SOAP 1.1 Fault: the caller's fault is permanent, the server's worth a retry.

    ``auth_fault`` matches the faultstring the vendor gives for refused credentials.
    """
    code = str(fault.code or "").rsplit("}", 1)[-1].rsplit(":", 1)[-1]  # "soap:Client", "{ns}Client" -> "Client"
    message = str(fault.message or "")
    reason = f"{vendor} SOAP fault {code}: {redact_text(message[:ERROR_TEXT_CHARS])}"
    if code.endswith("Server") or code.endswith("Receiver"):
        return RetryableError(reason, vendor=vendor, status=500)
    if auth_fault is not None and auth_fault.search(message):
        return AuthError(reason, vendor=vendor, status=500)
    return PermanentError(reason, vendor=vendor, status=500)


_FORBIDDEN = (zeep_errors.DTDForbidden, zeep_errors.EntitiesForbidden, zeep_errors.ExternalReferenceForbidden)


def zeep_error(exc: zeep_errors.Error, vendor: str) -> SyncError:
    """What zeep raised, other than a Fault: a status it refused, a request the WSDL does not allow, a reply it
    could not read (the outcome unknown)."""
    if isinstance(exc, zeep_errors.TransportError):
        status = int(exc.status_code or 0)
        if not 200 <= status < 300:  # a 2xx is zeep's word for a reply it could not parse
            return error_for_status_code(vendor, status, str(exc.message), None)
    if isinstance(exc, zeep_errors.ValidationError):
        return PermanentError(f"{vendor} request does not fit the WSDL: {message(exc)}", vendor=vendor)
    if isinstance(exc, _FORBIDDEN):
        return unsafe_reply(exc, vendor)
    return malformed_reply(exc, vendor)


class SoapClient:
    """One vendor's SOAP service at the address from its secret."""

    def __init__(
        self,
        vendor: str,
        wsdl: Path,
        address: str,
        *,
        limits: CallLimits,
        auth_fault: re.Pattern[str] | None = None,
    ) -> None:
        self.vendor = vendor
        self.auth_fault = auth_fault
        self.client = load_wsdl(wsdl, vendor, limits)
        (binding,) = [name for name in self.client.wsdl.bindings if "Soap12" not in name]  # the SOAP 1.1 binding
        self.service: ServiceProxy = self.client.create_service(binding, address)

    def element(self, qname: str, **values: Any) -> Any:
        """An element of the WSDL's schema with ``values``: a SOAP header, for one."""
        return self.client.get_element(qname)(**values)

    def call(self, operation: str, *, soap_headers: list[Any] | None = None, **body: Any) -> Any:
        """Call ``operation``; return zeep's parsed result or raise the classified error."""
        try:
            return self.service[operation](**body, _soapheaders=soap_headers)
        except Fault as fault:
            raise fault_error(self.vendor, fault, self.auth_fault) from fault
        except zeep_errors.Error as exc:
            raise zeep_error(exc, self.vendor) from exc
        except CALL_FAILURES as exc:
            raise call_error(exc, self.vendor) from exc
