"""Manifests: load YAML/Jinja with line marks, validate (schema + rules), build the typed model.

Entry point: :func:`load` returns a :class:`LoadResult` with every finding and the model.
"""

from .findings import Finding, Location, ManifestError
from .validate import LoadResult, load

__all__ = ["Finding", "Location", "ManifestError", "LoadResult", "load"]
