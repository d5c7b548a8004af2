"""Every remote object is managed by exactly one stack (ARCHITECTURE.md)."""

from __future__ import annotations

from collections.abc import Callable

from tests.identity import remote_identity
from tools.recorder import Inventory

Inv = Callable[[str], Inventory]


def identities(inventory: Inventory) -> dict[tuple[object, ...], str]:
    found: dict[tuple[object, ...], str] = {}
    for resource in inventory.resources:
        identity = remote_identity(resource)
        if identity is not None:
            assert identity not in found, f"{resource.urn} and {found[identity]} manage one object"
            found[identity] = resource.urn
    return found


def test_stacks_manage_disjoint_remote_objects(inventory: Inv) -> None:
    staging = identities(inventory("staging"))
    production = identities(inventory("production"))
    shared = sorted(set(staging) & set(production), key=repr)
    assert not shared, "managed by both stacks: " + "; ".join(
        f"{staging[i]} / {production[i]}" for i in shared
    )


def test_every_stack_manages_something_remote(stack_inventory: Inventory) -> None:
    assert len(identities(stack_inventory)) >= 3, stack_inventory.stack


def test_a_shared_object_would_be_caught(inventory: Inv) -> None:
    """The check itself can fail: production's own environment seen twice is a clash."""
    production = inventory("production")
    environment = production.one(
        "github:index/repositoryEnvironment:RepositoryEnvironment",
        "acme-web-production-environment-environment",
    )
    assert remote_identity(environment) in identities(production)
    doubled = Inventory("twice", [*production.resources, environment], {}, [])
    try:
        identities(doubled)
    except AssertionError as error:
        assert "manage one object" in str(error)
    else:
        raise AssertionError("a doubled remote object went unnoticed")
