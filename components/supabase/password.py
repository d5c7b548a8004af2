"""The `postgres` user's password as a resource of its own, recorded only once accepted.

Connection strings are built from what this resource records (database.py), so every
consumer (Vercel's DATABASE_URL, GitHub's SUPABASE_DB_URL) depends on it and only ever
sees a password the API accepted: a failed change keeps the previous one recorded, and
the engine still shows the change as pending (rule R3).

Which password the project should have:
- a project this stack created: the generated one (setting it again is harmless, the
  project was created with it);
- an adopted one (found at create, or imported): never changed silently (rule R5). The
  existing password from config is recorded without any call, or, with the explicit
  opt-in, the generated one is set; with neither, create stops and says so;
- a project recorded by the earlier single-resource provider (`adopted` unknown): that
  provider always set the generated password, so it is set again (harmless).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic

from .api import SupabaseApiError, SupabaseClient
from .dynamic import (
    AttachedProvider,
    Checker,
    Problem,
    SupabaseProvisioningError,
    SupabaseResource,
    attached_id,
    canon,
    is_unknown,
    require_valid,
)
from .facts import (
    DATABASE_PASSWORD,
    EXISTING_PASSWORD_KEY,
    OWN_PROJECT_HINT,
    ROTATE_ADOPTED_KEY,
    TOKEN_KEY,
)

INPUT_KEYS = ("project_ref", "password", "existing_password", "rotate_adopted", "adopted")
SOURCES = ("generated", "existing")
"""What the recorded password is: the generated one, or the adopted project's own."""


def intended(props: dict[str, Any]) -> tuple[Any, str]:
    """(the password the project should have, its source); raises when config must say."""
    if props.get("adopted") is not True or props.get("rotate_adopted") is True:
        return props.get("password"), "generated"
    existing = props.get("existing_password")
    if existing is not None:
        return existing, "existing"
    raise SupabaseProvisioningError(
        f"Supabase project {props.get('project_ref')} was adopted, and adopting never "
        "changes its database password silently (rule R5). Either set its current "
        f"password as the secret {EXISTING_PASSWORD_KEY} (recorded, nothing is changed), "
        f"or set {ROTATE_ADOPTED_KEY}=true to give it this stack's generated password "
        f"(connections using the old one stop working). {OWN_PROJECT_HINT[0].upper()}"
        f"{OWN_PROJECT_HINT[1:]}."
    )


class DatabasePasswordProvider(AttachedProvider):
    """Sets and records the `postgres` user's password of one project."""

    kind = "database-password"

    def _normalise(self, props: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
        desired = {k: props.get(k) for k in (*INPUT_KEYS, TOKEN_KEY) if k in props}
        desired.setdefault("rotate_adopted", False)
        check = Checker(desired)
        check("project_ref", lambda v: isinstance(v, str) and bool(v), "a project ref", True)
        check("password", lambda v: isinstance(v, str) and len(v) >= 4, "4+ characters", True)
        check("existing_password", lambda v: isinstance(v, str) and len(v) >= 1, "a password")
        check("rotate_adopted", lambda v: isinstance(v, bool), "true or false")
        check("adopted", lambda v: isinstance(v, bool), "true, false or null")
        check.token()
        return desired, check.problems

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        """A change when the password the project should have differs from the recorded
        one (or cannot be known yet), never because of a flag alone."""
        desired, _ = self._normalise(news)
        try:
            value, _source = intended(desired)
            changed = is_unknown(value) or canon(value) != canon(olds.get("password"))
        except SupabaseProvisioningError:
            changed = True  # the update says what config must add
        return self._attached_diff(olds, news, ["password"] if changed else [])

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        desired, problems = self._normalise(props)
        require_valid("database password", problems)
        ref = desired["project_ref"]
        value, source = intended(desired)
        client = self._client(props)
        self._usable(client, ref)
        if source == "existing":
            self._info(f"supabase: recorded the existing database password of {ref}")
        else:
            self._set(client, ref, value, previous=None)
        return pulumi.dynamic.CreateResult(
            attached_id(ref, self.kind), self._record(desired, value, source)
        )

    def update(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        desired, problems = self._normalise(news)
        require_valid("database password", problems)
        ref = desired["project_ref"]
        value, source = intended(desired)
        if source == "generated" and value != olds.get("password"):
            client = self._client(news)
            self._usable(client, ref)
            self._set(client, ref, value, previous=olds.get("password"))
        return pulumi.dynamic.UpdateResult(self._record(desired, value, source))

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        """The password cannot be read back; this checks the project is there and usable."""
        if self._open(props, id_) is None:
            return pulumi.dynamic.ReadResult(None, {})
        return pulumi.dynamic.ReadResult(id_, dict(props))

    def _set(self, client: SupabaseClient, ref: str, value: str, previous: Any) -> None:
        """PATCH the password; on an unknown outcome, say that the next run sets it again."""
        if isinstance(previous, str):
            client.hide(previous)  # the new one is among the properties, hidden already
        try:
            client.update_database_password(ref, value)
        except SupabaseApiError as err:
            if not err.outcome_unknown:
                raise SupabaseProvisioningError(
                    f"the database password of {ref} was not changed: {err}"
                ) from None
            kept = "keeps the previous password" if previous else "records no password yet"
            raise SupabaseProvisioningError(
                f"the database password change of {ref} got no answer ({err}); it may or "
                f"may not have been applied. The state {kept}, and the next `pulumi up` "
                "sets the new one again (setting the same password twice is harmless)."
            ) from None
        self._info(f"supabase: set the database password of {ref}")

    @staticmethod
    def _record(desired: dict[str, Any], value: Any, source: str) -> dict[str, Any]:
        return {**desired, "password": value, "source": source}


@dataclass(frozen=True)
class DatabasePasswordArgs:
    """Inputs of `DatabasePassword`."""

    project_ref: pulumi.Input[str]
    """Ref of the project; a new ref replaces the resource (and sets the password there)."""
    password: pulumi.Input[str]
    """The generated password (pulumi-random): a secret. Rotating it updates in place."""
    adopted: pulumi.Input[bool | None]
    """The project's `adopted` output: whether its password is known to be this stack's."""
    existing_password: pulumi.Input[str] | None = None
    """An adopted project's current password (a secret): recorded, nothing is changed."""
    rotate_adopted: bool = False
    """Set the generated password on an adopted project (connections using the old one
    stop working). Wins over `existing_password`."""
    access_token: pulumi.Input[str] | None = None
    """Management API token (a secret); None reads $SUPABASE_ACCESS_TOKEN at each call."""


class DatabasePassword(SupabaseResource[DatabasePasswordArgs], name=DATABASE_PASSWORD):
    """The `postgres` user's password of one project, as the API accepted it."""

    password: pulumi.Output[str]
    """The password the project has, as far as the API confirmed: a secret."""
    source: pulumi.Output[str]
    """`generated` or `existing`."""

    _provider_class = DatabasePasswordProvider
    _outputs = ("source",)
