"""Make a plan (read live state once per kind, classify every address) and apply it safely.

Safety rules live here, once: a stale plan is refused, deletes and replaces need
``allow_destroy``, both checked before any change is made; changes run in dependency order;
an independent failure does not stop the run, but changes that depend on a failed address
are skipped; manual changes are reported, never applied.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Mapping, Sequence

from .. import __version__
from .classify import classify_with
from .errors import (DestroyNotAllowedError, MissingReference, MissingReferencesError, PlanError, StalePlanError,
                     WrongOrgError)
from .fingerprint import address_digests, canonical_json, changed_addresses, fingerprint
from .ordering import order_addresses, order_kinds
from .plan import Plan, desired_from_changes
from .render_json import change_to_json
from .report import ApplyReport
from .resource import DELETE, PRESENT, Change, Desired, Live, ResourceKind, Result, provider_of

TOOL = f"provisioner {__version__}"

OnResult = Callable[[Result], None]


def make_plan(
    kinds: Sequence[ResourceKind],
    desired: list[Desired],
    connections: Mapping[str, Any],
    *,
    manifests: Sequence[str] = (),
) -> Plan:
    """Read each kind's live state once (for all its desired addresses) and classify every address.

    ``connections`` is keyed by provider prefix (``salesforce``, ``marketo``); only providers
    that have desired resources need one. Changes come back in apply order.
    """
    registry = _registry(kinds)
    kind_order = order_kinds({k.name: tuple(k.depends_on) for k in kinds})
    _check_desired(desired, registry, kind_order)
    live = read_live(registry, kind_order, desired, connections)

    by_address = {d.address: d for d in desired}
    changes = []
    for kind_name in kind_order:
        for wave in _waves([d for d in desired if d.kind == kind_name]):
            for address in wave:
                changes.append(_classify(registry[kind_name], by_address[address], live[address]))

    digests = address_digests(live, {d.address: d.sensitive for d in desired})
    plan = Plan(
        changes=changes,
        fingerprint=fingerprint(digests),
        address_digests=digests,
        desired=list(desired),
        manifests=list(manifests),
        created_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        tool=TOOL,
        org=org_identities(connections, {provider_of(d.kind) for d in desired}),
    )
    missing = missing_references(registry, kind_order, desired, changes, connections)
    if missing:
        raise MissingReferencesError(missing, plan)
    return plan


def will_exist(change: Change | None) -> bool | None:
    """Whether the address exists once the plan is applied; None when the plan does not cover it.

    A manual step does not create anything: a resource that is missing and manual stays missing.
    """
    if change is None:
        return None
    if change.is_manual:
        return change.before is not None
    return change.after is not None and DELETE not in change.actions[-1:]


def missing_references(
    registry: Mapping[str, ResourceKind],
    kind_order: Sequence[str],
    desired: list[Desired],
    changes: list[Change],
    connections: Mapping[str, Any],
) -> list[MissingReference]:
    """Ask every kind that has a ``missing_references(conn, desired, planned)`` member what its
    resources refer to that neither the org holds nor the plan creates (see :func:`will_exist`)."""
    planned = {c.address: c for c in changes}
    missing: list[MissingReference] = []
    for kind_name in kind_order:
        check = getattr(registry[kind_name], "missing_references", None)
        group = [d for d in desired if d.kind == kind_name and d.ensure == PRESENT
                 and planned[d.address].action in ("create", "update", "replace")]
        if check is not None and group:
            missing += check(_connection(connections, kind_name), group, planned)
    return missing


def apply_plan(
    plan: Plan,
    kinds: Sequence[ResourceKind],
    connections: Mapping[str, Any],
    *,
    allow_destroy: bool,
    on_result: OnResult | None = None,
) -> ApplyReport:
    """Re-read live state, refuse a stale plan or an unallowed destroy, then apply in order.

    Raises :class:`StalePlanError` or :class:`DestroyNotAllowedError` before any change is made.
    """
    if plan.redacted:
        raise PlanError(
            "This plan was read from a file, where sensitive values are masked, so it cannot be "
            "applied as it is. Apply it together with a fresh plan from its manifests (apply_saved_plan)."
        )
    registry = _registry(kinds)
    kind_order = order_kinds({k.name: tuple(k.depends_on) for k in kinds})
    desired = plan.desired or desired_from_changes(plan.changes)
    _check_kinds(plan, registry)
    _refuse_destroy(plan, allow_destroy)
    live = read_live(registry, kind_order, desired, connections)
    digests = address_digests(live, {d.address: d.sensitive for d in desired})
    stale = changed_addresses(plan.address_digests, digests)
    if stale:
        raise StalePlanError(stale)
    check_before_writes(plan, registry, kind_order, connections)
    return _execute(plan, registry, kind_order, connections, on_result)


def apply_saved_plan(
    saved: Plan,
    fresh: Plan,
    kinds: Sequence[ResourceKind],
    connections: Mapping[str, Any],
    *,
    allow_destroy: bool,
    on_result: OnResult | None = None,
) -> ApplyReport:
    """Apply a plan file: ``fresh`` is a new plan from the saved plan's manifests.

    The saved plan is refused when live state changed since it was written (fingerprint) or
    when the manifests now plan something different; otherwise ``fresh`` (which carries the
    real values of sensitive attributes) is applied without reading live state a third time.
    """
    _refuse_other_org(saved, fresh)
    stale = changed_addresses(saved.address_digests, fresh.address_digests)
    if stale:
        raise StalePlanError(stale)
    differing = [] if saved is fresh else _differing_changes(saved, fresh)
    if differing:
        raise StalePlanError(differing, what="manifests")
    registry = _registry(kinds)
    kind_order = order_kinds({k.name: tuple(k.depends_on) for k in kinds})
    _check_kinds(fresh, registry)
    _refuse_destroy(fresh, allow_destroy)
    check_before_writes(fresh, registry, kind_order, connections)
    return _execute(fresh, registry, kind_order, connections, on_result)


def check_before_writes(plan: Plan, registry: Mapping[str, ResourceKind], kind_order: Sequence[str],
                        connections: Mapping[str, Any]) -> None:
    """Before the first write of any provider, every kind with changes checks what would make it fail
    half-way (the optional ``kind.prepare(conn, changes)``: e.g. the Marketo API user's permissions for
    the areas that kind writes, and only those), so that a refusal on one side stops the apply before
    the other side is changed."""
    for kind_name in kind_order:
        prepare = getattr(registry[kind_name], "prepare", None)
        changes = [c for c in plan.changes if c.kind == kind_name and not (c.is_no_op or c.is_manual)]
        if prepare is not None and changes:
            prepare(_connection(connections, kind_name), changes)


class OrgIdentities(Mapping[str, dict[str, str]]):
    """``identity()`` of each used provider's connection (connections without one are not bound), asked on
    first use: only a plan that is saved, compared with another or shown as JSON needs it, and Salesforce
    answers it with an API call (userinfo) that a plan only shown would spend for nothing."""

    def __init__(self, connections: Mapping[str, Any], providers: set[str]) -> None:
        self._connections, self._providers = connections, providers
        self._found: dict[str, dict[str, str]] | None = None

    def _identities(self) -> dict[str, dict[str, str]]:
        if self._found is None:
            self._found = {}
            for name in sorted(self._providers):
                identity = getattr(self._connections.get(name), "identity", None)
                if callable(identity):
                    self._found[name] = dict(identity())
        return self._found

    def same_connections(self, other: "OrgIdentities") -> bool:
        """Whether ``other`` asks the very same connection objects (then the orgs are the same)."""
        return self._providers == other._providers and all(
            self._connections.get(p) is other._connections.get(p) for p in self._providers)

    def __getitem__(self, provider: str) -> dict[str, str]:
        return self._identities()[provider]

    def __iter__(self) -> Iterator[str]:
        return iter(self._identities())

    def __len__(self) -> int:
        return len(self._identities())


def org_identities(connections: Mapping[str, Any], providers: set[str]) -> Mapping[str, dict[str, str]]:
    """Which org each used provider's connection works as (read when first needed, see :class:`OrgIdentities`)."""
    return OrgIdentities(connections, providers)


