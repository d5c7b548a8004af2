"""Vercel: one project per stack, its domains, variables, firewall, log drain and headers.

Kept free of imports so `components.vercel.facts` loads without the provider SDK (the
policy pack imports facts only).
"""
