"""The SOAP client every SOAP vendor uses: zeep on httpx, WSDLs only from disk.

The WSDL ships in the function folder and is parsed once per container
(``load_wsdl`` is cached; ``wsdl_loads`` counts real parses). Calls go through
httpx with the REST client's timeouts, and failures become the runtime's error
types: a SOAP Fault by its faultcode (``Client`` -> ``PermanentError``,
``Server`` -> ``RetryableError``, carrying the faultstring; a client fault whose
text says the login was refused -> ``AuthError``, so the credentials are re-read
once), an HTTP failure by its status as for REST, a network failure as retryable.
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
from zeep.exceptions import Fault, TransportError
from zeep.exceptions import ValidationError as ZeepValidationError
from zeep.proxy import ServiceProxy
from zeep.transports import Transport

from custsync.errors import AuthError, ConfigurationError, PermanentError, RetryableError, SyncError
from custsync.observability import logger, redact_text
from custsync.transport.rest import RETRYABLE_STATUS, error_for_exception


class HttpxTransport(Transport):
    """zeep's transport over httpx. It never fetches a WSDL or schema over the network."""

    def __init__(self, timeout: float) -> None:
        super().__init__(cache=None, timeout=timeout, operation_timeout=timeout)
        self.http = httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)))

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> httpx.Response:
        return self.http.post(address, content=message, headers=headers)

    def load(self, url: str) -> bytes:
        if urlsplit(url).scheme in ("http", "https"):
            raise ConfigurationError(f"refusing to fetch {url}: WSDLs and schemas ship with the function")
        content: bytes = super().load(url)
        return content


@functools.cache
def load_wsdl(path: Path, timeout: float) -> zeep.Client:
    """Parse ``path`` once per container (per timeout setting)."""
    started = time.perf_counter()
    client = zeep.Client(str(path), transport=HttpxTransport(timeout))
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
    reason = f"{vendor} SOAP fault {code}: {redact_text(message)}"
    if code.endswith("Server") or code.endswith("Receiver"):
        return RetryableError(reason, vendor=vendor, status=500)
    if auth_fault is not None and auth_fault.search(message):
        return AuthError(reason, vendor=vendor, status=500)
    return PermanentError(reason, vendor=vendor, status=500)


class SoapClient:
    """One vendor's SOAP service at the address from its secret."""

    def __init__(
        self,
        vendor: str,
        wsdl: Path,
        address: str,
        *,
        timeout: float = 10.0,
        auth_fault: re.Pattern[str] | None = None,
    ) -> None:
        self.vendor = vendor
        self.auth_fault = auth_fault
        self.client = load_wsdl(wsdl, timeout)
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
        except TransportError as exc:
            status = int(exc.status_code or 0)
            reason = f"{self.vendor} answered HTTP {status}: {redact_text(str(exc.message))[:300]}"
            if status in RETRYABLE_STATUS or status >= 500:
                raise RetryableError(reason, vendor=self.vendor, status=status) from exc
            raise PermanentError(reason, vendor=self.vendor, status=status) from exc
        except ZeepValidationError as exc:
            raise PermanentError(f"{self.vendor} request does not fit the WSDL: {exc}", vendor=self.vendor) from exc
        except httpx.HTTPError as exc:
            raise error_for_exception(self.vendor, exc) from exc
