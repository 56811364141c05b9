"""SOQL literals are escaped and IN lists are chunked inside Salesforce's URI and query limits."""

from __future__ import annotations

from urllib.parse import quote as url_quote

from provisioner.providers.salesforce.connection import SalesforceConnection
from provisioner.providers.salesforce.soql import MAX_URI_BYTES, in_chunks, quote
from provisioner.sandbox.runtime import Sandbox


def test_quote_escapes_quotes_and_backslashes() -> None:
    assert quote("o'brien@example.com") == "'o\\'brien@example.com'"
    assert quote("a\\b") == "'a\\\\b'"


def test_chunks_stay_under_the_uri_limit_and_keep_every_value() -> None:
    values = [f"person{i}+o'neil@example.com" for i in range(3000)]
    template = "SELECT Id FROM Lead WHERE Email IN ({values})"
    queries = list(in_chunks(template, values))
    assert len(queries) > 1
    assert all(len(url_quote(q, safe="")) + 60 < MAX_URI_BYTES for q in queries)
    joined = "".join(queries)
    assert all(quote(v) in joined for v in values)


def test_an_apostrophe_email_and_a_long_in_list_work_against_the_org(org: Sandbox) -> None:
    conn = SalesforceConnection.from_env(org.env())
    created = conn.data.create("Lead", [{"LastName": "O'Brien", "Company": "Acme", "Email": "o'brien@example.com"}])
    assert created[0].success, created[0].message()
    emails = ["o'brien@example.com"] + [f"nobody{i}@example.com" for i in range(1500)]
    found = conn.data.query_in("SELECT Id, Email FROM Lead WHERE Email IN ({values})", emails)
    assert [r["Email"] for r in found] == ["o'brien@example.com"]
