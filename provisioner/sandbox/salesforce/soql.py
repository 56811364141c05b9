"""A parser and evaluator for the SOQL subset the tool sends.

``SELECT f1, Rel.f2 FROM T [WHERE cond] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n]
[OFFSET n]`` and ``SELECT COUNT() FROM T [WHERE cond]``; conditions with ``= != <> < <= > >=``,
``[NOT] IN (...)``, ``LIKE``, ``AND``, ``OR``, ``NOT`` and parentheses; literals: strings with
backslash escapes, numbers, true/false/null, dates. Field-level security applies: a field the
API user cannot see is "No such column", exactly as in a real org.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from .schema import NUMERIC_TYPES, TEXT_TYPES, FieldDef, SObjectType, to15
from .store import OrgStore

MAX_QUERY_LENGTH = 100_000

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\",
            "%": "\\%", "_": "\\_"}
_ID = re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$")
_KEYWORDS = {"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "ASC", "DESC",
             "LIMIT", "OFFSET", "NULLS", "FIRST", "LAST", "TRUE", "FALSE", "NULL", "COUNT"}


class SoqlError(Exception):
    """A query Salesforce would refuse: ``code`` is the errorCode, ``message`` its message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Token:
    kind: str  # ident, string, number, op, date
    value: Any
    pos: int