def _refuse_other_org(saved: Plan, fresh: Plan) -> None:
    """Raise naming both ids when the saved plan was made against another org (or records none).
    Two plans made through the same connections are for the same orgs: nothing to ask them."""
    if isinstance(saved.org, OrgIdentities) and isinstance(fresh.org, OrgIdentities) and \
            saved.org.same_connections(fresh.org):
        return
    differences = []
    for provider, now in sorted(fresh.org.items()):
        then = saved.org.get(provider)
        if then is None:
            differences.append(f"{provider}: the plan records no org; the credentials point at {_ids(now)}")
        elif then != now:
            differences.append(f"{provider}: the plan was made for {_ids(then)}; the credentials point at {_ids(now)}")
    if differences:
        raise WrongOrgError(differences)


def _ids(identity: Mapping[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in identity.items())


def read_live(
    registry: Mapping[str, ResourceKind],
    kind_order: Sequence[str],
    desired: list[Desired],
    connections: Mapping[str, Any],
) -> dict[str, Live]:
    """Call each kind's ``read`` once with all its desired resources; a missing address means absent.

    First every kind with a ``before_read(conn, desired)`` member announces what it will read, so that a
    kind read earlier can fetch it in the same call (Salesforce: a field's object, a lookup's target)."""
    live: dict[str, Live] = {}
    for kind_name in kind_order:
        group = [d for d in desired if d.kind == kind_name]
        announce = getattr(registry[kind_name], "before_read", None)
        if group and announce is not None:
            announce(_connection(connections, kind_name), group)
    for kind_name in kind_order:
        group = [d for d in desired if d.kind == kind_name]
        if not group:
            continue
        conn = _connection(connections, kind_name)
        found = registry[kind_name].read(conn, group)
        for d in group:
            state = found.get(d.address)
            live[d.address] = state if state is not None else Live(d.address, None)
    return live


# -- internals ---------------------------------------------------------------------------


def _registry(kinds: Sequence[ResourceKind]) -> dict[str, ResourceKind]:
    """Kinds by name; two kinds with one name is a programming error worth a clear message."""
    registry: dict[str, ResourceKind] = {}
    for kind in kinds:
        if kind.name in registry:
            raise PlanError(f"resource kind {kind.name} is registered twice")
        registry[kind.name] = kind
    return registry


def _where(d: Desired) -> str:
    """``file:line:column: `` for messages, when the resource knows where it was declared."""
    loc = d.location
    if loc is None:
        return ""
    return f"{getattr(loc, 'file', '?')}:{getattr(loc, 'line', '?')}:{getattr(loc, 'column', '?')}: "


def _check_desired(desired: list[Desired], registry: Mapping[str, ResourceKind], kind_order: list[str]) -> None:
    """Unknown kinds, duplicate addresses and dependencies against kind order are plan errors."""
    seen: dict[str, Desired] = {}
    for d in desired:
        if d.kind not in registry:
            raise PlanError(f"{_where(d)}{d.address}: unknown resource kind {d.kind}")
        if d.address in seen:
            raise PlanError(f"{_where(d)}{d.address} is declared twice (first at {_where(seen[d.address]) or '?'})")
        seen[d.address] = d
    position = {name: i for i, name in enumerate(kind_order)}
    for d in desired:
        for dep in d.depends_on:
            other = seen.get(dep)
            if other is not None and position[other.kind] > position[d.kind]:
                raise PlanError(
                    f"{_where(d)}{d.address} depends on {dep}, but kind {other.kind} is applied after {d.kind}"
                )


def _waves(items: Sequence[Desired] | Sequence[Change]) -> list[list[str]]:
    """Apply waves of one kind's addresses (see :mod:`provisioner.plan.ordering`)."""
    return order_addresses([i.address for i in items], {i.address: tuple(i.depends_on) for i in items})


def _classify(kind: ResourceKind, desired: Desired, live: Live) -> Change:
    """Classify one address and make sure the change carries what the engine relies on."""
    change = classify_with(kind, desired, live)
    if change.address != desired.address:
        raise PlanError(f"{kind.name}.classify returned a change for {change.address}, not {desired.address}")
    change.depends_on = change.depends_on or tuple(desired.depends_on)
    change.sensitive = change.sensitive | desired.sensitive
    change.location = change.location if change.location is not None else desired.location
    change.info = change.info or dict(live.info)
    return change


def _connection(connections: Mapping[str, Any], kind_name: str) -> Any:
    """The connection for a kind's provider, or a plan error naming what is missing."""
    provider = provider_of(kind_name)
    if provider not in connections or connections[provider] is None:
        raise PlanError(f"no connection for provider {provider!r} (needed by {kind_name})")
    return connections[provider]


def _check_kinds(plan: Plan, registry: Mapping[str, ResourceKind]) -> None:
    """Every change must have its kind registered, or it would silently not be applied."""
    unknown = sorted({c.kind for c in plan.changes} - set(registry))
    if unknown:
        raise PlanError(f"the plan has changes of unknown resource kind(s): {', '.join(unknown)}")


def _refuse_destroy(plan: Plan, allow_destroy: bool) -> None:
    """Raise listing every delete and replace unless destroy is allowed."""
    destroying = [c.address for c in plan.changes if c.requires_destroy]
    if destroying and not allow_destroy:
        raise DestroyNotAllowedError(destroying)


def _differing_changes(saved: Plan, fresh: Plan) -> list[str]:
    """Addresses whose planned change (as a plan file writes it) differs between two plans.

    Where a resource is declared is not compared: moving it inside a manifest changes nothing.
    """

    def comparable(change: Change) -> str:
        data = change_to_json(change)
        data.pop("location")
        return canonical_json(data)

    old = {c.address: comparable(c) for c in saved.changes}
    new = {c.address: comparable(c) for c in fresh.changes}
    return sorted(a for a in set(old) | set(new) if old.get(a) != new.get(a))


def _execute(
    plan: Plan,
    registry: Mapping[str, ResourceKind],
    kind_order: Sequence[str],
    connections: Mapping[str, Any],
    on_result: OnResult | None,
) -> ApplyReport:
    """Creates, updates and replaces in dependency order, then deletes in reverse order."""
    report = ApplyReport(manual=[c for c in plan.changes if c.is_manual])
    failed: set[str] = set()
    dependents: dict[str, list[str]] = {}
    for c in plan.changes:
        for dep in c.depends_on:
            dependents.setdefault(dep, []).append(c.address)

    def emit(result: Result) -> None:
        report.results.append(result)
        if not result.ok:
            failed.add(result.address)
        if on_result is not None:
            on_result(result)

    def run(kind_name: str, changes: list[Change], deleting: bool) -> None:
        runnable = []
        for c in changes:
            if deleting:
                blockers = [d for d in dependents.get(c.address, []) if d in failed]
                why = f"skipped: {blockers[0]} depends on it and could not be deleted" if blockers else ""
            else:
                blockers = [d for d in c.depends_on if d in failed]
                why = f"skipped: depends on {blockers[0]} which failed" if blockers else ""
            if blockers:
                emit(Result(c.address, False, c.action, why))
            else:
                runnable.append(c)
        if runnable:
            for result in _apply_batch(registry[kind_name], runnable, connections):
                emit(result)

    forward = [c for c in plan.changes if not (c.is_no_op or c.is_manual or c.actions == [DELETE])]
    deletes = [c for c in plan.changes if c.actions == [DELETE]]
    for kind_name in kind_order:
        group = [c for c in forward if c.kind == kind_name]
        by_address = {c.address: c for c in group}
        for wave in _waves(group):
            run(kind_name, [by_address[a] for a in wave], deleting=False)
    for kind_name in reversed(kind_order):
        group = [c for c in deletes if c.kind == kind_name]
        by_address = {c.address: c for c in group}
        for wave in reversed(_waves(group)):
            run(kind_name, [by_address[a] for a in wave], deleting=True)
    return report


def _failed(kind: ResourceKind, changes: list[Change], exc: Exception) -> list[Result]:
    """Every change failed by ``exc``, with its type (lets the CLI tell a daily API limit, exit 3)."""
    message = f"{kind.name} apply failed: {exc}" if not isinstance(exc, PlanError) else str(exc)
    return [Result(c.address, False, c.action, message, {"error_type": type(exc).__name__}) for c in changes]


def _apply_batch(kind: ResourceKind, changes: list[Change], connections: Mapping[str, Any]) -> list[Result]:
    """One ``kind.apply`` call; an exception or a missing result fails those addresses, not the run."""
    try:
        conn = _connection(connections, kind.name)
        returned = kind.apply(conn, changes) or []
    except Exception as exc:  # a failed batch must not stop independent kinds
        return _failed(kind, changes, exc)
    by_address = {r.address: r for r in returned}
    results = []
    for c in changes:
        result = by_address.get(c.address) or Result(c.address, False, c.action, f"{kind.name} reported no result")
        result.action = c.action
        results.append(result)
    return results
