"""XML parsing without external entities, DTDs or network access (for SOAP responses)."""

from __future__ import annotations

from lxml import etree

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse_xml(data: bytes) -> etree._Element:
    """Parse ``data``; a body that is not XML yields an empty element instead of an exception."""
    try:
        return etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError:
        return etree.Element("unparsable")
