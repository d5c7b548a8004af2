"""One stack's Sentry monitoring: project, rate-limited client key, issue and metric alerts.

Ownership (ARCHITECTURE.md, stacks own disjoint remote objects): the Sentry team is
organisation-wide, so, like the repository, it is a singleton the production stack owns,
together with the on-call member invited into it; staging refers to the team by its slug
from config. Each stack owns its own project (`{app}-{stack}`), client key and alerts.

Routing. Sentry e-mails only organisation members, addressed by numeric id, and the ids
of production's objects are unknown to staging without an invoke (not allowed at preview).
So alertEmail is invited into the team, and:
- production e-mails the team it owns (by id) and posts to Slack, for every alert;
- staging's issue alerts e-mail the issue owners, falling through to all members of the
  project's team (no id needed), and post to Slack; its metric alerts never e-mail (a
  metric alert e-mails a team or user by id only): they post to Slack when configured.
  Without Slack, staging has no metric alerts at all, and the preview says so: Sentry
  refuses a metric alert whose trigger has no action ("Each trigger must have an
  associated action for this alert to fire."), so an alert that would only show on the
  Alerts page cannot be created. Staging is quieter by design, besides its stack file's
  higher thresholds and daily issue-alert frequency.

Formats are those of pulumiverse-sentry 0.0.9, which bridges terraform-provider-sentry
v0.11.2: issue-alert conditions, filters and actions are lists of string maps keyed by the
rule class `id` (not the typed blocks of later provider versions), names are at most 64
characters, `frequency` and `time_window` are minutes, `threshold_type` 0 is "above".

Uptime is not here: pulumiverse-sentry 0.0.9 has no uptime monitor. The app's
`health-check.yml` workflow probes every 5 minutes; the error budget of the availability
target is computed in components/alerts.py.

The project's `platform` is left unset: pulumiverse-sentry 0.0.9 validates it against Sentry
docs pages that have answered 404 since 2023, failing every preview (ENGINE.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pulumi
import pulumiverse_sentry as sentry

from components.sentry.facts import ALERT_NAME_MAX_LENGTH

HIGH_FREQUENCY_EVENTS_PER_HOUR = 100
"""Events of one issue within an hour that raise the high-frequency alert."""

RESOLVE_RATIO = Decimal("0.8")
"""A metric alert resolves at 80% of its threshold, so a value hovering at the threshold
does not open and close incidents on every evaluation."""

METRIC_DATASET = "events_analytics_platform"
"""Sentry refuses new transaction-based (`transactions`, `generic_metrics`) alerts and
asks for span-based ones on this dataset, filtered to transactions. The provider passes
the dataset through unchecked."""

METRIC_EVENT_TYPES = ("trace_item_span",)
"""The event type of a span alert on `METRIC_DATASET`, as Sentry's own alert form sends it
(the dataset also holds logs). Stated, so the value Sentry stores reads back unchanged."""

ALERT_MEMBER_ROLE = "member"
"""Organisation role of the invited on-call address: receives alerts, administers nothing."""


@dataclass(frozen=True)
class KeyMetric:
    """One key metric of the app and how its metric alert reads it."""

    role: str
    """Resource-name role and stable identifier, e.g. `lcp`."""
    title: str
    """Human name in the alert's name."""
    aggregate: str
    """Sentry aggregate the threshold applies to."""
    query: str
    """Span filter: the transactions (or page loads) the metric is measured over."""
    time_window_minutes: int
    """Evaluation window; web vitals need a longer one for a stable p75."""


KEY_METRICS = (
    KeyMetric("error-rate", "error rate", "failure_rate()", "is_transaction:true", 10),
    KeyMetric(
        "lcp", "p75 LCP", "p75(measurements.lcp)", "is_transaction:true span.op:pageload", 60
    ),
    KeyMetric(
        "fcp", "p75 FCP", "p75(measurements.fcp)", "is_transaction:true span.op:pageload", 60
    ),
    KeyMetric(
        "ttfb", "p75 TTFB", "p75(measurements.ttfb)", "is_transaction:true span.op:pageload", 60
    ),
)
"""The key metrics alerted on; their thresholds come from settings (`metric_thresholds`)."""


def metric_thresholds(
    error_rate_percent: int, lcp_ms: int, fcp_ms: int, ttfb_ms: int
) -> dict[str, Decimal]:
    """Alert threshold of each key metric in Sentry's units.

    `failure_rate()` is a ratio (0.05 is 5%), web vitals are milliseconds.
    """
    return {
        "error-rate": Decimal(error_rate_percent) / 100,
        "lcp": Decimal(lcp_ms),
        "fcp": Decimal(fcp_ms),
        "ttfb": Decimal(ttfb_ms),
    }


def resolve_threshold(threshold: Decimal) -> Decimal:
    """Where an alert above `threshold` resolves (see `RESOLVE_RATIO`)."""
    return threshold * RESOLVE_RATIO


