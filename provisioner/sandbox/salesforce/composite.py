"""The Composite resource (``POST /services/data/vXX.X/composite``): up to 25 subrequests in one
call, later ones referring to earlier results with ``@{referenceId.path}``, ``allOrNone`` rolling
the whole call back (REST API Developer Guide, "Composite" and "allOrNone Parameters in Composite
and Collections Requests").

Subrequests run through the same REST dispatcher as top-level calls, in order, in one
transaction under the store lock; the whole call counts as one API request.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from ..httpserver import Request, Response

MAX_SUBREQUESTS = 25
MAX_QUERY_OR_COLLECTION = 5  # query, queryAll and sObject Collections subrequests per call
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_STEP = re.compile(r"\.([A-Za-z0-9_]+)|\[(\d+)\]")
_DATA_URL = re.compile(r"^/services/data/v(\d+\.\d)(/.*)?$")
ROLLED_BACK = "The transaction was rolled back since another operation in the same transaction failed."

#: (subrequest, API version, path parts after the version) -> response
Dispatch = Callable[[Request, str, list[str]], Response]


class _Unresolved(Exception):
    """A reference to a subrequest that failed or has no such value."""

    def __init__(self, expression: str, ref: str) -> None:
        super().__init__(expression)
        self.expression, self.ref = expression, ref


def _bad_request(message: str, code: str = "INVALID_INPUT") -> Response:
    return Response.json([{"message": message, "errorCode": code}], status=400)


def composite(request: Request, store: Any, dispatch: Dispatch, split: Callable[[str], tuple[str | None, list[str]]]
              ) -> Response:
    """Run a composite request (caller holds the store lock)."""
    try:
        body = request.json()
    except ValueError:
        return _bad_request("The request body is not valid JSON", "JSON_PARSER_ERROR")
    subrequests = body.get("compositeRequest") if isinstance(body, dict) else None
    if not isinstance(subrequests, list) or not subrequests:
        return _bad_request("compositeRequest: a non-empty list of subrequests is required")
    if len(subrequests) > MAX_SUBREQUESTS:
        return _bad_request(f"Composite request may contain at most {MAX_SUBREQUESTS} subrequests, got "
                            f"{len(subrequests)}", "LIMIT_EXCEEDED")
    problem = _check_shape(subrequests)
    if problem:
        return problem
    all_or_none = body.get("allOrNone") is True
    saved = copy.deepcopy(store.records) if all_or_none else None
    results: dict[str, tuple[bool, Any]] = {}
    replies: list[dict[str, Any]] = []
    failed = False
    for sub in subrequests:
        ref = sub["referenceId"]
        if failed and all_or_none:
            replies.append(_reply(ref, 400, [{"errorCode": "PROCESSING_HALTED", "message": ROLLED_BACK}]))
            continue
        try:
            url = _resolve(sub["url"], results, in_url=True)
            payload = _resolve(sub.get("body"), results) if "body" in sub else None
            if all_or_none and isinstance(payload, dict) and "/composite/sobjects" in url:
                payload = dict(payload, allOrNone=True)  # the outer allOrNone overrides the collection's
        except _Unresolved as exc:
            message = (f"Invalid reference specified. No value for {exc.expression} found in {exc.ref}. "
                       f"Provided referenceId ({exc.ref}) does not refer to a successful previous subrequest.")
            replies.append(_reply(ref, 400, [{"errorCode": "PROCESSING_HALTED", "message": message}]))
            results[ref] = (False, None)
            failed = True
            continue
        response = _run(request, sub, url, payload, dispatch, split)
        reply_body = json.loads(response.body) if response.body else None
        ok = response.status < 400 and not (all_or_none and isinstance(reply_body, list) and any(
            isinstance(item, dict) and item.get("success") is False for item in reply_body))
        results[ref] = (ok, reply_body)
        failed = failed or not ok
        headers = {"Location": f"{_path_of(url)}/{reply_body['id']}"} if response.status == 201 and \
            isinstance(reply_body, dict) and reply_body.get("id") and sub["method"] == "POST" else {}
        replies.append(_reply(ref, response.status, reply_body, headers))
    if all_or_none and failed and saved is not None:
        store.records = saved
        store.drop_indexes()
        replies = [r if r["httpStatusCode"] >= 400 or _partly_failed(r["body"]) else
                   _reply(r["referenceId"], 400, [{"errorCode": "PROCESSING_HALTED", "message": ROLLED_BACK}])
                   for r in replies]
    return Response.json({"compositeResponse": replies})


def _partly_failed(body: Any) -> bool:
    """An sObject Collections reply whose records carry their own errors (kept as they are)."""
    return isinstance(body, list) and any(isinstance(i, dict) and i.get("success") is False for i in body)


def _check_shape(subrequests: list[Any]) -> Response | None:
    """Request-level checks: every subrequest well formed, unique referenceIds, the per-call limits."""
    seen: set[str] = set()
    heavy = 0
    for i, sub in enumerate(subrequests):
        if not isinstance(sub, dict):
            return _bad_request(f"compositeRequest[{i}] is not an object", "JSON_PARSER_ERROR")
        for key in ("method", "url", "referenceId"):
            if not isinstance(sub.get(key), str) or not sub.get(key):
                return _bad_request(f"compositeRequest[{i}]: {key} is required")
        if sub["method"] not in METHODS:
            return _bad_request(f"compositeRequest[{i}]: method must be one of {', '.join(METHODS)}")
        ref = sub["referenceId"]
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", ref):
            return _bad_request(f"compositeRequest[{i}]: referenceId {ref!r} must start with a letter and hold only "
                                f"letters, digits and underscores")
        if ref in seen:
            return _bad_request(f"Duplicate referenceId provided in the request: {ref}")
        seen.add(ref)
        headers = {k.lower() for k in (sub.get("httpHeaders") or {})}
        if headers & {"accept", "authorization", "content-type"}:
            return _bad_request(f"compositeRequest[{i}]: Accept, Authorization and Content-Type are inherited from "
                                f"the composite request and cannot be set per subrequest")
        if not _DATA_URL.match(urlsplit(sub["url"]).path):
            return _bad_request(f"compositeRequest[{i}]: url must start with /services/data/vXX.X/")
        path = urlsplit(sub["url"]).path
        if re.search(r"/(query|queryAll)(/|$)|/composite/sobjects", path):
            heavy += 1
    if heavy > MAX_QUERY_OR_COLLECTION:
        return _bad_request(f"A composite request may contain at most {MAX_QUERY_OR_COLLECTION} query or sObject "
                            f"Collections subrequests", "LIMIT_EXCEEDED")
    return None


def _resolve(value: Any, results: dict[str, tuple[bool, Any]], in_url: bool = False) -> Any:
    """Replace ``@{ref.path}`` in strings (recursively); a whole-string reference keeps the value's type."""
    if isinstance(value, dict):
        return {k: _resolve(v, results, in_url) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, results, in_url) for v in value]
    if not isinstance(value, str) or "@{" not in value:
        return value
    whole = _REFERENCE.fullmatch(value)
    if whole and not in_url:
        return _lookup(whole, results)
    return _REFERENCE.sub(lambda m: _text(_lookup(m, results)), value)


