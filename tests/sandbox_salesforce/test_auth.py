"""OAuth grants, SOAP partner login, and session checks on REST and SOAP calls."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
import requests
import zeep.exceptions
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession

from provisioner.sandbox.runtime import Sandbox

from .conftest import salesforce_client


def _token(sandbox: Sandbox, http: requests.Session, **form: str) -> requests.Response:
    return http.post(sandbox.salesforce_url + "/services/oauth2/token", data=form)


def test_client_credentials_grant_returns_a_working_token(sandbox: Sandbox, http: requests.Session) -> None:
    c = sandbox.credentials
    r = _token(sandbox, http, grant_type="client_credentials", client_id=c.client_id, client_secret=c.client_secret)
    assert r.status_code == 200
    body = r.json()
    assert {"access_token", "instance_url", "id", "token_type", "issued_at", "signature"} <= set(body)
    assert body["token_type"] == "Bearer" and body["instance_url"] == sandbox.salesforce_url
    sf = Salesforce(instance_url=body["instance_url"], session_id=body["access_token"], session=http)
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 1


@pytest.mark.parametrize("form, error, description", [
    ({"grant_type": "client_credentials", "client_id": "nope", "client_secret": "x"},
     "invalid_client_id", "client identifier invalid"),
    ({"grant_type": "client_credentials", "client_id": "{id}", "client_secret": "wrong"},
     "invalid_client", "invalid client credentials"),
    ({"grant_type": "password", "client_id": "{id}", "client_secret": "{secret}", "username": "{user}",
      "password": "wrong"}, "invalid_grant", "authentication failure"),
    ({"grant_type": "password", "client_id": "{id}", "client_secret": "{secret}", "username": "{user}",
      "password": "{password}"}, "invalid_grant", "authentication failure"),  # no security token appended
    ({"grant_type": "authorization_code"}, "unsupported_grant_type", "grant type not supported"),
])
def test_oauth_failures_use_salesforce_error_shapes(sandbox: Sandbox, http: requests.Session, form: dict[str, str],
                                                    error: str, description: str) -> None:
    c = sandbox.credentials
    values = {"id": c.client_id, "secret": c.client_secret, "user": c.username, "password": c.password}
    r = _token(sandbox, http, **{k: v.format(**values) for k, v in form.items()})
    assert r.status_code == 400
    assert r.json() == {"error": error, "error_description": description}


def test_password_grant_needs_password_plus_security_token(sandbox: Sandbox, http: requests.Session) -> None:
    c = sandbox.credentials
    r = _token(sandbox, http, grant_type="password", client_id=c.client_id, client_secret=c.client_secret,
               username=c.username, password=c.password + c.security_token)
    assert r.status_code == 200 and r.json()["access_token"]


def _assertion(sandbox: Sandbox, key_pem: bytes, **claims: object) -> str:
    payload = {"iss": sandbox.credentials.consumer_key, "sub": sandbox.credentials.username,
               "aud": sandbox.salesforce_url, "exp": int(time.time()) + 180}
    payload.update(claims)
    return jwt.encode(payload, key_pem, algorithm="RS256")


def test_jwt_bearer_grant_with_the_sandbox_key(sandbox: Sandbox, http: requests.Session) -> None:
    assert sandbox.jwt is not None
    key = Path(sandbox.jwt.private_key).read_bytes()
    r = _token(sandbox, http, grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer",
               assertion=_assertion(sandbox, key))
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "Bearer"


def test_jwt_bearer_refuses_bad_assertions(sandbox: Sandbox, http: requests.Session) -> None:
    assert sandbox.jwt is not None
    good_key = Path(sandbox.jwt.private_key).read_bytes()
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    cases = [
        (_assertion(sandbox, other_key), "invalid_grant"),                      # signed with the wrong key
        (_assertion(sandbox, good_key, exp=int(time.time()) - 10), "invalid_grant"),  # expired
        (_assertion(sandbox, good_key, aud="https://example.com"), "invalid_grant"),  # wrong audience
        (_assertion(sandbox, good_key, sub="someone@else"), "invalid_grant"),    # unknown user
        (_assertion(sandbox, good_key, iss="unknown-app"), "invalid_client_id"),  # unknown consumer key
    ]
    for assertion, error in cases:
        r = _token(sandbox, http, grant_type=grant, assertion=assertion)
        assert r.status_code == 400 and r.json()["error"] == error, r.text


def _login_envelope(username: str, password: str) -> str:
    return ('<?xml version="1.0" encoding="utf-8"?><env:Envelope xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com">'
            f'<env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com"><n1:username>{username}</n1:username>'
            f'<n1:password>{password}</n1:password></n1:login></env:Body></env:Envelope>')


def test_soap_partner_login(sandbox: Sandbox, http: requests.Session) -> None:
    c = sandbox.credentials
    r = http.post(sandbox.salesforce_url + "/services/Soap/u/59.0",
                  data=_login_envelope(c.username, c.password + c.security_token),
                  headers={"Content-Type": "text/xml", "SOAPAction": "login"})
    assert r.status_code == 200
    root = etree.fromstring(r.content)
    ns = {"p": "urn:partner.soap.sforce.com"}
    session_id = root.findtext(".//p:sessionId", namespaces=ns)
    assert root.findtext(".//p:serverUrl", namespaces=ns).startswith(sandbox.salesforce_url + "/services/Soap/u/59.0")
    metadata_url = root.findtext(".//p:metadataServerUrl", namespaces=ns)
    assert metadata_url.startswith(sandbox.salesforce_url + "/services/Soap/m/59.0")
    assert root.findtext(".//p:userId", namespaces=ns).startswith("005")
    sf = salesforce_client(sandbox, session_id)
    assert sf.mdapi.CustomObject.read(["Lead"]).fullName == "Lead"


def test_soap_login_with_wrong_password_is_invalid_login_fault(sandbox: Sandbox, http: requests.Session) -> None:
    r = http.post(sandbox.salesforce_url + "/services/Soap/u/59.0",
                  data=_login_envelope(sandbox.credentials.username, "wrong"),
                  headers={"Content-Type": "text/xml", "SOAPAction": "login"})
    assert r.status_code == 500
    root = etree.fromstring(r.content)
    assert root.findtext(".//faultcode") == "sf:INVALID_LOGIN"
    assert root.findtext(".//faultstring") == ("INVALID_LOGIN: Invalid username, password, security token; "
                                               "or user locked out.")


def test_soap_login_is_gone_from_api_65(sandbox: Sandbox, http: requests.Session) -> None:
    c = sandbox.credentials
    r = http.post(sandbox.salesforce_url + "/services/Soap/u/65.0",
                  data=_login_envelope(c.username, c.password + c.security_token),
                  headers={"Content-Type": "text/xml", "SOAPAction": "login"})
    assert r.status_code == 500
    assert "No operation available for request {urn:partner.soap.sforce.com}login" in r.text


def test_rest_without_a_valid_session_is_401(sandbox: Sandbox, http: requests.Session) -> None:
    url = sandbox.salesforce_url + "/services/data/v59.0/sobjects/Lead/describe"
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        r = http.get(url, headers=headers)
        assert r.status_code == 401
        assert r.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    sf = Salesforce(instance_url=sandbox.salesforce_url, session_id="not-a-token", session=http)
    with pytest.raises(SalesforceExpiredSession):
        sf.Lead.describe()


def test_metadata_api_without_a_valid_session_is_a_soap_fault(sandbox: Sandbox) -> None:
    sf = salesforce_client(sandbox, "not-a-token")
    with pytest.raises(zeep.exceptions.Fault) as caught:
        sf.mdapi.CustomObject.read(["Lead"])
    assert caught.value.code == "sf:INVALID_SESSION_ID"
    assert "INVALID_SESSION_ID" in caught.value.message


def test_userinfo_and_identity_url_name_the_api_user(sandbox: Sandbox, http: requests.Session, sf: Salesforce) -> None:
    c = sandbox.credentials
    body = _token(sandbox, http, grant_type="client_credentials", client_id=c.client_id,
                  client_secret=c.client_secret).json()
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    user_id = sf.query("SELECT Id FROM User")["records"][0]["Id"]
    info = http.get(sandbox.salesforce_url + "/services/oauth2/userinfo", headers=headers).json()
    assert (info["user_id"], info["sub"]) == (user_id, body["id"])
    identity = http.get(body["id"], headers=headers).json()
    assert identity["user_id"] == user_id and identity["username"] == c.username
    r = http.get(sandbox.salesforce_url + "/services/oauth2/userinfo", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 403 and r.text == "Bad_OAuth_Token"
