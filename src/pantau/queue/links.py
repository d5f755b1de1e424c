"""Post links as one post has one spelling of them, and the key the queue looks them up by.

:func:`link_key` is what ``items.url_key`` and ``complaints.url_key`` hold, so a public report of a post
finds the batch-scored item of the same post with one indexed lookup. Changing :func:`normalise_url`
changes every key: a migration must then recompute ``items.url_key`` and ``complaints.url_key``.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["link_key", "normalise_url"]

_TRACKING = re.compile(
    r"^(utm_.*|fbclid|gclid|igshid|igsh|si|s|t|ref|ref_src|ref_url|mibextid|feature)$", re.IGNORECASE
)
_HOST_ALIASES = {"twitter.com": "x.com", "mobile.twitter.com": "x.com", "m.facebook.com": "facebook.com"}


def normalise_url(url: str) -> str | None:
    """The link as one post has one spelling of it, or None when it is not an http(s) link."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower().rstrip(".")
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    for prefix in ("www.", "m.", "mobile."):
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
    host = _HOST_ALIASES.get(host, host)
    if port not in (None, 80, 443):
        host = f"{host}:{port}"
    path = re.sub(r"/{2,}", "/", parts.path).rstrip("/") or ""
    query = urlencode(
        sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k))
    )
    return urlunsplit(("https", host, path, query, ""))


def link_key(url: str | None) -> str | None:
    """SHA-256 (hex) of the normalised link, or None for no link or one that is not http(s)."""
    normal = normalise_url(url) if url else None
    if normal is None:
        return None
    return hashlib.sha256(("url:" + normal).encode("utf-8", "surrogatepass")).hexdigest()
