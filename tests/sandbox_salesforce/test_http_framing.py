"""The shared HTTP server, spoken to with raw http.client: chunked request bodies (RFC 9112 §7.1)
are read like Content-Length ones, and every method and path answers in the API's JSON error
shape (Salesforce REST: ``[{"errorCode", "message"}]``; Marketo: its ``success: false`` envelope)."""

from __future__ import annotations

import http.client
import json
import ssl
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from provisioner.sandbox.runtime import Sandbox


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(tmp_path_factory.mktemp("framing")) as running:
        yield running


def connect(sandbox: Sandbox, url: str) -> http.client.HTTPSConnection:
    context = ssl.create_default_context(cafile=sandbox.ca_bundle)
    return http.client.HTTPSConnection(urlsplit(url).hostname, urlsplit(url).port, context=context, timeout=10)


def send(sandbox: Sandbox, url: str, method: str, path: str, body: bytes | None = None,
         headers: dict[str, str] | None = None, chunks: list[bytes] | None = None) -> tuple[int, str, Any]:
    """One request; ``chunks`` sends the body with Transfer-Encoding: chunked, one chunk each."""
    conn = connect(sandbox, url)
    try:
        if chunks is not None:
            conn.putrequest(method, path)
            for k, v in (headers or {}).items():
                conn.putheader(k, v)
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            for c in chunks:
                conn.send(b"%x\r\n%s\r\n" % (len(c), c))
            conn.send(b"0\r\n\r\n")
        else:
            conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        raw = r.read()
        content_type = r.getheader("Content-Type") or ""
        return r.status, content_type, json.loads(raw) if raw and "json" in content_type else raw
    finally:
        conn.close()


def sf_token(sandbox: Sandbox) -> str:
    c = sandbox.credentials
    form = f"grant_type=client_credentials&client_id={c.client_id}&client_secret={c.client_secret}".encode()
    status, _, body = send(sandbox, sandbox.salesforce_url, "POST", "/services/oauth2/token", body=form,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200
    return str(body["access_token"])


def mk_token(sandbox: Sandbox) -> str:
    env = sandbox.env()
    query = (f"grant_type=client_credentials&client_id={env['MARKETO_CLIENT_ID']}"
             f"&client_secret={env['MARKETO_CLIENT_SECRET']}")  # Marketo's identity call takes them so
    status, _, body = send(sandbox, env["MARKETO_ENDPOINT"], "GET", f"/identity/oauth/token?{query}")
    assert status == 200, body
    return str(body["access_token"])


def test_salesforce_reads_a_chunked_json_body(both: Sandbox) -> None:
    token = sf_token(both)
    lead = json.dumps({"LastName": "Chunked", "Company": "Acme", "Email": "chunked@example.com"}).encode()
    status, _, body = send(both, both.salesforce_url, "POST", "/services/data/v59.0/sobjects/Lead",
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                           chunks=[lead[:7], lead[7:20], lead[20:]])
    assert status == 201 and body["success"] is True
    status, _, record = send(both, both.salesforce_url, "GET", f"/services/data/v59.0/sobjects/Lead/{body['id']}",
                             headers={"Authorization": f"Bearer {token}"})
    assert (record["LastName"], record["Company"]) == ("Chunked", "Acme")


def test_chunked_body_with_extensions_and_trailers(both: Sandbox) -> None:
    """RFC 9112 §7.1.1/§7.1.2: chunk extensions are ignored, a trailer section may follow the last chunk."""
    token = sf_token(both)
    lead = json.dumps({"LastName": "Trailer", "Company": "Acme"}).encode()
    raw = (b"%x;name=value\r\n%s\r\n0\r\nX-Checksum: 1\r\n\r\n" % (len(lead), lead))
    conn = connect(both, both.salesforce_url)
    conn.putrequest("POST", "/services/data/v59.0/sobjects/Lead")
    conn.putheader("Authorization", f"Bearer {token}")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    conn.send(raw)
    r = conn.getresponse()
    assert r.status == 201 and json.loads(r.read())["success"] is True
    conn.close()


def test_broken_chunk_framing_is_a_json_400(both: Sandbox) -> None:
    conn = connect(both, both.salesforce_url)
    conn.putrequest("POST", "/services/data/v59.0/sobjects/Lead")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    conn.send(b"zz\r\n{}\r\n0\r\n\r\n")
    r = conn.getresponse()
    assert r.status == 400 and r.getheader("Content-Type").startswith("application/json")
    assert json.loads(r.read())[0]["errorCode"] == "BAD_REQUEST"
    conn.close()


@pytest.mark.parametrize("method", ["TRACE", "OPTIONS", "CONNECT", "PROPFIND", "FOO"])
@pytest.mark.parametrize("path", ["/services/data/v59.0/sobjects/Lead", "/nowhere", "/services/oauth2/token"])
def test_salesforce_unsupported_methods_are_json_405(both: Sandbox, method: str, path: str) -> None:
    status, content_type, body = send(both, both.salesforce_url, method, path)
    assert status == 405 and content_type.startswith("application/json")
    assert body[0]["errorCode"] == "METHOD_NOT_ALLOWED" and method in body[0]["message"]


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_salesforce_unknown_paths_are_json_404(both: Sandbox, method: str) -> None:
    status, content_type, body = send(both, both.salesforce_url, method, "/nowhere/at/all", body=b"")
    assert status == 404 and content_type.startswith("application/json")
    assert body == [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]


def test_malformed_request_line_is_json(both: Sandbox) -> None:
    """http.server answers a broken request line itself; it must still be the API's JSON, not HTML."""
    conn = connect(both, both.salesforce_url)
    conn.connect()
    conn.sock.sendall(b"GET /x HTTP/9.9\r\n\r\n")
    raw = b""
    while chunk := conn.sock.recv(65536):  # the server closes after an error it answered itself
        raw += chunk
    conn.close()
    reply = raw.decode()
    assert reply.startswith("HTTP/1.1 505") and "application/json" in reply and "<html" not in reply.lower()


def test_marketo_reads_a_chunked_json_body(both: Sandbox) -> None:
    env = both.env()
    token = mk_token(both)
    payload = json.dumps({"action": "createOrUpdate", "lookupField": "email",
                          "input": [{"email": "chunked@example.com", "firstName": "Chunk"}]}).encode()
    status, _, body = send(both, env["MARKETO_ENDPOINT"], "POST", "/rest/v1/leads.json",
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                           chunks=[payload[:10], payload[10:]])
    assert status == 200 and body["success"] is True, body
    assert body["result"][0]["status"] in ("created", "updated")


@pytest.mark.parametrize("method", ["TRACE", "OPTIONS", "FOO"])
def test_marketo_unsupported_methods_answer_in_its_envelope(both: Sandbox, method: str) -> None:
    status, content_type, body = send(both, both.env()["MARKETO_ENDPOINT"], method, "/rest/v1/leads.json")
    assert content_type.startswith("application/json"), (status, body)
    assert body["success"] is False and body["errors"][0]["code"]


def test_head_on_a_rest_resource_is_get_without_a_body(both: Sandbox) -> None:
    """REST resources take HEAD (REST API Developer Guide, e.g. "sObject Describe": HEAD, GET)."""
    token = sf_token(both)
    conn = connect(both, both.salesforce_url)
    conn.request("HEAD", "/services/data/v59.0/sobjects/Lead/describe", headers={"Authorization": f"Bearer {token}"})
    r = conn.getresponse()
    assert r.status == 200 and int(r.getheader("Content-Length")) > 1000 and r.read() == b""
    conn.close()