@dataclass
class Query:
    """A parsed query."""

    obj_name: str
    fields: list[tuple[str, int]]  # (path, column)
    count: bool = False
    where: Any = None
    order: list[tuple[str, bool, bool | None, int]] = field(default_factory=list)  # path, desc, nulls_last, col
    limit: int | None = None
    offset: int = 0


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == "'":
            start, i, out = i, i + 1, []
            while True:
                if i >= n:
                    raise SoqlError("MALFORMED_QUERY", f"line 1:{start} mismatched character '<EOF>' expecting '''")
                c = text[i]
                if c == "\\":
                    if i + 1 >= n or text[i + 1] not in _ESCAPES:
                        raise SoqlError("MALFORMED_QUERY", f"Invalid string literal '{text[start:i + 2]}'. "
                                                           f"Illegal character sequence '\\{text[i + 1:i + 2]}' "
                                                           f"in string literal.")
                    out.append(_ESCAPES[text[i + 1]])
                    i += 2
                elif c == "'":
                    i += 1
                    break
                else:
                    out.append(c)
                    i += 1
            tokens.append(Token("string", "".join(out), start))
        elif ch.isdigit() or (ch in "-+" and i + 1 < n and text[i + 1].isdigit()
                              and (not tokens or tokens[-1].kind == "op")):
            m = re.compile(r"[-+]?\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?|[-+]?\d+(\.\d+)?").match(text, i)
            assert m
            value = m.group(0)
            kind = "date" if "-" in value[1:] else "number"
            tokens.append(Token(kind, value if kind == "date" else float(value), i))
            i = m.end()
        elif ch.isalpha() or ch == "_":
            m = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*").match(text, i)
            assert m
            tokens.append(Token("ident", m.group(0), i))
            i = m.end()
        elif text.startswith(("!=", "<>", "<=", ">="), i):
            tokens.append(Token("op", text[i:i + 2], i))
            i += 2
        elif ch in "=<>(),":
            tokens.append(Token("op", ch, i))
            i += 1
        else:
            raise SoqlError("MALFORMED_QUERY", f"line 1:{i} no viable alternative at character '{ch}'")
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def is_kw(self, *words: str) -> bool:
        t = self.peek()
        return t is not None and t.kind == "ident" and t.value.upper() in words

    def is_op(self, op: str) -> bool:
        t = self.peek()
        return t is not None and t.kind == "op" and t.value == op

    def take(self) -> Token:
        t = self.peek()
        if t is None:
            raise SoqlError("MALFORMED_QUERY", "unexpected end of query")
        self.i += 1
        return t

    def expect_kw(self, word: str) -> None:
        t = self.peek()
        if not self.is_kw(word):
            found = t.value if t else "<EOF>"
            raise SoqlError("MALFORMED_QUERY", f"\n{self.text[:80]}\nERROR at Row:1:Column:{(t.pos if t else len(self.text)) + 1}\n"
                                               f"unexpected token: '{found}' (expecting {word})")
        self.i += 1

    def expect_op(self, op: str) -> None:
        if not self.is_op(op):
            t = self.peek()
            found = t.value if t else "<EOF>"
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{found}' (expecting '{op}')")
        self.i += 1

    def ident(self) -> Token:
        t = self.take()
        if t.kind != "ident" or t.value.upper() in ("FROM", "WHERE", "SELECT"):
            raise SoqlError("MALFORMED_QUERY", f"\n{self.text[:80]}\nERROR at Row:1:Column:{t.pos + 1}\n"
                                               f"unexpected token: '{t.value}'")
        return t

    def parse(self) -> Query:
        self.expect_kw("SELECT")
        fields: list[tuple[str, int]] = []
        count = False
        if self.is_kw("COUNT") and self.i + 1 < len(self.tokens) and self.tokens[self.i + 1].value == "(":
            self.take()
            self.expect_op("(")
            self.expect_op(")")
            count = True
        else:
            while True:
                t = self.ident()
                fields.append((t.value, t.pos + 1))
                if not self.is_op(","):
                    break
                self.take()
        self.expect_kw("FROM")
        obj = self.ident().value
        query = Query(obj_name=obj, fields=fields, count=count)
        if self.is_kw("WHERE"):
            self.take()
            query.where = self.condition()
        if self.is_kw("ORDER"):
            self.take()
            self.expect_kw("BY")
            while True:
                t = self.ident()
                desc = False
                if self.is_kw("ASC", "DESC"):
                    desc = self.take().value.upper() == "DESC"
                nulls_last: bool | None = None
                if self.is_kw("NULLS"):
                    self.take()
                    nulls_last = self.take().value.upper() == "LAST"
                query.order.append((t.value, desc, nulls_last, t.pos + 1))
                if not self.is_op(","):
                    break
                self.take()
        if self.is_kw("LIMIT"):
            self.take()
            query.limit = int(self._number())
        if self.is_kw("OFFSET"):
            self.take()
            query.offset = int(self._number())
        t = self.peek()
        if t is not None:
            raise SoqlError("MALFORMED_QUERY", f"\n{self.text[:80]}\nERROR at Row:1:Column:{t.pos + 1}\n"
                                               f"unexpected token: '{t.value}'")
        return query

    def _number(self) -> float:
        t = self.take()
        if t.kind != "number":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{t.value}' (expecting a number)")
        return t.value

    def condition(self) -> Any:
        node = self.conjunction()
        while self.is_kw("OR"):
            self.take()
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self) -> Any:
        node = self.factor()
        while self.is_kw("AND"):
            self.take()
            node = ("and", node, self.factor())
        return node

    def factor(self) -> Any:
        if self.is_kw("NOT"):
            self.take()
            return ("not", self.factor())
        if self.is_op("("):
            self.take()
            node = self.condition()
            self.expect_op(")")
            return node
        f = self.ident()
        if self.is_kw("NOT"):
            self.take()
            self.expect_kw("IN")
            return ("notin", (f.value, f.pos + 1), self._list())
        if self.is_kw("IN"):
            self.take()
            return ("in", (f.value, f.pos + 1), self._list())
        if self.is_kw("LIKE"):
            self.take()
            return ("like", (f.value, f.pos + 1), self.literal())
        t = self.take()
        if t.kind != "op" or t.value not in ("=", "!=", "<>", "<", "<=", ">", ">="):
            raise SoqlError("MALFORMED_QUERY", f"\n{self.text[:80]}\nERROR at Row:1:Column:{t.pos + 1}\n"
                                               f"unexpected token: '{t.value}'")
        return ("cmp", t.value if t.value != "<>" else "!=", (f.value, f.pos + 1), self.literal())

    def _list(self) -> list[Any]:
        self.expect_op("(")
        values = [self.literal()]
        while self.is_op(","):
            self.take()
            values.append(self.literal())
        self.expect_op(")")
        return values

    def literal(self) -> Any:
        t = self.take()
        if t.kind in ("string", "number", "date"):
            return t.value
        if t.kind == "ident" and t.value.upper() in ("TRUE", "FALSE"):
            return t.value.upper() == "TRUE"
        if t.kind == "ident" and t.value.upper() == "NULL":
            return None
        raise SoqlError("MALFORMED_QUERY", f"\n{self.text[:80]}\nERROR at Row:1:Column:{t.pos + 1}\n"
                                           f"unexpected token: '{t.value}'")


