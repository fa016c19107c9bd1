#!/usr/bin/env bash
# Publishes static-form/ and the operators' console (console/, built into console/dist and served
# under /console/) to a deployed stack: writes config.js with the stack's API URL, syncs the
# bucket and invalidates CloudFront. Needs the AWS CLI and credentials for the stack's account.
# Usage: scripts/publish-form.sh STACK_NAME
set -euo pipefail
stack="${1:?usage: scripts/publish-form.sh STACK_NAME}"
cd "$(dirname "$0")/.."
output() {
  aws cloudformation describe-stacks --stack-name "$stack" --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
api=$(output ApiUrl)
bucket=$(output FormBucketName)
distribution=$(output FormDistributionId)
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
cp -r static-form/. "$staging/"
(cd console && npm ci --no-audit --no-fund --silent && npm run build)
mkdir -p "$staging/console"
cp -r console/dist/. "$staging/console/"
printf 'window.BRIDGE_CONFIG = {"apiUrl": "%s"};\n' "$api" > "$staging/config.js"
aws s3 sync "$staging" "s3://$bucket" --delete
aws cloudfront create-invalidation --distribution-id "$distribution" --paths '/*' >/dev/null
echo "Form published: $(output FormUrl) (API $api)"
