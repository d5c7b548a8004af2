"""Entry point: load and validate the stack's settings, build the platform, export outputs."""

import pulumi

from components.config import settings_from_pulumi
from components.platform import build_platform

settings, secrets = settings_from_pulumi()
for name, value in sorted(build_platform(settings, secrets).values.items()):
    pulumi.export(name, value)
