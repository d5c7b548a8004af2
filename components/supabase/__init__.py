"""Supabase support: a Management API v1 client and a dynamic provider for projects.

The published `pulumi-supabase` package only creates projects, so `SupabaseProject` is a
Pulumi dynamic resource over the Management API (see ARCHITECTURE.md).
"""

from .api import RetryPolicy, SupabaseApiError, SupabaseClient, SupabaseConfigError
from .provider import (
    SupabaseProject,
    SupabaseProjectArgs,
    SupabaseProjectProvider,
    SupabaseProvisioningError,
    Timing,
)

__all__ = [
    "RetryPolicy",
    "SupabaseApiError",
    "SupabaseClient",
    "SupabaseConfigError",
    "SupabaseProject",
    "SupabaseProjectArgs",
    "SupabaseProjectProvider",
    "SupabaseProvisioningError",
    "Timing",
]