def parse(text: str) -> Query:
    """Parse ``text`` or raise :class:`SoqlError` (MALFORMED_QUERY)."""
    if len(text) > MAX_QUERY_LENGTH:
        raise SoqlError("MALFORMED_QUERY", f"Query is too long: {len(text)} characters. SOQL statements cannot "
                                           f"exceed {MAX_QUERY_LENGTH} characters.")
    return _Parser(text).parse()


def _no_such_column(query_text: str, name: str, obj: SObjectType, column: int) -> SoqlError:
    return SoqlError(
        "INVALID_FIELD",
        f"\n{query_text[:200]}\n{' ' * (column - 1)}^\nERROR at Row:1:Column:{column}\nNo such column '{name}' on "
        f"entity '{obj.name}'. If you are attempting to use a custom field, be sure to append the '__c' after "
        f"the custom field name. Please reference your WSDL or the describe call for the appropriate names.")


class _Resolver:
    """Resolves field paths against the schema, honouring field-level security."""

    def __init__(self, store: OrgStore, obj: SObjectType, text: str) -> None:
        self.store, self.obj, self.text = store, obj, text
        self.grants = store.granted()

    def field(self, path: str, column: int) -> tuple[list[FieldDef], list[SObjectType]]:
        parts = path.split(".")
        obj = self.obj
        if len(parts) > 1 and parts[0].lower() == obj.name.lower():
            parts = parts[1:]
        chain: list[FieldDef] = []
        objs: list[SObjectType] = []
        for depth, part in enumerate(parts):
            if depth < len(parts) - 1:
                ref = next((f for f in obj.fields.values() if f.relationship_name
                            and f.relationship_name.lower() == part.lower()
                            and self.store.visible(obj, f, self.grants)), None)
                target = self.store.obj(ref.reference_to[0]) if ref and ref.reference_to else None
                if ref is None or target is None:
                    raise SoqlError("INVALID_FIELD", f"\n{self.text[:200]}\nERROR at Row:1:Column:{column}\n"
                                                     f"Didn't understand relationship '{part}' in field path. If you "
                                                     f"are attempting to use a custom relationship, be sure to append "
                                                     f"the '__r' after the custom relationship name. Please reference "
                                                     f"your WSDL or the describe call for the appropriate names.")
                chain.append(ref)
                objs.append(obj)
                obj = target
            else:
                f = obj.field(part)
                if f is None or not self.store.visible(obj, f, self.grants):
                    raise _no_such_column(self.text, part, obj, column)
                chain.append(f)
                objs.append(obj)
        return chain, objs

    def value(self, record: dict[str, Any], chain: list[FieldDef], objs: list[SObjectType]) -> Any:
        current: dict[str, Any] | None = record
        for depth, f in enumerate(chain):
            if current is None:
                return None
            if depth == len(chain) - 1:
                return current.get(f.name)
            ref_id = current.get(f.name)
            target = self.store.obj(f.reference_to[0])
            current = self.store.get(target.name, ref_id) if (ref_id and target) else None
        return None


def _compare(f: FieldDef, left: Any, op: str, right: Any) -> bool:
    if f.type in ("id", "reference") and op in ("=", "!=") and right is not None and left is not None:
        same = to15(str(left)) == to15(str(right))  # Ids are case-sensitive; 15 and 18 chars match
        return same if op == "=" else not same
    if op == "=":
        if left is None or right is None:
            return left is None and right is None
        return _norm(left) == _norm(right)
    if op == "!=":
        if left is None or right is None:
            return not (left is None and right is None)
        return _norm(left) != _norm(right)
    if left is None or right is None:
        return False
    a, b = _norm(left), _norm(right)
    try:
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    except TypeError:
        return False


def _norm(v: Any) -> Any:
    if isinstance(v, str):
        return v.lower()
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return float(v)
    return v


def _like(value: Any, pattern: str) -> bool:
    if value is None:
        return False
    regex, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            regex += re.escape(pattern[i + 1])
            i += 2
            continue
        regex += ".*" if c == "%" else "." if c == "_" else re.escape(c)
        i += 1
    return re.fullmatch(regex, str(value), re.IGNORECASE | re.DOTALL) is not None


