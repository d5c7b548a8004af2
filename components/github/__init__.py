"""GitHub: the application repository, its protection and its deployment environments.

Kept free of imports so `components.github.facts` loads without the provider SDK (the
policy pack imports facts only).
"""
