"""Sentry: the stack's project, rate-limited client keys, issue and metric alerts.

Kept free of imports so `components.sentry.facts` loads without the provider SDK.
"""
