"""Every API route the emulated org answers, in the form its call statistics name them.

One row per resource: the HTTP methods it takes and its path template (``vXX.X`` for the API
version, ``{...}`` for path parameters). The Metadata API is one route with many SOAP operations
(:data:`.metadata_api.OPERATIONS`). ``docs/fidelity/salesforce.md`` documents each row; a test
keeps the three in step (this table, :meth:`.app.SalesforceApp.route_name`, and the page).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    """A resource: the methods it answers and its path template."""

    methods: tuple[str, ...]
    path: str
    stats: str = ""  # how call statistics name it, when not the path without its version

    @property
    def stats_path(self) -> str:
        """The template as call statistics name it (no version: ``/services/data/sobjects/{type}``)."""
        return self.stats or self.path.replace("/vXX.X", "")


def _r(methods: str, path: str, stats: str = "") -> Route:
    return Route(tuple(methods.split()), path, stats)


ROUTES: tuple[Route, ...] = (
    _r("POST", "/services/oauth2/token"),
    _r("GET POST", "/services/oauth2/userinfo"),
    _r("GET", "/id/{orgId}/{userId}", "/id"),
    _r("POST", "/services/Soap/u/XX.X", "/services/Soap/u login"),
    _r("POST", "/services/Soap/m/XX.X", "/services/Soap/m {operation}"),
    _r("GET", "/services/data"),
    _r("GET", "/services/data/vXX.X/limits"),
    _r("GET", "/services/data/vXX.X/query"),
    _r("GET", "/services/data/vXX.X/query/{locator}"),
    _r("GET", "/services/data/vXX.X/queryAll"),
    _r("GET", "/services/data/vXX.X/sobjects"),
    _r("GET POST", "/services/data/vXX.X/sobjects/{type}"),
    _r("GET", "/services/data/vXX.X/sobjects/{type}/describe"),
    _r("GET PATCH DELETE", "/services/data/vXX.X/sobjects/{type}/{id}"),
    _r("GET PATCH DELETE", "/services/data/vXX.X/sobjects/{type}/{externalIdField}/{value}"),
    _r("GET POST", "/services/data/vXX.X/composite"),
    _r("POST PATCH DELETE", "/services/data/vXX.X/composite/sobjects"),
    _r("PATCH", "/services/data/vXX.X/composite/sobjects/{type}/{externalIdField}"),
    _r("GET POST", "/services/data/vXX.X/jobs/ingest"),
    _r("GET PATCH DELETE", "/services/data/vXX.X/jobs/ingest/{id}"),
    _r("PUT", "/services/data/vXX.X/jobs/ingest/{id}/batches"),
    _r("GET", "/services/data/vXX.X/jobs/ingest/{id}/successfulResults"),
    _r("GET", "/services/data/vXX.X/jobs/ingest/{id}/failedResults"),
    _r("GET", "/services/data/vXX.X/jobs/ingest/{id}/unprocessedrecords"),
    _r("GET POST", "/services/data/vXX.X/jobs/query"),
    _r("GET PATCH DELETE", "/services/data/vXX.X/jobs/query/{id}"),
    _r("GET", "/services/data/vXX.X/jobs/query/{id}/results"),
)
