"""Supabase: the stack's project on our own dynamic provider over the Management API.

The published `pulumi-supabase` package only creates projects, so `SupabaseProject` is a
Pulumi dynamic resource (see ARCHITECTURE.md). Kept free of imports so
`components.supabase.facts` loads without the Pulumi runtime.
"""