def _lookup(match: re.Match[str], results: dict[str, tuple[bool, Any]]) -> Any:
    ref, path = match.group(1), match.group(2)
    expression = match.group(0)[2:-1]
    ok, node = results.get(ref, (False, None))
    if not ok:
        raise _Unresolved(expression, ref)
    for name, index in _STEP.findall(path):
        if name and isinstance(node, dict) and name in node:
            node = node[name]
        elif index and isinstance(node, list) and int(index) < len(node):
            node = node[int(index)]
        else:
            raise _Unresolved(expression, ref)
    if node is None:
        raise _Unresolved(expression, ref)
    return node


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _path_of(url: str) -> str:
    return urlsplit(url).path.rstrip("/")


def _run(parent: Request, sub: dict[str, Any], url: str, payload: Any, dispatch: Dispatch,
         split: Callable[[str], tuple[str | None, list[str]]]) -> Response:
    parts = urlsplit(url)
    headers = dict(parent.headers)
    headers.update({k.lower(): str(v) for k, v in (sub.get("httpHeaders") or {}).items()})
    child = Request(method=sub["method"], path=parts.path, query=parse_qs(parts.query, keep_blank_values=True),
                    headers=headers, body=json.dumps(payload).encode("utf-8") if payload is not None else b"")
    version, rest = split(parts.path)
    if not version:
        return Response.json([{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}],
                             status=404)
    if rest and rest[0] == "composite" and (len(rest) == 1 or rest[1] != "sobjects"):
        return _bad_request("Composite, batch and tree requests cannot be nested in a composite request")
    return dispatch(child, version, rest)


def _reply(ref: str, status: int, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"body": body, "httpHeaders": headers or {}, "httpStatusCode": status, "referenceId": ref}
