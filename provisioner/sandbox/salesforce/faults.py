"""Injected faults of the emulated org: HTTP 500, HTTP 503 and the concurrency form of
REQUEST_LIMIT_EXCEEDED, each in the shape Salesforce uses for the API that was called."""

from __future__ import annotations

from ..httpserver import Request, Response
from . import soap

HTTP_500 = "http_500"
HTTP_503 = "http_503"
CONCURRENT_LIMIT = "concurrent_request_limit"
FAULT_KINDS = (HTTP_500, HTTP_503, CONCURRENT_LIMIT)

_UNKNOWN = "An unexpected error occurred. Please include this ErrorId if you contact support: 1873629163-21075 (-1245618272)"
_CONCURRENT = "ConcurrentPerOrgLongTxn Limit exceeded."


def fault_response(kind: str, request: Request) -> Response:
    """The response for fault ``kind`` on ``request`` (SOAP fault, OAuth error or REST error list)."""
    path = request.path
    if path.startswith("/services/Soap/"):
        fault_ns = soap.METADATA_NS if path.startswith("/services/Soap/m") else "urn:fault.partner.soap.sforce.com"
        if kind == CONCURRENT_LIMIT:
            return soap.fault("REQUEST_LIMIT_EXCEEDED", _CONCURRENT, fault_ns=fault_ns)
        if kind == HTTP_503:
            return soap.fault("SERVER_UNAVAILABLE", "Service temporarily unavailable, please retry", fault_ns=fault_ns)
        return soap.fault("UNKNOWN_EXCEPTION", _UNKNOWN, fault_ns=fault_ns)
    if path.startswith("/services/oauth2/"):
        # The token endpoint never answers with API-limit errors; a transient failure is a 5xx.
        status = 503 if kind == HTTP_503 else 500
        return Response.json({"error": "unknown_error", "error_description": "retry your request"}, status=status)
    if kind == CONCURRENT_LIMIT:
        return Response.json([{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": _CONCURRENT}], status=403)
    if kind == HTTP_503:
        return Response.json([{"errorCode": "SERVER_UNAVAILABLE", "message": "Service temporarily unavailable"}],
                             status=503)
    return Response.json([{"errorCode": "UNKNOWN_EXCEPTION", "message": _UNKNOWN}], status=500)
