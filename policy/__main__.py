"""Serve the policy pack (`pulumi preview --policy-pack policy`).

The Python host runs this file with the pack's directory first on `sys.path`; the rules
live in `policy/rules.py` so the tests can import them as `policy.rules`, hence the
repository root on the path too.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack

from policy.rules import policies

PolicyPack(
    name="webapp-platform-policy",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=policies(),
)
