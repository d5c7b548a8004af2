"""The Supabase project itself, as a Pulumi dynamic provider.

The published `pulumi-supabase` package only creates projects (see ARCHITECTURE.md), so
this provider implements create/read/update/delete/diff over the Management API v1. The
project's settings (database password, pooler, SSL enforcement, network restrictions,
auth) are resources of their own (`password.py`, `settings_resources.py`), each with atomic
state. This module keeps its path and class names: states written before that split hold
`components.supabase.provider.SupabaseProjectProvider` and `.Timing` pickled by reference.

Create never requests a second project (rule R1): it looks the project up by name,
organisation and region first (found: adopted, and nothing about it changes, rule R5),
POSTs at most once, and after an answer that leaves the outcome open (none, a timeout, a
5xx, a 2xx without a ref) looks again for as long as the organisation's project list may
lag, else stops saying so. Only 404 and REMOVED mean gone (rule R2).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pulumi
import pulumi.dynamic

from .api import JsonObject, SupabaseApiError, SupabaseClient, project_keys
from .dynamic import (
    Checker,
    Problem,
    ProviderBase,
    SupabaseProvisioningError,
    SupabaseResource,
    Timing,
    canon,
    require_valid,
    token_changed,
)
from .facts import (
    API_INSTANCE_SIZES,
    API_URL,
    GONE_STATUSES,
    OWN_PROJECT_HINT,
    PAUSED_STATUSES,
    PROJECT,
    READY_STATUS,
    RESTORE_HINT,
    TOKEN_KEY,
)

# `Timing` is named here on purpose: earlier states pickled it as
# components.supabase.provider.Timing, so it must stay importable from this module.
__all__ = [
    "INPUT_KEYS",
    "OUTPUT_KEYS",
    "SupabaseProject",
    "SupabaseProjectArgs",
    "SupabaseProjectProvider",
    "SupabaseProvisioningError",
    "Timing",
]

PITR_DEFAULT_VARIANT = "pitr_7"
"""The add-on `pitr_required` selects when the project has none: the shortest retention."""

INPUT_KEYS = ("name", "organization_slug", "region", "desired_instance_size", "pitr_required")
"""Inputs diff compares. `db_pass` is an input too, used by create only (the project is
created with it); the `DatabasePassword` resource owns it afterwards, so it never counts
as a change here. Inputs an earlier version recorded (pool, SSL, networks, auth) are
ignored: they belong to their own resources now."""
REPLACE_KEYS = ("organization_slug", "region")
"""A project cannot move between organisations or regions: these replace it.
`name` is not here: PATCH /v1/projects/{ref} renames in place."""
OUTPUT_KEYS = (
    "ref", "api_url", "status", "db_host", "anon_key", "service_role_key", "pitr_enabled",
    "walg_enabled", "latest_backup_at", "adopted",
)  # fmt: skip

_SLUG = re.compile(r"^[\w-]+$")
_REGION = re.compile(r"^[a-z]{2}-[a-z]+-\d{1,2}$")


# ---------------------------------------------------------------------- validation


def normalise(props: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Inputs with defaults applied and values canonicalised, plus every problem found.

    Unknown values (a preview before a dependency exists) pass through unchecked.
    """
    out: dict[str, Any] = {"pitr_required": False, "desired_instance_size": None}
    keys = (*INPUT_KEYS, "db_pass", TOKEN_KEY)
    out.update({k: v for k, v in props.items() if k in keys and v is not None})
    check = Checker(out)
    check("name", lambda v: isinstance(v, str) and 1 <= len(v) <= 256, "1-256 characters", True)
    check(
        "organization_slug",
        lambda v: isinstance(v, str) and bool(_SLUG.fullmatch(v)),
        "an organisation slug (letters, digits, _ and -)",
        True,
    )
    check(
        "region",
        lambda v: isinstance(v, str) and bool(_REGION.fullmatch(v)),
        "a region code such as eu-central-1",
        True,
    )
    check("db_pass", lambda v: isinstance(v, str) and len(v) >= 4, "at least 4 characters", True)
    check(
        "desired_instance_size",
        lambda v: v in API_INSTANCE_SIZES,
        f"one of {API_INSTANCE_SIZES}",
    )
    check("pitr_required", lambda v: isinstance(v, bool), "true or false")
    check.token()
    return out, check.problems