def _check_literal(text: str, f: FieldDef, value: Any, column: int) -> None:
    if f.type in ("id", "reference") and value is not None:
        if not isinstance(value, str) or not _ID.match(value):
            raise SoqlError("INVALID_QUERY_FILTER_OPERATOR",
                            f"\n{text[:200]}\nERROR at Row:1:Column:{column}\ninvalid ID field: {value}")


def _present(value: Any, wanted: set[Any]) -> bool:
    return value is not None and _norm(value) in wanted


INDEXED_TYPES = ("email", "string", "phone", "url")  # text fields a query may look records up by


def _candidates(store: OrgStore, resolver: _Resolver, node: Any) -> list[dict[str, Any]] | None:
    """The records a WHERE clause can match, through an index on a text field it compares with = or IN;
    None when no part of it can use one (then every record is tested). The full predicate still runs
    on what this returns, so it only narrows: ``Email IN (...)`` on 500,000 Leads reads a few hundred.
    """
    kind = node[0]
    if kind == "and":
        left = _candidates(store, resolver, node[1])
        return left if left is not None else _candidates(store, resolver, node[2])
    if kind == "or":
        left, right = _candidates(store, resolver, node[1]), _candidates(store, resolver, node[2])
        if left is None or right is None:
            return None
        return list({r["Id"]: r for r in left + right}.values())
    if kind == "cmp" and node[1] == "=":
        (path, column), values = node[2], [node[3]]
    elif kind == "in":
        (path, column), values = node[1], list(node[2])
    else:
        return None
    chain, _ = resolver.field(path, column)
    f = chain[0]
    if len(chain) != 1 or f.type not in INDEXED_TYPES or f.auto_number or f.name_field or None in values:
        return None
    table = resolver.obj.name
    found: dict[str, dict[str, Any]] = {}
    for value in {_norm(v) for v in values}:
        for record in store.lookup(table, f"soql:{f.name}", lambda r, n=f.name: _norm(r.get(n)), value):
            found[record["Id"]] = record
    return list(found.values())


def _predicate(resolver: _Resolver, node: Any) -> Callable[[dict[str, Any]], bool]:
    kind = node[0]
    if kind in ("and", "or"):
        left, right = _predicate(resolver, node[1]), _predicate(resolver, node[2])
        if kind == "and":
            return lambda r: left(r) and right(r)
        return lambda r: left(r) or right(r)
    if kind == "not":
        inner = _predicate(resolver, node[1])
        return lambda r: not inner(r)
    (path, column) = node[2] if kind == "cmp" else node[1]
    chain, objs = resolver.field(path, column)
    last = chain[-1]
    if kind == "cmp":
        op, literal = node[1], node[3]
        _check_literal(resolver.text, last, literal, column)
        return lambda r: _compare(last, resolver.value(r, chain, objs), op, literal)
    if kind in ("in", "notin"):
        values = node[2]
        for v in values:
            _check_literal(resolver.text, last, v, column)
        if last.type in ("id", "reference") or any(v is None for v in values):
            if kind == "in":
                return lambda r: any(_compare(last, resolver.value(r, chain, objs), "=", v) for v in values)
            return lambda r: all(_compare(last, resolver.value(r, chain, objs), "!=", v) for v in values)
        wanted = {_norm(v) for v in values}  # the same equality as _compare's, looked up instead of looped
        if kind == "in":
            return lambda r: _present(resolver.value(r, chain, objs), wanted)
        return lambda r: (value := resolver.value(r, chain, objs)) is None or _norm(value) not in wanted
    pattern = node[2]
    return lambda r: _like(resolver.value(r, chain, objs), str(pattern))


@dataclass
class Result:
    """What a query selected: the total and the records in API JSON shape."""

    total: int
    records: list[dict[str, Any]]


