"""One staging-like Supabase project with every settings resource, for the engine cycle.

The resources are registered exactly as the program's `Database` component registers
them (`supabase_resources`), with one stand-in: pulumi-random's plugin cannot be built
here, so the generated password comes from a local dynamic resource.

Secrets, set by cycle.sh at run time as secret stack config: `dbPass` (optional: without
it a password is generated, unknown at the first preview as pulumi-random's would be),
`supabaseAccessToken` (optional: without it the providers read $SUPABASE_ACCESS_TOKEN at
each call) and `smtpPassword` (optional: with it auth sends through custom SMTP, rule
S13). The API base URL is $SUPABASE_API_URL. `allowedCidrs` (optional list) replaces the
default networks: cycle.sh's policy step sets it to 0.0.0.0/0 to see S1 reject it.
"""

import secrets
import string
import sys
import uuid
from pathlib import Path
from typing import Any

# The repo root, so that `components` imports from this nested project.
REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import pulumi  # noqa: E402
import pulumi.dynamic  # noqa: E402

from components.supabase.database import DatabaseArgs, supabase_resources  # noqa: E402
from components.supabase.dynamic import Timing  # noqa: E402


class _PasswordProvider(pulumi.dynamic.ResourceProvider):
    """Letters and digits made at create time; pickled by value (defined in __main__)."""

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        alphabet = string.ascii_letters + string.digits
        length = int(props["length"])
        result = "".join(secrets.choice(alphabet) for _ in range(length))
        return pulumi.dynamic.CreateResult(str(uuid.uuid4()), {"length": length, "result": result})


class GeneratedPassword(pulumi.dynamic.Resource, module="cycle", name="Password"):
    """Stand-in for pulumi-random's RandomPassword, whose plugin cannot be built here."""

    result: pulumi.Output[str]

    def __init__(self, name: str, length: int) -> None:
        secret = pulumi.ResourceOptions(additional_secret_outputs=["result"])
        super().__init__(_PasswordProvider(), name, {"length": length, "result": None}, secret)


config = pulumi.Config()
stack = pulumi.get_stack()
db_pass = config.get_secret("dbPass") or GeneratedPassword("db-password", 32).result
smtp_password = config.get_secret("smtpPassword")
smtp = smtp_password is not None

resources = supabase_resources(
    "db",
    DatabaseArgs(
        project_name=config.get("projectName") or f"cycle-{stack}-db",
        organization_slug=config.get("organizationSlug") or "cycle-org",
        region=config.get("region") or "eu-central-1",
        instance_size="micro",
        site_url="https://staging.cycle.test",
        pool_mode="transaction",
        default_pool_size=config.get_int("poolSize") or 20,
        otp_expiry_seconds=900,
        allowed_cidrs=config.get_object("allowedCidrs") or ["203.0.113.0/24", "2001:db8::/32"],
        redirect_urls=["https://staging.cycle.test/auth/callback"],
        smtp_host="smtp.cycle.test" if smtp else "",
        smtp_port=587,
        smtp_user="cycle",
        smtp_password=smtp_password,
        smtp_admin_email="no-reply@cycle.test",
        rate_limit_email_sent=30,
        rate_limit_verify=30,
        rate_limit_token_refresh=150,
        rate_limit_otp=30,
        rate_limit_anonymous_users=30,
        access_token=config.get_secret("supabaseAccessToken"),
    ),
    db_pass,
    # Short polls: the fake answers COMING_UP once before the project turns healthy. The
    # Timing also shows that the providers' own settings survive pickling into the state.
    timing=Timing(poll_interval=0.2, max_poll_interval=1.0),
)
project = resources.project

pulumi.export("ref", project.ref)
pulumi.export("api_url", project.api_url)
pulumi.export("status", project.status)
pulumi.export("db_host", project.db_host)
pulumi.export("adopted", project.adopted)
pulumi.export("anon_key", project.anon_key)
pulumi.export("service_role_key", pulumi.Output.secret(project.service_role_key))
pulumi.export("pooled_connection_string", resources.pooled_connection_string)
pulumi.export("direct_connection_string", resources.direct_connection_string)
pulumi.export("default_pool_size", resources.pooler.default_pool_size)
pulumi.export("password_source", resources.password.source)
pulumi.export("pitr_enabled", project.pitr_enabled)
pulumi.export("walg_enabled", project.walg_enabled)
