"""``POST /services/data/vXX.X/composite`` for query subrequests: Salesforce's documented way to run SOQL that
does not fit the 16,384-byte REST URI (the statement travels in the body; SOQL's own 100,000-character limit
still applies). Up to 25 subrequests, of which up to 5 queries; the whole call counts as one API call.
Only ``GET .../query`` and ``.../queryAll`` subrequests are emulated (what the tool sends)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from ..httpserver import Request, Response

if TYPE_CHECKING:
    from .rest import RestService

MAX_SUBREQUESTS = 25
MAX_QUERIES = 5


def handle(rest: "RestService", request: Request, version: str) -> Response:
    """Run each query subrequest through the REST service and gather the answers (caller holds the lock)."""
    from .rest import split_data_path

    try:
        body = request.json()
    except ValueError:
        return _error(400, "JSON_PARSER_ERROR", "The request body is not valid JSON")
    subs = (body or {}).get("compositeRequest") if isinstance(body, dict) else None
    if not isinstance(subs, list) or not subs:
        return _error(400, "INVALID_INPUT", "compositeRequest must be a non-empty array")
    if len(subs) > MAX_SUBREQUESTS:
        return _error(400, "LIMIT_EXCEEDED", f"Limit Exceeded: a composite request holds at most {MAX_SUBREQUESTS} "
                                             "subrequests")
    out: list[dict[str, Any]] = []
    queries = 0
    for sub in subs:
        url, method, ref = str(sub.get("url") or ""), str(sub.get("method") or ""), sub.get("referenceId")
        split = urlsplit(url)
        sub_version, parts = split_data_path(split.path)
        if method != "GET" or not parts or parts[0] not in ("query", "queryAll"):
            answer = _error(400, "INVALID_INPUT", "the sandbox's composite resource runs query subrequests only")
        else:
            queries += 1
            if queries > MAX_QUERIES:
                return _error(400, "LIMIT_EXCEEDED", f"Limit Exceeded: at most {MAX_QUERIES} query subrequests "
                                                     "per composite request")
            inner = Request("GET", split.path, parse_qs(split.query, keep_blank_values=True), request.headers, b"")
            answer = rest._dispatch(inner, sub_version or version, parts)
        out.append({"body": json.loads(answer.body or b"null"), "httpHeaders": {},
                    "httpStatusCode": answer.status, "referenceId": ref})
    return Response.json({"compositeResponse": out})


def _error(status: int, code: str, message: str) -> Response:
    return Response.json([{"errorCode": code, "message": message}], status=status)
