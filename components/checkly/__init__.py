"""Checkly: synthetic monitoring from outside, every minute, from several locations.

Kept free of imports so `components.checkly.facts` loads without the provider SDK.
"""
