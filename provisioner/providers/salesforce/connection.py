"""One connection to one org: login, the REST client, the metadata client, and per-plan read memos.

The memos let two resource kinds that need the same read (objects and their fields both come
from one ``readMetadata CustomObject`` call) share it: :meth:`reset_reads` clears them before
apply re-reads live state, and every write clears them too.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Mapping

from ...http import make_session
from . import retry
from .auth import Session, login
from .data_client import DataClient
from .metadata_client import MetadataClient
from .settings import SalesforceSettings
from .soql import in_chunks

_API_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")

#: Campaigns by name with their member statuses (see :meth:`SalesforceConnection.read_campaigns`).
CAMPAIGNS_QUERY = (
    "SELECT Id, Label, SortOrder, IsDefault, HasResponded, CampaignId, Campaign.Name, Campaign.Type, "
    "Campaign.Description, Campaign.CreatedDate, Campaign.Status, Campaign.StartDate, Campaign.EndDate, "
    "Campaign.IsActive, Campaign.ParentId, Campaign.Parent.Name FROM CampaignMemberStatus "
    "WHERE Campaign.Name IN ({values}) ORDER BY SortOrder ASC")


def campaign_read_calls(names: list[str]) -> int:
    """Queries :meth:`SalesforceConnection.read_campaigns` sends for ``names`` when none is memoised
    (one per length-safe IN list; a reply over 2,000 rows adds a queryMore call per 2,000)."""
    return len(list(in_chunks(CAMPAIGNS_QUERY, names)))


class SalesforceConnection:
    """Everything a resource kind needs to talk to the org."""

    def __init__(self, settings: SalesforceSettings) -> None:
        self.settings = settings
        self.http = make_session(settings.ca_bundle)
        self.calls = 0  # HTTP exchanges with the org (login included): what a plan cost, for the forecast
        self._usage_seen: tuple[int, int, int] | None = None  # (used, limit, self.calls) at the last header
        self.http.hooks["response"].append(self._count_call)
        self._session: Session = login(settings, self.http)
        self.api_version = settings.api_version
        from simple_salesforce import Salesforce

        self.sf = Salesforce(instance_url=self._session.instance_url, session_id=self._session.access_token,
                             session=self.http, version=self.api_version)
        can_relogin = settings.flow != "access_token"
        self.data = DataClient(self.sf, self.relogin if can_relogin else None)
        self._relogin_or_none = self.relogin if can_relogin else None
        self._metadata: MetadataClient | None = None
        self._metadata_lock = threading.Lock()
        self._objects: dict[str, dict[str, Any] | None] = {}
        self._wanted_objects: list[str] = []
        self._campaigns: dict[str, dict[str, Any] | None] = {}
        self._user_id = self._session.user_id
        self._identity: dict[str, str] | None = None

    @property
    def metadata(self) -> MetadataClient:
        """The Metadata API client, built on first use: parsing the WSDL costs about a second and tens of
        MB, which a sync (data APIs only) never needs."""
        with self._metadata_lock:
            if self._metadata is None:
                self._metadata = MetadataClient(self.http, self._session.instance_url, self.api_version,
                                                token=lambda: self._session.access_token,
                                                relogin=self._relogin_or_none)
            return self._metadata

    def _count_call(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        if str(response.url).startswith(("https:", "http:")):  # not the cached WSDL (a file: URL)
            self.calls += 1
            usage = _API_USAGE.search(response.headers.get("Sforce-Limit-Info") or "")
            if usage:
                self._usage_seen = (int(usage.group(1)), int(usage.group(2)), self.calls)
        return response

    @property
    def api_usage(self) -> tuple[int, int] | None:
        """(calls used today, daily limit): the last REST reply's ``Sforce-Limit-Info: api-usage=N/M`` header
        plus the calls this connection made since (SOAP replies do not carry it), so the forecast's limit
        check needs no ``/limits`` call. None until a REST reply came."""
        if self._usage_seen is None:
            return None
        used, limit, at = self._usage_seen
        return used + (self.calls - at), limit

    @classmethod
    def from_env(cls, env: Mapping[str, str], api_version: str | None = None) -> "SalesforceConnection":
        return cls(SalesforceSettings.from_env(env, api_version))

    def __repr__(self) -> str:
        return f"SalesforceConnection({self._session.instance_url}, flow={self.settings.flow})"

    @property
    def instance_url(self) -> str:
        return self._session.instance_url

    def relogin(self) -> None:
        """Log in again after INVALID_SESSION_ID, and point both clients at the new token."""
        self._session = login(self.settings, self.http)
        self.sf.session_id = self._session.access_token
        self.sf.headers["Authorization"] = "Bearer " + self._session.access_token

    def _userinfo(self) -> dict[str, Any]:
        """OpenID Connect userinfo of the token's user (one call)."""
        info = retry.call(lambda: self.http.get(f"{self.instance_url}/services/oauth2/userinfo",
                                                headers={"Authorization": "Bearer " + self._session.access_token},
                                                timeout=60).json(), what="userinfo", relogin=None)
        return info if isinstance(info, dict) else {}

    @property
    def user_id(self) -> str:
        """Id of the user the tool runs as (the one permission sets are assigned to)."""
        if not self._user_id:
            self._user_id = self._userinfo().get("user_id")
        return self._user_id or ""

    def identity(self) -> dict[str, str]:
        """The organization id and API user (username) this connection works as, read once:
        a saved plan records them, and apply refuses the plan with another org's credentials."""
        if self._identity is None:
            info = self._userinfo()
            self._user_id = self._user_id or info.get("user_id")
            self._identity = {"organization_id": str(info.get("organization_id") or "(unknown)"),
                              "user": str(info.get("preferred_username") or info.get("user_id") or "(unknown)")}
        return self._identity

    # -- memoised reads ------------------------------------------------------------
    def reset_reads(self) -> None:
        """Forget memoised reads (before apply re-reads live state)."""
        self._objects.clear()
        self._campaigns.clear()

    def read_objects(self, api_names: list[str]) -> dict[str, dict[str, Any] | None]:
        """CustomObject metadata (with custom fields) for each name, each read at most once per plan."""
        missing = [n for n in dict.fromkeys(api_names) if n not in self._objects]
        if missing:  # the objects other kinds announced (see want_objects) come along in the same calls
            missing += [n for n in dict.fromkeys(self._wanted_objects) if n not in self._objects and n not in missing]
            self._objects.update(self.metadata.read("CustomObject", missing))
            for name in missing:  # absent is an answer too: the field kind asks again for the same objects
                self._objects.setdefault(name, None)
        return {n: self._objects.get(n) for n in api_names}

    def prefetch_objects(self, api_names: list[str]) -> None:
        self.read_objects(api_names)

    def want_objects(self, api_names: list[str]) -> None:
        """Announce objects a later read will ask for (a field's object, a lookup's target), so the first
        ``readMetadata CustomObject`` of the plan fetches them too (10 a call) instead of one call more."""
        self._wanted_objects += [n for n in api_names if n]

    def read_campaigns(self, names: list[str]) -> dict[str, dict[str, Any] | None]:
        """Campaigns by Name, with their member statuses, in one query for all names.

        Every campaign has at least one status (its default), so querying the statuses with the
        parent campaign's fields finds every campaign too. Names compare case-insensitively, as
        SOQL's IN does. Among campaigns sharing a name the oldest is the one managed. Each name is read at most once per plan.
        """
        missing = [n for n in dict.fromkeys(names) if n not in self._campaigns]
        if missing:
            self.remember_campaigns(missing, self.data.query_in(CAMPAIGNS_QUERY, missing, what="read campaigns"))
        return {n: self._campaigns.get(n) for n in names}

    def remember_campaigns(self, missing: list[str], rows: list[dict[str, Any]]) -> None:
        """Memoise the campaigns named ``missing`` from the rows of ``CAMPAIGNS_QUERY`` over those names
        (read here or by a caller that sent the query along with other reads)."""
        if missing:
            campaigns: dict[str, dict[str, Any]] = {}
            for row in rows:
                parent = row.get("Campaign") or {}
                found = campaigns.setdefault(row["CampaignId"], {
                    **{k: v for k, v in parent.items() if k not in ("attributes", "Parent")},
                    "Id": row["CampaignId"], "ParentName": (parent.get("Parent") or {}).get("Name"),
                    "statuses": []})
                found["statuses"].append({k: v for k, v in row.items() if k != "Campaign"})
            by_name: dict[str, list[dict[str, Any]]] = {}
            for campaign in campaigns.values():
                by_name.setdefault(campaign["Name"].casefold(), []).append(campaign)
            for name in missing:
                same = sorted(by_name.get(name.casefold(), []), key=lambda c: (str(c["CreatedDate"]), c["Id"]))
                self._campaigns[name] = same[0] if same else None

    def forget_campaign_names(self, names: list[str]) -> None:
        """Drop memoised campaigns (after a write, or to look again after a lost reply)."""
        for name in names:
            self._campaigns.pop(name, None)

    def wrote_metadata(self) -> None:
        self._objects.clear()