def alert_name(project_slug: str, title: str) -> str:
    """`{project}: {title}`, refused (at preview, not at `up`) when Sentry would refuse it."""
    alert = f"{project_slug}: {title}"
    if len(alert) > ALERT_NAME_MAX_LENGTH:
        raise ValueError(
            f"Sentry alert name {alert!r} is longer than {ALERT_NAME_MAX_LENGTH} characters"
        )
    return alert


@dataclass(frozen=True)
class MonitoringArgs:
    """Inputs of `Monitoring`. Values arrive validated by `components/sentry/settings.py`
    and `components/alerts.py`."""

    organization: str
    """Sentry organisation slug."""
    team: str
    """Slug of the team owning the project (and receiving production's alerts)."""
    project_slug: str
    """Slug and name of this stack's Sentry project, `{app}-{stack}`; never shared by stacks."""
    owns_team: bool
    """Create the team and invite `alert_email` into it (the production stack only); otherwise
    the team is referred to by slug and alerts route without ids (module docstring)."""
    error_rate_percent: int
    """Error-rate alert threshold, percent of transactions failing."""
    lcp_ms: int
    """p75 Largest Contentful Paint alert threshold."""
    fcp_ms: int
    """p75 First Contentful Paint alert threshold."""
    ttfb_ms: int
    """p75 Time To First Byte alert threshold."""
    key_rate_limit_count: int
    """Events a client key may send per window (rule S11)."""
    key_rate_limit_window_seconds: int
    """The rate limit's window."""
    alert_frequency_minutes: int
    """Least time between two notifications of the same issue alert."""
    alert_email: str = ""
    """On-call address; empty: no e-mail (then Slack must be set)."""
    slack_workspace_id: str = ""
    """Numeric id of Sentry's Slack integration; empty: no Slack."""
    slack_channel: str = ""
    """Slack channel such as `#oncall`; empty: no Slack."""
    protect: bool = False
    """Protect the project (deleting it deletes every issue and event) and the team."""


