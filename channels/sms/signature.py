"""Which URL Twilio signed, and whether X-Twilio-Signature matches it."""
from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


def _first(value: str | None) -> str | None:
    """The client-most value of a forwarded header ("https, http" -> "https")."""
    if not value:
        return None
    return value.split(",")[0].strip() or None


def signed_url(
    scheme: str,
    host: str,
    raw_path: str,
    headers: Mapping[str, str],
    public_url: str | None,
    trust_forwarded: bool,
) -> str:
    """The URL Twilio requested: the configured public base, else forwarded headers if trusted, else ours."""
    if public_url:
        return public_url.rstrip("/") + raw_path
    if trust_forwarded:
        scheme = _first(headers.get("X-Forwarded-Proto")) or scheme
        host = _first(headers.get("X-Forwarded-Host")) or host
    return f"{scheme}://{host}{raw_path}"


def signature_ok(validator: RequestValidator, url: str, form: Mapping[str, object], signature: str | None) -> bool:
    """True when the signature matches the URL and form (the validator tries the URL with and without port)."""
    if not signature:
        return False
    return bool(validator.validate(url, form, signature))
