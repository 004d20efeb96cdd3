"""A JSON or empty-body request sent through the session's own connection pool, past requests.

``requests.Session.request`` prepares cookies, ~/.netrc auth, hooks, redirect checks and a full
``Response`` on every call; for our own session (no cookies, no hooks, redirects off, proxy and
CA bundle already read at construction) none of that changes what goes on the wire, and it
costs about as much as a loopback exchange. This sends the same bytes (the session's default
headers, then ours; the JSON encoded as requests encodes it) on the same pool, with the same
TLS settings (the adapter picks the pool) and the same urllib3 retry policy (none). urllib3's
exceptions come through as they are: the transport's error mapping reads the exception chain,
where requests' wrappers only add a layer.

Anything else (multipart files, query parameters, a proxy, an older requests without
``get_connection_with_tls_context``) returns None, and the caller uses Session.request.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import requests
import urllib3
from requests.structures import CaseInsensitiveDict
from urllib3.util import parse_url


class DirectResponse:
    """What the transport reads of a ``requests.Response``: status, headers, raw, close()."""

    def __init__(self, raw: urllib3.BaseHTTPResponse) -> None:
        self.raw = raw
        self.status_code = raw.status
        self.headers = raw.headers  # case-insensitive, like requests' headers

    def close(self) -> None:
        """As ``requests.Response.close`` does for a body read from ``raw``."""
        self.raw.close()
        self.raw.release_conn()


def send_direct(
    session: requests.Session,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    kwargs: Mapping[str, Any],
    timeout: tuple[float, float],
) -> DirectResponse | None:
    """The answer (body not read yet), or None where Session.request must do the sending."""
    if set(kwargs) - {"json"} or session.proxies:
        return None
    adapter = session.get_adapter(url)
    pool_for = getattr(adapter, "get_connection_with_tls_context", None)
    if not isinstance(adapter, requests.adapters.HTTPAdapter) or pool_for is None:
        return None
    merged: CaseInsensitiveDict[str | bytes] = CaseInsensitiveDict(session.headers)
    merged.update(headers)
    body = None
    if "json" in kwargs:
        # requests' own encoding: NaN refused, UTF-8 bytes, its Content-Type unless one is set
        body = json.dumps(kwargs["json"], allow_nan=False).encode("utf-8")
        merged.setdefault("Content-Type", "application/json")
    target = requests.PreparedRequest()
    target.url = url  # all the adapter reads to choose the pool and its TLS settings
    verify = True if session.verify is None else session.verify
    pool = pool_for(target, verify, proxies=None, cert=session.cert)
    raw = pool.urlopen(
        method,
        parse_url(url).request_uri,
        body=body,
        headers=merged,
        redirect=False,
        assert_same_host=False,
        preload_content=False,
        decode_content=False,
        retries=adapter.max_retries,
        timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]),
        chunked=False,
    )
    return DirectResponse(raw)