def changed_keys(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """Inputs whose desired value differs from the recorded (or refreshed) one.

    An unmanaged instance size (None) never counts as a change.
    """
    desired, _ = normalise(news)
    changed = []
    for key in INPUT_KEYS:
        new = desired.get(key)
        if new is None and key == "desired_instance_size":
            continue
        if canon(new) != canon(olds.get(key)):
            changed.append(key)
    return changed


# ---------------------------------------------------------------------- provider


class SupabaseProjectProvider(ProviderBase):
    """CRUD and diff of one Supabase project (name, organisation, region, size, PITR)."""

    def _normalise(self, props: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
        return normalise(props)

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        """Organisation or region changes replace the project; everything else updates.

        Replacement creates the new project before deleting the old one: the lookup that
        makes create idempotent matches name, organisation and region, so it never adopts
        the project being replaced, and the old database survives a failed create.
        """
        changed = changed_keys(olds, news)
        if token_changed(olds, news):
            changed.append(TOKEN_KEY)
        replaces = [k for k in changed if k in REPLACE_KEYS]
        return pulumi.dynamic.DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=["ref", "api_url"] if not replaces else [],
            delete_before_replace=False,
        )

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        """Adopt the project if it exists, else create it once; wait until it is healthy."""
        desired, problems = normalise(props)
        require_valid("project", problems)
        client = self._client(props)
        name = desired["name"]
        found = self._lookup(client, desired)
        if found is not None:
            ref = str(found["ref"])
            self._info(
                f"supabase: adopting existing project {name} ({ref}): nothing about it is "
                "changed (no password reset, no resize); a difference shows in the next preview"
            )
            project = self._usable(client, ref, limit=self.timing.wait_timeout, health=True)
            return pulumi.dynamic.CreateResult(
                ref, self._outputs(client, project, desired, props, adopted=True)
            )
        ref = self._post(client, desired)
        project = self._usable(
            client,
            ref,
            limit=self.timing.wait_timeout,
            health=True,
            then=f"it exists, and the next run finds and adopts it instead of creating "
            f"another; {OWN_PROJECT_HINT}",
        )
        if desired["pitr_required"]:
            self._enable_pitr(client, ref)
        return pulumi.dynamic.CreateResult(
            ref, self._outputs(client, project, desired, props, adopted=False)
        )

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        """Read the project back; inputs are reported as live values.

        Only 404 and REMOVED read as gone (rule R2): a project GOING_DOWN, PAUSING or
        paused stays in the state with its status, and its settings resources say what
        to do. Without recorded properties (an import), the project counts as adopted.
        """
        client = self._client(props)
        project = client.get_project(id_)
        if project is None or project.get("status") in GONE_STATUSES:
            return pulumi.dynamic.ReadResult(None, {})
        status = str(project.get("status"))
        if status in PAUSED_STATUSES:
            self._warn(
                f"supabase: project {project.get('name')} ({id_}) is paused ({status}): "
                + RESTORE_HINT.format(ref=id_)
            )
        elif status != READY_STATUS:
            self._info(f"supabase: project {project.get('name')} ({id_}) is {status}")
        # What the state manages: a size recorded as None and PITR recorded as False are
        # not managed; an import (no recorded properties) takes both as they are live.
        managed = {
            "desired_instance_size": props.get("desired_instance_size", ""),
            "pitr_required": props.get("pitr_required", True),
            TOKEN_KEY: props.get(TOKEN_KEY),
        }
        adopted = props.get("adopted") if props else True
        return pulumi.dynamic.ReadResult(
            id_, self._outputs(client, project, managed, props, adopted=adopted)
        )

    def update(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        """Apply only what changed (name, size, PITR), then read the project back."""
        desired, problems = normalise(news)
        require_valid("project", problems)
        changed = set(changed_keys(olds, news))
        moved = changed & set(REPLACE_KEYS)
        if moved:
            raise SupabaseProvisioningError(
                f"{sorted(moved)} cannot change in place; the engine should replace the project"
            )
        client = self._client(news)
        if changed:
            self._usable(client, id_)
        if "name" in changed:
            client.update_project_name(id_, desired["name"])
        size = desired.get("desired_instance_size")
        if "desired_instance_size" in changed and size is not None:
            self._apply_size(client, id_, size)
        if "pitr_required" in changed and desired["pitr_required"]:
            self._enable_pitr(client, id_)
        project = client.get_project(id_)
        if project is None:
            raise SupabaseProvisioningError(f"Supabase project {id_} disappeared during update")
        outs = self._outputs(client, project, desired, olds, adopted=olds.get("adopted"))
        return pulumi.dynamic.UpdateResult(outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Delete the project; one that is already gone counts as deleted."""
        client = self._client(props)
        if client.delete_project(id_):
            self._info(f"supabase: deleted project {props.get('name', '')} ({id_})")

    # -------------------------------------------------------------- create helpers

    def _lookup(self, client: SupabaseClient, desired: Mapping[str, Any]) -> JsonObject | None:
        """The project with this name, organisation and region, unless it is REMOVED."""
        name, region = desired["name"], desired["region"]
        found = [
            p
            for p in client.list_organization_projects(desired["organization_slug"], search=name)
            if p.get("name") == name
            and p.get("region") == region
            and p.get("status") not in GONE_STATUSES
            and not p.get("is_branch", False)
        ]
        if len(found) > 1:
            refs = ", ".join(sorted(str(p.get("ref")) for p in found))
            raise SupabaseProvisioningError(
                f"several Supabase projects are named {name!r} in {region}: {refs}; "
                "rename all but one, or adopt one with the import option"
            )
        return found[0] if found else None

    def _post(self, client: SupabaseClient, desired: Mapping[str, Any]) -> str:
        """POST /v1/projects once; the new project's ref, found again if the answer is lost."""
        body: JsonObject = {
            "name": desired["name"],
            "organization_slug": desired["organization_slug"],
            "db_pass": desired["db_pass"],
            "region_selection": {"type": "specific", "code": desired["region"]},
        }
        if desired.get("desired_instance_size"):
            body["desired_instance_size"] = desired["desired_instance_size"]
        try:
            created = client.create_project(body)
        except SupabaseApiError as err:
            if not err.outcome_unknown:
                raise
            return self._find_after_create(client, desired, f"got no usable answer ({err})")
        ref = created.get("ref")
        if isinstance(ref, str) and ref:
            self._info(f"supabase: created project {desired['name']} ({ref})")
            return ref
        return self._find_after_create(client, desired, "was answered without a project ref")

    def _find_after_create(
        self, client: SupabaseClient, desired: Mapping[str, Any], why: str
    ) -> str:
        """Look for the project an unanswered POST may have made, as long as lists lag."""
        name = desired["name"]
        where = f"{desired['organization_slug']}/{desired['region']}"
        self._info(f"supabase: the create of {name} {why}; looking for the project it made")
        start = self._now()
        deadline = start + self.timing.lookup_wait
        step = 1
        while True:
            try:
                found = self._lookup(client, desired)
            except SupabaseApiError as err:
                self._info(f"supabase: lookup of {name} failed ({err.message}); trying again")
                found = None
            if found is not None:
                ref = str(found["ref"])
                self._info(f"supabase: found {name} ({ref}) {self._now() - start:.0f}s later")
                return ref
            now = self._now()
            wait = min(self._backoff(step), deadline - now)
            if wait <= 0 or wait >= client.time_left():
                raise SupabaseProvisioningError(
                    f"the create of Supabase project {name} in {where} {why}, and the "
                    f"project did not show up in the organisation's project list within "
                    f"{now - start:.0f}s. No second project was requested. If it was "
                    "made, the next run finds and adopts it; "
                    f"{OWN_PROJECT_HINT}."
                )
            self._wait(wait)
            step += 1

    def _enable_pitr(self, client: SupabaseClient, ref: str) -> None:
        """Select the shortest PITR add-on if none is; a refusal leaves it recorded as off."""
        try:
            if _selected_addon(client.list_addons(ref), "pitr") is None:
                client.apply_addon(ref, "pitr", PITR_DEFAULT_VARIANT)
        except SupabaseApiError as err:
            if err.outcome_unknown or err.status == 401:
                raise
            self._warn(
                f"supabase: point-in-time recovery of {ref} was refused ({err.message}); "
                "it is recorded as off, so the next preview shows it as a change to apply"
            )

    def _apply_size(self, client: SupabaseClient, ref: str, size: str) -> None:
        current = _selected_addon(client.list_addons(ref), "compute_instance")
        if current == f"ci_{size}":
            return
        if size == "nano":
            raise SupabaseProvisioningError(
                f"project {ref}: nano is the free plan's size and no compute add-on; "
                "the API cannot resize a project down to it"
            )
        client.apply_addon(ref, "compute_instance", f"ci_{size}")

    # -------------------------------------------------------------- reading back

    def _outputs(
        self,
        client: SupabaseClient,
        project: JsonObject,
        managed: Mapping[str, Any],
        recorded: Mapping[str, Any],
        *,
        adopted: Any,
    ) -> dict[str, Any]:
        """The state to record: live name, organisation, region, size and PITR (a size or
        PITR not managed stays None / False), keys and backups; `adopted` as given.

        A project that is not ACTIVE_HEALTHY may refuse the key, backup and add-on calls,
        so it keeps the recorded values for those and records its status.
        """
        ref = str(project["ref"])
        outs: dict[str, Any] = {k: project.get(k) for k in ("name", "organization_slug", "region")}
        ready = project.get("status") == READY_STATUS
        if ready:
            addons = client.list_addons(ref)
            size = _instance_size(client, project, addons)
            pitr = _selected_addon(addons, "pitr") is not None
        else:
            size = recorded.get("desired_instance_size")
            pitr = bool(recorded.get("pitr_required"))
        wanted_size = managed.get("desired_instance_size")
        outs["desired_instance_size"] = None if wanted_size is None else size or wanted_size or None
        outs["pitr_required"] = bool(managed.get("pitr_required")) and pitr
        database = project.get("database") or {}
        outs.update(
            {
                "ref": ref,
                "api_url": API_URL.format(ref=ref),
                "status": project.get("status"),
                "db_host": database.get("host") or recorded.get("db_host"),
                "adopted": adopted,
            }
        )
        if ready:
            outs.update(project_keys(client.get_api_keys(ref)))
            outs.update(_backups(client.get_backups(ref)))
        else:
            for key in ("anon_key", "service_role_key", *_BACKUP_KEYS):
                outs[key] = recorded.get(key)
        if managed.get(TOKEN_KEY):
            outs[TOKEN_KEY] = managed[TOKEN_KEY]
        return outs


_BACKUP_KEYS = ("pitr_enabled", "walg_enabled", "latest_backup_at")


def _instance_size(client: SupabaseClient, project: JsonObject, addons: JsonObject) -> Any:
    """Compute size: the organisation listing knows it even without a compute add-on."""
    slug, name = project.get("organization_slug"), project.get("name")
    if isinstance(slug, str) and isinstance(name, str):
        for entry in client.list_organization_projects(slug, search=name):
            if entry.get("ref") != project.get("ref"):
                continue
            for database in entry.get("databases") or []:
                if database.get("type") == "PRIMARY" and database.get("infra_compute_size"):
                    return database["infra_compute_size"]
    variant = _selected_addon(addons, "compute_instance")
    return variant[3:] if variant and variant.startswith("ci_") else None


def _backups(backups: JsonObject) -> dict[str, Any]:
    return {
        "pitr_enabled": bool(backups.get("pitr_enabled")),
        "walg_enabled": bool(backups.get("walg_enabled")),
        "latest_backup_at": _latest_backup(backups),
    }


def _selected_addon(addons: JsonObject, addon_type: str) -> str | None:
    for addon in addons.get("selected_addons") or []:
        if isinstance(addon, dict) and addon.get("type") == addon_type:
            variant = (addon.get("variant") or {}).get("id")
            return str(variant) if variant else None
    return None


def _latest_backup(backups: JsonObject) -> str | None:
    """ISO time of the newest completed backup or PITR point, None if there is none."""
    times: list[datetime] = []
    for backup in backups.get("backups") or []:
        if isinstance(backup, dict) and backup.get("status") == "COMPLETED":
            try:
                times.append(datetime.fromisoformat(str(backup.get("inserted_at"))))
            except ValueError:
                continue
    physical = (backups.get("physical_backup_data") or {}).get("latest_physical_backup_date_unix")
    if isinstance(physical, (int, float)):
        times.append(datetime.fromtimestamp(physical, UTC))
    aware = [t if t.tzinfo else t.replace(tzinfo=UTC) for t in times]
    return max(aware).isoformat() if aware else None


# ---------------------------------------------------------------------- resource


@dataclass(frozen=True)
class SupabaseProjectArgs:
    """Inputs of a `SupabaseProject`, in the Management API's own words."""

    name: pulumi.Input[str]
    """Project name (1-256 characters). With organisation and region it identifies the
    project when a create is retried. Renaming updates in place."""
    organization_slug: pulumi.Input[str]
    """Slug of the owning organisation. Changing it replaces the project."""
    region: pulumi.Input[str]
    """Region code, e.g. eu-central-1. Changing it replaces the project."""
    db_pass: pulumi.Input[str]
    """Password the project is created with (a secret from pulumi-random). Create only:
    afterwards the `DatabasePassword` resource owns it, so a change is no change here."""
    desired_instance_size: pulumi.Input[str] | None = None
    """Compute size (micro, small, ...). None: the smallest size, and not managed after.
    An adopted project keeps its size; the next preview shows a resize as an update."""
    pitr_required: pulumi.Input[bool] = False
    """Require point-in-time recovery: selects the pitr_7 add-on if none is (needs compute
    size small or larger); refresh reports drift if it goes away. False: not managed."""
    access_token: pulumi.Input[str] | None = None
    """Management API token, stored as a secret with the resource so refresh and delete
    can use it. None: $SUPABASE_ACCESS_TOKEN is read at each call."""


class SupabaseProject(SupabaseResource[SupabaseProjectArgs], name=PROJECT):
    """A Supabase project: name, organisation, region, compute size and the PITR add-on.

    Deleting it deletes the project and its data: production should set `protect=True`
    or `retain_on_delete=True` in `opts`.
    """

    ref: pulumi.Output[str]
    """Project ref, also the resource id."""
    api_url: pulumi.Output[str]
    """https://<ref>.supabase.co"""
    status: pulumi.Output[str]
    """Project status as last read, e.g. ACTIVE_HEALTHY."""
    db_host: pulumi.Output[str]
    """Host of direct database connections."""
    anon_key: pulumi.Output[str]
    """Public (anon) API key; safe in the browser, protected by row-level security."""
    service_role_key: pulumi.Output[str]
    """Service-role API key, bypasses row-level security; secret."""
    pitr_enabled: pulumi.Output[bool]
    """Whether point-in-time recovery is on (from the backups endpoint)."""
    walg_enabled: pulumi.Output[bool]
    """Whether WAL-G (daily physical) backups are on."""
    latest_backup_at: pulumi.Output[str | None]
    """ISO time of the newest completed backup or recovery point."""
    adopted: pulumi.Output[bool | None]
    """True when create found the project already there (or it was imported): its database
    password is not known to be this stack's. False when this provider created it. None in
    state written by the earlier single-resource provider, which always set the generated
    password, adopted or not."""

    _provider_class = SupabaseProjectProvider
    _outputs = OUTPUT_KEYS
