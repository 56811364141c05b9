"""SOAP plumbing shared by the partner login and the Metadata API: safe parsing, envelopes, faults."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

from ..httpserver import Response

SOAPENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
METADATA_NS = "http://soap.sforce.com/2006/04/metadata"
PARTNER_NS = "urn:partner.soap.sforce.com"

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                          remove_blank_text=True)


class SoapError(Exception):
    """A request that is not a usable SOAP envelope."""


def parse_envelope(body: bytes) -> tuple[etree._Element | None, etree._Element]:
    """The Header (or None) and the operation element (first child of Body); external entities off."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise SoapError(f"Could not parse SOAP request: {exc}") from None
    header = root.find(f"{{{SOAPENV}}}Header")
    body_el = root.find(f"{{{SOAPENV}}}Body")
    if body_el is None or len(body_el) == 0:
        raise SoapError("No SOAP Body found in request")
    return header, body_el[0]


def local(el: etree._Element) -> str:
    """An element's name without namespace."""
    return etree.QName(el).localname


def child_text(el: etree._Element, name: str) -> str | None:
    for c in el:
        if local(c) == name:
            return c.text or ""
    return None


def envelope(body_xml: str, default_ns: str = METADATA_NS) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAPENV}" '
            f'xmlns="{default_ns}" xmlns:xsi="{XSI}"><soapenv:Body>{body_xml}</soapenv:Body></soapenv:Envelope>')


def fault(code: str, message: str, fault_ns: str = METADATA_NS, detail: str = "", status: int = 500) -> Response:
    """A SOAP fault the way Salesforce sends it (HTTP 500, ``sf:CODE``, ``CODE: message``)."""
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAPENV}" '
           f'xmlns:sf="{fault_ns}" xmlns:xsi="{XSI}"><soapenv:Body><soapenv:Fault>'
           f'<faultcode>sf:{escape(code)}</faultcode><faultstring>{escape(code)}: {escape(message)}</faultstring>'
           f'{detail}</soapenv:Fault></soapenv:Body></soapenv:Envelope>')
    return Response.xml(xml, status=status)


def fault_raw(faultcode: str, faultstring: str, status: int = 500) -> Response:
    """A SOAP fault with a literal faultcode (e.g. ``soapenv:Client`` for an unknown operation)."""
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAPENV}">'
           f'<soapenv:Body><soapenv:Fault><faultcode>{escape(faultcode)}</faultcode>'
           f'<faultstring>{escape(faultstring)}</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>')
    return Response.xml(xml, status=status)


def text(value: Any) -> str:
    """A leaf value as XML text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return escape(str(value))
