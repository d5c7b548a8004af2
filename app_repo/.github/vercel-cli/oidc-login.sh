#!/usr/bin/env bash
# Logs the Vercel CLI in without any stored token: the job's GitHub Actions OIDC token is
# exchanged for a short-lived Vercel CLI token. Vercel grants it only when one of the team's OIDC
# federation policies (the platform program manages one per stack and purpose) admits the token's
# claims (audience, repository, environment, ref, workflow, event), and the token then reaches
# only that policy's project and CLI commands.
#
# Run as a workflow step with an `id` (`run: bash .github/vercel-cli/oidc-login.sh`); the token is
# masked and becomes the step's output `token`, which the job hands as VERCEL_TOKEN (the variable
# the Vercel CLI reads) to exactly the steps that call Vercel. The job needs
# `permissions: id-token: write`.
#
# What this assumes about Vercel's side cannot be exercised without Vercel; the platform program's
# docs/pipeline.md lists it: the token endpoint is the `token_endpoint` of Vercel's OpenID
# discovery document (the document the CLI's own login uses), it takes an RFC 8693 token exchange
# from the CLI's OAuth client, and it answers with an `access_token`.
set -euo pipefail

VERCEL_ISSUER="https://vercel.com"
# The audience every federation policy requires (its `aud` claim).
VERCEL_OIDC_AUDIENCE="https://vercel.com/api/login/oauth/token"
# The Vercel CLI's OAuth client: the one the federation policies name (client "vercel").
VERCEL_CLI_CLIENT_ID="cl_HYyOPBNtFMfHhaUn9L4QPfTZz6TP47bp"
TOKEN_EXCHANGE="urn:ietf:params:oauth:grant-type:token-exchange"
SUBJECT_TOKEN_TYPE="urn:ietf:params:oauth:token-type:id_token"

if [ -z "${ACTIONS_ID_TOKEN_REQUEST_URL:-}" ] || [ -z "${ACTIONS_ID_TOKEN_REQUEST_TOKEN:-}" ]; then
  echo "::error::no GitHub OIDC token: the job needs permissions: id-token: write (runs for forks and Dependabot never get one)"
  exit 1
fi
# Each call is bounded, so a stalled endpoint fails the step instead of a rollback's time budget.
id_token="$(curl --fail --silent --show-error --max-time 5 \
  --header "Authorization: bearer ${ACTIONS_ID_TOKEN_REQUEST_TOKEN}" \
  --get --data-urlencode "audience=${VERCEL_OIDC_AUDIENCE}" "$ACTIONS_ID_TOKEN_REQUEST_URL" \
  | jq --raw-output '.value // empty')"
if [ -z "$id_token" ]; then
  echo "::error::GitHub returned no OIDC token"
  exit 1
fi
echo "::add-mask::${id_token}"
token_endpoint="$(curl --fail --silent --show-error --max-time 5 \
  "${VERCEL_ISSUER}/.well-known/openid-configuration" | jq --raw-output '.token_endpoint // empty')"
if [ -z "$token_endpoint" ]; then
  echo "::error::${VERCEL_ISSUER} publishes no token endpoint"
  exit 1
fi
# --fail-with-body: Vercel's refusal (no policy admits these claims) reaches the log.
if ! response="$(curl --fail-with-body --silent --show-error --max-time 10 --request POST "$token_endpoint" \
  --data-urlencode "grant_type=${TOKEN_EXCHANGE}" \
  --data-urlencode "client_id=${VERCEL_CLI_CLIENT_ID}" \
  --data-urlencode "subject_token=${id_token}" \
  --data-urlencode "subject_token_type=${SUBJECT_TOKEN_TYPE}")"; then
  echo "::error::Vercel refused the token exchange: ${response:-no answer}"
  exit 1
fi
token="$(printf '%s' "$response" | jq --raw-output '.access_token // empty')"
if [ -z "$token" ]; then
  echo "::error::Vercel's answer holds no access_token"
  exit 1
fi
echo "::add-mask::${token}"
echo "token=${token}" >> "$GITHUB_OUTPUT"
