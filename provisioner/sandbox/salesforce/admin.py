"""Sandbox admin routes (``/__sandbox/...`` on the Salesforce port): set up situations a user can
create by hand in Setup but the API cannot, and manage the sandbox itself.

No authentication (the sandbox listens on 127.0.0.1 only); never counted in stats; never faulted.

- ``GET  /__sandbox/stats``                  call counts (answered by the HTTP server itself)
- ``POST /__sandbox/save``                   write the state file now -> ``{"saved": path}``
- ``GET  /__sandbox/state``                  the org's state as JSON
- ``POST /__sandbox/reset``                  back to a fresh org (standard objects, no data)
- ``POST /__sandbox/leads/<id>/convert``     mark a Lead converted (body ``{"contactId": ...}`` optional)
- ``POST /__sandbox/fields``                 add a custom field by hand (drift): body
  ``{"object": "Lead", "metadata": {"fullName": "Foo__c", "type": "Text", "length": 20, "label": "Foo"}}``
- ``POST /__sandbox/sessions/expire``        expire every access token (clients must re-authenticate)
- ``GET|POST /__sandbox/clock``              read the clock, or ``{"advance": seconds}`` (sessions expire on it)
- ``POST /__sandbox/limits``                 body ``{"api_daily_limit": N, "api_usage": N}`` (either key)
- ``POST /__sandbox/bulk/states``            body ``{"states": ["Failed", "Aborted", "Weird"]}``: the next Bulk
  API 2.0 ingest jobs closed end in these states, one each (see ``BulkService.force_states``)
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import TYPE_CHECKING, Any, Callable

from ..clockroute import clock_reply
from ..httpserver import Request, Response
from .metadata_rules import check_custom_field, field_def
from .store import OrgStore

if TYPE_CHECKING:
    from .app import SalesforceApp


class AdminRoutes:
    """Serves ``/__sandbox/...`` for one :class:`SalesforceApp`."""

    def __init__(self, app: "SalesforceApp", on_save: Callable[[], str | None] | None) -> None:
        self.app = app
        self.on_save = on_save

    def handle(self, request: Request) -> Response:
        parts = [p for p in request.path.split("/") if p][1:]
        m = request.method
        try:
            body: Any = request.json() if request.body else {}
        except ValueError:
            return _bad("body is not JSON")
        store = self.app.store
        if parts == ["save"] and m == "POST":
            if self.on_save is None:
                return _bad("this sandbox has no state file", status=409)
            return Response.json({"saved": self.on_save()})
        if parts == ["state"] and m == "GET":
            return Response.json(store.snapshot())
        if parts == ["reset"] and m == "POST":
            fresh = OrgStore(api_daily_limit=store.api_daily_limit)
            store.restore(fresh.snapshot())
            return Response.json({"reset": True})
        if len(parts) == 3 and parts[0] == "leads" and parts[2] == "convert" and m == "POST":
            return self._convert(parts[1], body or {})
        if parts == ["fields"] and m == "POST":
            return self._add_field(body or {})
        if parts == ["clock"]:
            return clock_reply(self.app.auth.clock, request)
        if parts == ["sessions", "expire"] and m == "POST":
            return Response.json({"expired": self.app.auth.expire_all()})
        if parts == ["bulk", "states"] and m == "POST":
            with store.lock:
                return Response.json({"states": self.app.rest.bulk.force_states(list(body.get("states") or []))})
        if parts == ["limits"] and m == "POST":
            with store.lock:
                if "api_daily_limit" in body:
                    store.api_daily_limit = int(body["api_daily_limit"])
                if "api_usage" in body:
                    store.api_usage = int(body["api_usage"])
                return Response.json({"api_daily_limit": store.api_daily_limit, "api_usage": store.api_usage})
        return _bad(f"unknown sandbox admin route {m} {request.path}", status=404)

    def _convert(self, lead_id: str, body: dict[str, Any]) -> Response:
        store = self.app.store
        with store.lock:
            lead = store.get("Lead", lead_id)
            if lead is None:
                return _bad(f"no Lead {lead_id}", status=404)
            store.unindex("Lead", lead)
            lead.update({"IsConverted": True, "ConvertedDate": _dt.date.today().isoformat(),
                         "ConvertedContactId": body.get("contactId"), "LastModifiedDate": store.now()})
            store.reindex("Lead", lead)
            return Response.json({"id": lead["Id"], "IsConverted": True})

    def _add_field(self, body: dict[str, Any]) -> Response:
        store = self.app.store
        with store.lock:
            obj = store.obj(str(body.get("object") or ""))
            md = body.get("metadata") or {}
            if obj is None:
                return _bad(f"no object {body.get('object')}", status=404)
            errors = check_custom_field(store, obj.name, md)
            if obj.field(str(md.get("fullName") or "")):
                errors.append({"statusCode": "DUPLICATE_DEVELOPER_NAME", "message": "field exists", "fields": []})
            if errors:
                return Response(400, json.dumps(errors).encode(), {"Content-Type": "application/json"})
            f = field_def(md)
            store.drop_indexes(obj.name)
            obj.add(f)
            store.touch_component("CustomField", f"{obj.name}.{f.name}", "00N")
            for rec in store.all(obj.name):
                rec.setdefault(f.name, f.default_value)
            return Response.json({"added": f"{obj.name}.{f.name}"})


def _bad(message: str, status: int = 400) -> Response:
    return Response.json({"error": message}, status=status)
