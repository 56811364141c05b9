"""Salesforce's metadata WSDL, trimmed to what the tool calls, so zeep parses it in a tenth of the time.

simple-salesforce ships the whole Metadata API WSDL (1.5 MB, every metadata type there is): zeep took
0.3-0.6 s to parse it on every `plan`. The tool calls four operations on three metadata types, so the
document handed to zeep keeps those operations, their messages and headers, and the schema types they
reach (transitively), and nothing else. The result is the same types, byte for byte, for what is kept.
The trimmed copy is cached in the user's cache folder under a name that hashes the source WSDL and
what is kept, so a new simple-salesforce or a new operation makes a new copy.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from lxml import etree

#: The Metadata API operations the tool sends (MetadataClient checks every call against this).
OPERATIONS = ("readMetadata", "upsertMetadata", "deleteMetadata", "listMetadata")
#: The metadata types the tool reads and writes (readMetadata answers with them by xsi:type).
TYPES = ("CustomObject", "CustomField", "PermissionSet")

_XSD = "{http://www.w3.org/2001/XMLSchema}"
_WSDL = "{http://schemas.xmlsoap.org/wsdl/}"
_SOAP_HEADER = "{http://schemas.xmlsoap.org/wsdl/soap/}header"


def source_wsdl() -> Path:
    """The WSDL simple-salesforce ships."""
    import simple_salesforce

    return Path(simple_salesforce.__file__).parent / "metadata.wsdl"


def trimmed_wsdl(source: Path | None = None, cache_dir: Path | None = None) -> Path:
    """A trimmed copy of ``source`` (cached); the source itself when no cache folder is writable."""
    source = source or source_wsdl()
    raw = source.read_bytes()
    key = hashlib.sha256(raw + repr((OPERATIONS, TYPES)).encode()).hexdigest()[:16]
    folder = cache_dir or _cache_dir()
    target = folder / f"metadata-{key}.wsdl"
    if target.is_file():
        return target
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".tmp") as out:
            out.write(trim(raw))
        os.replace(out.name, target)  # atomic: a concurrent run sees the old state or the whole file
    except OSError:
        return source
    return target


def _cache_dir() -> Path:
    from ..base import cache_dir

    return cache_dir()


def trim(raw: bytes, operations: tuple[str, ...] = OPERATIONS, types: tuple[str, ...] = TYPES) -> bytes:
    """The WSDL ``raw`` with only ``operations`` (and their messages and headers) and the schema types
    and elements they, and ``types``, reach."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    root = etree.fromstring(raw, parser)
    schema = root.find(f"{_WSDL}types/{_XSD}schema")
    named = {(e.tag, e.get("name")): e for e in schema}
    messages = {m.get("name"): m for m in root.findall(f"{_WSDL}message")}

    kept_messages: set[str] = set()
    for port_type in root.findall(f"{_WSDL}portType"):
        for op in list(port_type):
            if op.get("name") not in operations:
                port_type.remove(op)
                continue
            kept_messages.update(_local(io.get("message")) for io in op if io.get("message"))
    for binding in root.findall(f"{_WSDL}binding"):
        for op in binding.findall(f"{_WSDL}operation"):
            if op.get("name") not in operations:
                binding.remove(op)
                continue
            kept_messages.update(_local(h.get("message")) for h in op.iter(_SOAP_HEADER))
    for name, message in messages.items():
        if name not in kept_messages:
            root.remove(message)

    roots = [named[(f"{_XSD}element", _local(part.get("element")))]
             for name in kept_messages for part in messages[name]]
    roots += [named[(f"{_XSD}complexType", t)] for t in types]
    kept = _reachable(roots, named)
    for (tag, _), node in named.items():
        if node not in kept:
            schema.remove(node)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _reachable(roots: list[etree._Element], named: dict[tuple[str, str], etree._Element]) -> set[etree._Element]:
    """Every top-level schema node reachable from ``roots`` through type=, base= and ref= (tns: names)."""
    kinds = (f"{_XSD}complexType", f"{_XSD}simpleType")
    kept: set[etree._Element] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node in kept:
            continue
        kept.add(node)
        for child in node.iter():
            for attr in ("type", "base", "ref"):
                value = child.get(attr)
                if not value or not value.startswith("tns:"):
                    continue
                name = value[4:]
                candidates = [(f"{_XSD}element", name)] if attr == "ref" else [(k, name) for k in kinds]
                stack.extend(named[c] for c in candidates if c in named)
    return kept


def _local(qname: str) -> str:
    return qname.split(":", 1)[-1]
