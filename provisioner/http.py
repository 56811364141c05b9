"""The one requests session factory every client of the tool uses (REST, SOAP via zeep, Marketo).

Why a factory: requests lets ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` from the environment
override ``session.verify``, so a configured ``SF_CA_BUNDLE`` would be silently ignored on
machines that set those variables. The session made here keeps the bundle it was given.

It also frees what a failed exchange leaves behind. urllib3 keeps the exception of a dropped connection
in local variables, so its frames, and the request body they hold (a Bulk upload, an import file), form
reference cycles that only Python's cyclic collector frees. ``sync`` pauses that collector (see
:mod:`provisioner.sync.engine`), so after a failure the next exchange of the session collects them.
"""

from __future__ import annotations

import gc
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from . import __version__

USER_AGENT = f"provisioner/{__version__}"


class _PinnedVerifySession(requests.Session):
    """A session whose explicit ``verify`` wins over CA variables in the environment, and which collects a
    failed exchange's reference cycles at its next exchange while the cyclic collector is paused."""

    _failed = False  # an exchange failed since the last collection

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if self._failed and not gc.isenabled():
            self._failed = False
            gc.collect()
        try:
            return super().send(request, **kwargs)
        except requests.RequestException:
            self._failed = True
            raise

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> dict:
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if verify is None and self.verify not in (True, None):
            settings["verify"] = self.verify
        return settings


def make_session(ca_bundle: str | None = None, pool_size: int = 10) -> requests.Session:
    """A requests session that trusts ``ca_bundle`` (when given) and pools ``pool_size`` connections."""
    session = _PinnedVerifySession()
    if ca_bundle:
        session.verify = ca_bundle
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session
