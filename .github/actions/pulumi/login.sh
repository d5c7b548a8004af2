#!/usr/bin/env bash
# The two shell halves of the `pulumi` composite action (action.yml, next to this file):
#
#   login.sh check   before the OIDC steps: the chosen backend has the settings it needs
#   login.sh login   after them: `pulumi login` to that backend with the short-lived credentials
#
# Environment: BACKEND (cloud or s3; empty means cloud), ORGANIZATION (cloud), BACKEND_URL,
# AWS_ROLE_ARN, AWS_REGION (s3). Kept in a file so that tests run it (tests/test_delivery.py).
set -euo pipefail
mode=${1:-}
backend=${BACKEND:-cloud}

missing=0
need() { # VARIABLE what-it-is
  if [ -z "${!1:-}" ]; then
    echo "::error::PULUMI_BACKEND=$backend needs $2"
    missing=1
  fi
}

case $mode in
  check)
    case $backend in
      cloud) need ORGANIZATION "the repository variable PULUMI_ORGANIZATION (the Pulumi Cloud organisation)" ;;
      s3)
        need BACKEND_URL "the repository variable PULUMI_BACKEND_URL (s3://<bucket>)"
        need AWS_REGION "the repository variable AWS_REGION"
        need AWS_ROLE_ARN "the environment variable AWS_ROLE_ARN of this job's environment"
        if [ -n "${BACKEND_URL:-}" ] && [ "${BACKEND_URL#s3://}" = "$BACKEND_URL" ]; then
          echo "::error::PULUMI_BACKEND_URL is '$BACKEND_URL'; PULUMI_BACKEND=s3 needs s3://<bucket>"
          missing=1
        fi
        ;;
      *)
        echo "::error::PULUMI_BACKEND is '$backend'; expected cloud or s3 (docs/delivery.md)"
        exit 1
        ;;
    esac
    exit "$missing"
    ;;
  login)
    case $backend in
      cloud)
        # pulumi/auth-actions exported the team token it exchanged the OIDC token for.
        if [ -z "${PULUMI_ACCESS_TOKEN:-}" ]; then
          echo "::error::no PULUMI_ACCESS_TOKEN: the OIDC exchange with Pulumi Cloud did not happen"
          exit 1
        fi
        pulumi login
        # Unqualified stack names (--stack staging) then resolve in this organisation.
        pulumi org set-default "$ORGANIZATION"
        ;;
      s3) pulumi login "$BACKEND_URL" ;;
      *)
        echo "::error::PULUMI_BACKEND is '$backend'; expected cloud or s3 (docs/delivery.md)"
        exit 1
        ;;
    esac
    ;;
  *)
    echo "usage: login.sh check|login" >&2
    exit 2
    ;;
esac