def execute(store: OrgStore, text: str, api_version: str) -> Result:
    """Run ``text`` against the store (caller holds the lock); raises :class:`SoqlError`."""
    query = parse(text)
    obj = store.obj(query.obj_name)
    if obj is None:
        raise SoqlError("INVALID_TYPE", f"\n{text[:200]}\nERROR at Row:1:Column:{text.upper().find(' FROM ') + 7}\n"
                                        f"sObject type '{query.obj_name}' is not supported. If you are attempting "
                                        f"to use a custom object, be sure to append the '__c' after the entity name. "
                                        f"Please reference your WSDL or the describe call for the appropriate names.")
    resolver = _Resolver(store, obj, text)
    selected = [(path, *resolver.field(path, column)) for path, column in query.fields]
    keep = _predicate(resolver, query.where) if query.where is not None else (lambda r: True)
    candidates = _candidates(store, resolver, query.where) if query.where is not None else None
    rows = [r for r in (store.all(obj.name) if candidates is None else candidates) if keep(r)]
    rows.sort(key=lambda r: r.get("CreatedDate") or "")
    for path, desc, nulls_last, column in reversed(query.order):
        chain, objs = resolver.field(path, column)
        last_nulls = nulls_last if nulls_last is not None else desc
        with_value = [r for r in rows if resolver.value(r, chain, objs) is not None]
        without = [r for r in rows if resolver.value(r, chain, objs) is None]
        with_value.sort(key=lambda r: _norm(resolver.value(r, chain, objs)), reverse=desc)
        rows = with_value + without if last_nulls else without + with_value
    if query.offset:
        rows = rows[query.offset:]
    if query.limit is not None:
        rows = rows[:query.limit]
    if query.count:
        return Result(total=len(rows), records=[])
    return Result(total=len(rows), records=[_shape(store, obj, r, selected, resolver, api_version) for r in rows])


def attributes(obj_name: str, record_id: str, api_version: str) -> dict[str, str]:
    return {"type": obj_name, "url": f"/services/data/v{api_version}/sobjects/{obj_name}/{record_id}"}


def _shape(store: OrgStore, obj: SObjectType, record: dict[str, Any], selected: list[Any], resolver: _Resolver,
           api_version: str) -> dict[str, Any]:
    out: dict[str, Any] = {"attributes": attributes(obj.name, record["Id"], api_version)}
    for _path, chain, objs in selected:
        if len(chain) == 1:
            out[chain[0].name] = record.get(chain[0].name)
            continue
        node, current = out, record
        for depth, f in enumerate(chain[:-1]):
            target = store.obj(f.reference_to[0])
            parent = store.get(target.name, current.get(f.name)) if (current and current.get(f.name) and target) \
                else None
            rel = f.relationship_name or f.name
            if parent is None:
                node[rel] = None
                break
            child = node.get(rel) or {"attributes": attributes(target.name, parent["Id"], api_version)}
            node[rel] = child
            node, current = child, parent
        else:
            node[chain[-1].name] = current.get(chain[-1].name) if current else None
    return out


_APEX_TYPES = {"id": "Id", "reference": "Id", "boolean": "Boolean", "int": "Integer", "double": "Double",
               "currency": "Double", "percent": "Double", "date": "Date", "datetime": "Datetime"}


def columns(store: OrgStore, text: str) -> dict[str, Any]:
    """What ``GET query?q=...&columns=true`` answers: the query's column metadata, no records.

    Salesforce CLI's ``sf data query`` reads it to lay out its table; relationship columns nest
    their fields in ``joinColumns``."""
    query = parse(text)
    obj = store.obj(query.obj_name)
    if obj is None:
        raise SoqlError("INVALID_TYPE", f"sObject type '{query.obj_name}' is not supported.")
    resolver = _Resolver(store, obj, text)

    def column(chain: list[FieldDef], depth: int) -> dict[str, Any]:
        f = chain[depth]
        last = depth == len(chain) - 1
        kind = f.type
        return {"aggregate": False, "apexType": _APEX_TYPES.get(kind, "String") if last else None,
                "booleanType": last and kind == "boolean", "columnName": f.name if last else f.relationship_name,
                "custom": f.custom, "displayName": f.name if last else f.relationship_name,
                "foreignKeyName": None, "insertable": last and f.createable,
                "joinColumns": [] if last else [column(chain, depth + 1)],
                "numberType": last and kind in NUMERIC_TYPES, "textType": last and kind in TEXT_TYPES,
                "updatable": last and f.updateable}

    out: list[dict[str, Any]] = []
    for path, position in query.fields:
        chain, _objs = resolver.field(path, position)
        col = column(chain, 0)
        same = next((c for c in out if c["joinColumns"] and c["columnName"] == col["columnName"]), None)
        if same is not None and col["joinColumns"]:
            same["joinColumns"] += col["joinColumns"]
        else:
            out.append(col)
    return {"columnMetadata": out, "entityName": obj.name, "groupBy": False,
            "idSelected": any(p.lower() in ("id", f"{obj.name.lower()}.id") for p, _ in query.fields),
            "keyPrefix": obj.key_prefix}
