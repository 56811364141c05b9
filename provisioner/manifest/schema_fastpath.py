"""A yes/no schema check for the common case, so `validate` needs no jsonschema import when all is well.

Importing jsonschema costs about 0.2 s, more than validating every shipped manifest. This
module answers only "is this document valid?" for the JSON Schema keywords our schema uses;
when the answer is no, schema_check asks jsonschema for the detailed, located findings.
It refuses to compile a schema with a keyword it does not know (UnsupportedSchema), so it can
never call a document valid that jsonschema would reject for a reason it ignored.
"""

from __future__ import annotations

import re
from typing import Any, Callable

Check = Callable[[Any], bool]

#: Keywords that never affect validity (annotations, or handled through $ref resolution).
_ANNOTATIONS = {"$schema", "$id", "$defs", "title", "description", "default", "format", "examples", "$comment"}


class UnsupportedSchema(Exception):
    """The schema uses a keyword this fast path does not implement."""


def _is_type(value: Any, name: str) -> bool:
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "string":
        return isinstance(value, str)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if isinstance(value, bool):
        return False
    if name == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if name == "number":
        return isinstance(value, (int, float))
    raise UnsupportedSchema(f"type {name!r}")


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: true and 1 differ, as JSON Schema says."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return a == b


#: JSON Schema types that are exactly one Python isinstance check (integer and number must refuse bools).
_PLAIN_TYPES: dict[str, type] = {"object": dict, "array": list, "string": str, "boolean": bool}


def _always(_: Any) -> bool:
    return True


def _all_of(checks: list[Check]) -> Check:
    """One check that passes when every one of ``checks`` does (a plain loop: no generator per call)."""
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]

    def check(v: Any) -> bool:
        for one in checks:
            if not one(v):
                return False
        return True
    return check


class FastValidator:
    """Compile a JSON Schema (local ``$ref``s only) into nested closures returning True/False."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self._root = schema
        self._refs: dict[str, Check] = {}
        self.check = self._compile(schema)

    def __call__(self, instance: Any) -> bool:
        return self.check(instance)

    def _ref(self, ref: str) -> Check:
        if not ref.startswith("#/"):
            raise UnsupportedSchema(f"$ref {ref!r}")
        if ref not in self._refs:
            self._refs[ref] = lambda v: self._refs[ref](v)  # placeholder for recursive refs
            target: Any = self._root
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            self._refs[ref] = self._compile(target)
        return lambda v: self._refs[ref](v)

    def _compile(self, schema: Any) -> Check:
        if schema is True:
            return lambda v: True
        if schema is False:
            return lambda v: False
        checks: list[Check] = []
        for key, value in schema.items():
            if key in _ANNOTATIONS:
                continue
            builder = getattr(self, "_kw_" + key.lstrip("$"), None)
            if builder is None:
                if key in ("then", "else"):
                    continue  # compiled together with "if"
                raise UnsupportedSchema(key)
            checks.append(builder(value, schema))
        return _all_of(checks)

    # -- keywords ------------------------------------------------------------
    def _kw_ref(self, ref: str, _: dict[str, Any]) -> Check:
        return self._ref(ref)

    def _kw_type(self, names: Any, _: dict[str, Any]) -> Check:
        names = names if isinstance(names, list) else [names]
        for name in names:
            _is_type(None, name)  # raises for unknown type names at compile time
        if len(names) == 1 and names[0] in _PLAIN_TYPES:  # one isinstance, no bool subtlety
            plain = _PLAIN_TYPES[names[0]]
            return lambda v: isinstance(v, plain)
        return lambda v: any(_is_type(v, n) for n in names)

    def _kw_enum(self, options: list[Any], _: dict[str, Any]) -> Check:
        if options and all(isinstance(o, str) for o in options):  # only text equals text
            texts = frozenset(options)
            return lambda v: isinstance(v, str) and v in texts
        return lambda v: any(_equal(v, o) for o in options)

    def _kw_const(self, const: Any, _: dict[str, Any]) -> Check:
        return lambda v: _equal(v, const)

    def _kw_properties(self, props: dict[str, Any], _: dict[str, Any]) -> Check:
        compiled = {k: self._compile(s) for k, s in props.items()}

        def check(v: Any) -> bool:  # the instance's keys, not every property the schema knows
            if isinstance(v, dict):
                for key, value in v.items():
                    prop = compiled.get(key)
                    if prop is not None and not prop(value):
                        return False
            return True
        return check

    def _kw_additionalProperties(self, extra: Any, schema: dict[str, Any]) -> Check:
        if "patternProperties" in schema:
            raise UnsupportedSchema("patternProperties")
        known = frozenset(schema.get("properties", {}))
        if extra is False:
            return lambda v: not isinstance(v, dict) or known.issuperset(v)
        check = self._compile(extra)
        return lambda v: not isinstance(v, dict) or all(check(x) for k, x in v.items() if k not in known)

    def _kw_required(self, names: list[str], _: dict[str, Any]) -> Check:
        needed = frozenset(names)
        return lambda v: not isinstance(v, dict) or v.keys() >= needed

    def _kw_items(self, items: Any, _: dict[str, Any]) -> Check:
        if not isinstance(items, dict):
            raise UnsupportedSchema("items as a list")
        item = self._compile(items)

        def check(v: Any) -> bool:
            if isinstance(v, list):
                for x in v:
                    if not item(x):
                        return False
            return True
        return check

    def _kw_minItems(self, n: int, _: dict[str, Any]) -> Check:
        return lambda v: not isinstance(v, list) or len(v) >= n

    def _kw_maxItems(self, n: int, _: dict[str, Any]) -> Check:
        return lambda v: not isinstance(v, list) or len(v) <= n

    def _kw_minLength(self, n: int, _: dict[str, Any]) -> Check:
        return lambda v: not isinstance(v, str) or len(v) >= n

    def _kw_maxLength(self, n: int, _: dict[str, Any]) -> Check:
        return lambda v: not isinstance(v, str) or len(v) <= n

    def _kw_pattern(self, pattern: str, _: dict[str, Any]) -> Check:
        regex = re.compile(pattern)
        return lambda v: not isinstance(v, str) or regex.search(v) is not None

    def _number(self, v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    def _kw_minimum(self, n: float, _: dict[str, Any]) -> Check:
        return lambda v: not self._number(v) or v >= n

    def _kw_maximum(self, n: float, _: dict[str, Any]) -> Check:
        return lambda v: not self._number(v) or v <= n

    def _kw_allOf(self, schemas: list[Any], _: dict[str, Any]) -> Check:
        return _all_of([self._compile(s) for s in schemas])

    def _kw_if(self, condition: Any, schema: dict[str, Any]) -> Check:
        test = self._compile(condition)
        then = self._compile(schema.get("then", True))
        otherwise = self._compile(schema.get("else", True))
        return lambda v: then(v) if test(v) else otherwise(v)
