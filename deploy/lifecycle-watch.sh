#!/bin/bash
# Scale-in and rolling updates must not kill a job. Auto Scaling holds a worker
# instance in Terminating:Wait (the finish-jobs lifecycle hook) and shows
# "Terminated" as its target lifecycle state in the instance metadata. Then:
# stop the workers (SIGTERM: they finish the jobs in hand within their
# --grace-period, below the units' TimeoutStopSec) and let termination go on.
set -euo pipefail

imds() {
  local token
  token=$(curl -sS -X PUT http://169.254.169.254/latest/api/token \
    -H "X-aws-ec2-metadata-token-ttl-seconds: 60")
  curl -sS -f -H "X-aws-ec2-metadata-token: $token" \
    "http://169.254.169.254/latest/meta-data/$1"
}

until [ "$(imds autoscaling/target-lifecycle-state || true)" = Terminated ]; do
  sleep "${LIFECYCLE_POLL_SECONDS:-5}"
done
echo "termination requested: stopping the workers"
systemctl stop 'cloudsite-calc-worker@*.service' 'cloudsite-pic-worker@*.service'
aws autoscaling complete-lifecycle-action --lifecycle-action-result CONTINUE \
  --auto-scaling-group-name "$LIFECYCLE_GROUP" --lifecycle-hook-name "$LIFECYCLE_HOOK" \
  --instance-id "$(imds instance-id)"
echo "workers stopped; termination continues"