class Monitoring(pulumi.ComponentResource):
    """A Sentry project with a rate-limited client key and the stack's alerts."""

    project_slug: pulumi.Output[str]
    """Slug of the stack's Sentry project."""
    dsn: pulumi.Output[str]
    """Server-side client key DSN (`SENTRY_DSN`), a Pulumi secret."""
    browser_dsn: pulumi.Output[str]
    """Browser client key DSN (`NEXT_PUBLIC_SENTRY_DSN`): public by design, its own key."""

    def __init__(
        self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:sentry:Monitoring", name, None, opts)
        org = args.organization
        child = pulumi.ResourceOptions(parent=self)
        protected = pulumi.ResourceOptions(parent=self, protect=args.protect)

        team_slug: pulumi.Input[str] = args.team
        team_id: pulumi.Output[str] | None = None
        if args.owns_team:
            team = sentry.SentryTeam(
                f"{name}-team",
                organization=org,
                name=args.team,
                slug=args.team,
                opts=protected,
            )
            team_slug, team_id = team.slug, team.internal_id
            if args.alert_email:
                # Sentry only e-mails members: the on-call address joins the team it alerts.
                sentry.SentryOrganizationMember(
                    f"{name}-oncall-member",
                    organization=org,
                    email=args.alert_email,
                    role=ALERT_MEMBER_ROLE,
                    teams=[team_slug],
                    opts=child,
                )

        project = sentry.SentryProject(
            f"{name}-project",
            organization=org,
            name=args.project_slug,
            slug=args.project_slug,
            teams=[team_slug],
            opts=protected,
        )
        on_project = pulumi.ResourceOptions(parent=self, depends_on=[project])

        # Two keys: the browser bundle publishes its DSN to every visitor, so it gets a key
        # of its own; the server key stays a secret and can be rotated independently.
        key, browser_key = (
            sentry.SentryKey(
                f"{name}-{role}-key",
                organization=org,
                project=project.slug,
                name=f"{args.project_slug} {role}",
                # A runaway client (a loop throwing errors) cannot exhaust the quota (S11).
                rate_limit_count=args.key_rate_limit_count,
                rate_limit_window=args.key_rate_limit_window_seconds,
                opts=pulumi.ResourceOptions.merge(
                    on_project,
                    # The server DSN is stored encrypted in the state, like the SDK's secrets.
                    pulumi.ResourceOptions(additional_secret_outputs=secret_outputs),
                ),
            )
            for role, secret_outputs in (("server", ["dsnPublic", "dsnCsp"]), ("browser", []))
        )

        issue_actions = _issue_actions(args, team_id)
        for role, title, condition in (
            ("new-issue", "new issue", {"id": _FIRST_SEEN}),
            ("regression", "regression", {"id": _REGRESSION}),
            (
                "high-frequency",
                # Short: `{app}-production: ` leaves 21 of the 64 characters (app <= 32).
                f"over {HIGH_FREQUENCY_EVENTS_PER_HOUR} events/h",
                {
                    "id": _EVENT_FREQUENCY,
                    "value": str(HIGH_FREQUENCY_EVENTS_PER_HOUR),
                    "comparisonType": "count",
                    "interval": "1h",
                },
            ),
        ):
            sentry.SentryIssueAlert(
                f"{name}-alert-{role}",
                organization=org,
                project=project.slug,
                name=alert_name(args.project_slug, title),
                action_match="any",
                filter_match="all",
                frequency=args.alert_frequency_minutes,
                conditions=[condition],
                actions=issue_actions,
                opts=on_project,
            )

        metric_actions = _metric_actions(args, team_id)
        if not metric_actions:
            pulumi.log.warn(
                f"Sentry project {args.project_slug}: no metric alerts (error rate, web "
                "vitals), since Sentry refuses a metric alert without an action and this "
                "stack cannot e-mail the team it does not own; set alertSlackChannel and "
                "alertSlackWorkspaceId to get them",
                resource=self,
            )
        thresholds = metric_thresholds(
            args.error_rate_percent, args.lcp_ms, args.fcp_ms, args.ttfb_ms
        )
        owner = team_id.apply(lambda i: f"team:{i}") if team_id is not None else None
        # Without an action Sentry refuses the alert (module docstring): none at all.
        for metric in KEY_METRICS if metric_actions else ():
            threshold = thresholds[metric.role]
            sentry.SentryMetricAlert(
                f"{name}-alert-{metric.role}",
                organization=org,
                project=project.slug,
                # No threshold in the name: retuning one must not rename the alert.
                name=alert_name(args.project_slug, metric.title),
                dataset=METRIC_DATASET,
                event_types=list(METRIC_EVENT_TYPES),
                query=metric.query,
                aggregate=metric.aggregate,
                time_window=metric.time_window_minutes,
                threshold_type=_ABOVE,
                resolve_threshold=float(resolve_threshold(threshold)),
                owner=owner,
                triggers=[
                    sentry.SentryMetricAlertTriggerArgs(
                        label="critical",
                        alert_threshold=float(threshold),
                        threshold_type=_ABOVE,
                        actions=metric_actions,
                    )
                ],
                opts=on_project,
            )

        self.project_slug = project.slug
        # The DSN only lets clients send events, but anyone holding it can spend the
        # event quota: a Pulumi secret, so previews, diffs and the state never show it.
        self.dsn = pulumi.Output.secret(key.dsn_public)
        self.browser_dsn = browser_key.dsn_public
        self.register_outputs(
            {"project_slug": self.project_slug, "dsn": self.dsn, "browser_dsn": self.browser_dsn}
        )


_ABOVE = 0
"""Sentry's threshold type: alert when the value is above the threshold."""
_FIRST_SEEN = "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"
_REGRESSION = "sentry.rules.conditions.regression_event.RegressionEventCondition"
_EVENT_FREQUENCY = "sentry.rules.conditions.event_frequency.EventFrequencyCondition"
_EMAIL_ACTION = "sentry.mail.actions.NotifyEmailAction"
_SLACK_ACTION = "sentry.integrations.slack.notify_action.SlackNotifyServiceAction"


def _issue_actions(
    args: MonitoringArgs, team_id: pulumi.Output[str] | None
) -> list[dict[str, pulumi.Input[str]]]:
    """Where an issue alert notifies: e-mail (team, or issue owners) and Slack."""
    actions: list[dict[str, pulumi.Input[str]]] = []
    if args.alert_email:
        if team_id is not None:
            actions.append({"id": _EMAIL_ACTION, "targetType": "Team", "targetIdentifier": team_id})
        else:
            actions.append(
                {
                    "id": _EMAIL_ACTION,
                    "targetType": "IssueOwners",
                    "targetIdentifier": "",
                    "fallthroughType": "AllMembers",
                }
            )
    if args.slack_channel:
        actions.append(
            {
                "id": _SLACK_ACTION,
                "workspace": args.slack_workspace_id,
                "channel": args.slack_channel,
            }
        )
    return actions


def _metric_actions(
    args: MonitoringArgs, team_id: pulumi.Output[str] | None
) -> list[sentry.SentryMetricAlertTriggerActionArgs]:
    """Where a metric alert notifies: the owned team by e-mail, and Slack."""
    actions: list[sentry.SentryMetricAlertTriggerActionArgs] = []
    if args.alert_email and team_id is not None:
        actions.append(
            sentry.SentryMetricAlertTriggerActionArgs(
                type="email", target_type="team", target_identifier=team_id
            )
        )
    if args.slack_channel:
        actions.append(
            sentry.SentryMetricAlertTriggerActionArgs(
                type="slack",
                target_type="specific",
                target_identifier=args.slack_channel,
                integration_id=int(args.slack_workspace_id),
            )
        )
    return actions
