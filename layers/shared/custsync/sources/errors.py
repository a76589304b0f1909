"""Why a webhook request is refused; the webhook answers 401 or 400 by type."""


class SignatureInvalid(Exception):
    """The request is not from who it claims (bad or missing signature, stale timestamp)."""


class BadPayload(Exception):
    """The request is signed but cannot be used; the message names the field or header."""
