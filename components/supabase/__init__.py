"""Supabase: the stack's project and its settings on our own dynamic providers.

The published `pulumi-supabase` package only creates projects, so the project, its
database password and each group of its settings (pooler, SSL enforcement, network
restrictions, auth) are Pulumi dynamic resources over the Management API, each with atomic
state (see ARCHITECTURE.md). Kept free of imports so `components.supabase.facts` loads
without the Pulumi runtime.
"""
