#!/bin/bash
# Set up one CloudSite instance from an unpacked release in /opt/cloudsite: the
# service user, the virtualenv, /etc/cloudsite.env and the systemd units of its
# role. Run as root by the launch template's user data, which exports:
#   CLOUDSITE_ROLE           web | calc | pic
#   AWS_DEFAULT_REGION, CLOUDSITE_BUCKET, CLOUDSITE_QUEUE_PREFIX
#   web:  SITE_DOMAIN, HSTS_SECONDS, SECRET_KEY_ARN, ADMIN_PASSWORD_ARN,
#         DATABASE_SECRET_ARN, DATABASE_HOST, DATABASE_PORT (host empty: the
#         secret holds a whole DATABASE_URL)
#   calc, pic: LIFECYCLE_GROUP, LIFECYCLE_HOOK
# CLOUDSITE_ROOT (default empty) prefixes /opt and /etc, for the tests.
set -euo pipefail

root=${CLOUDSITE_ROOT:-}
app=$root/opt/cloudsite
env_file=$root/etc/cloudsite.env
units=$root/etc/systemd/system
role=${CLOUDSITE_ROLE:?CLOUDSITE_ROLE must be web, calc or pic}
case "$role" in
  web)  enable=(cloudsite-web.service cloudsite-reconciler.service) ;;
  calc) enable=(cloudsite-calc-worker@1.service cloudsite-lifecycle.service) ;;
  pic)  enable=(cloudsite-pic-worker@1.service cloudsite-lifecycle.service) ;;
  *)    echo "unknown CLOUDSITE_ROLE: $role" >&2; exit 2 ;;
esac

secret() {
  aws secretsmanager get-secret-value --secret-id "$1" --query SecretString --output text
}

database_url() {
  if [ -z "${DATABASE_HOST:-}" ]; then
    secret "$DATABASE_SECRET_ARN"
    return
  fi
  secret "$DATABASE_SECRET_ARN" | python3.11 -c '
import json, sys
from urllib.parse import quote
s = json.load(sys.stdin)
user, password = quote(s["username"], safe=""), quote(s["password"], safe="")
print(f"postgres://{user}:{password}@{sys.argv[1]}:{sys.argv[2]}/cloudsite")
' "$DATABASE_HOST" "${DATABASE_PORT:?}"
}

write_env() {
  echo "# Written by deploy/bootstrap.sh at boot; read by every CloudSite unit."
  echo "AWS_DEFAULT_REGION=$AWS_DEFAULT_REGION"
  echo "CLOUDSITE_BUCKET=$CLOUDSITE_BUCKET"
  echo "CLOUDSITE_QUEUE_PREFIX=$CLOUDSITE_QUEUE_PREFIX"
  if [ "$role" = web ]; then
    echo "DJANGO_SECRET_KEY=$(secret "$SECRET_KEY_ARN")"
    echo "DATABASE_URL=$(database_url)"
    echo "DJANGO_ALLOWED_HOSTS=$SITE_DOMAIN"
    echo "DJANGO_CSRF_TRUSTED_ORIGINS=https://$SITE_DOMAIN"
    echo "DJANGO_SECURE_COOKIES=1"
    echo "DJANGO_SECURE_SSL_REDIRECT=1"
    echo "DJANGO_HSTS_SECONDS=$HSTS_SECONDS"
    echo "DJANGO_HSTS_INCLUDE_SUBDOMAINS=1"
    echo "DJANGO_HSTS_PRELOAD=1"
    # The ALB appends the client address to X-Forwarded-For: the abuse limits count it.
    echo "CLOUDSITE_TRUST_X_FORWARDED_FOR=1"
  else
    # Workers sign nothing and never touch the database: a key of their own
    # keeps the site's key off the worker fleet.
    echo "DJANGO_SECRET_KEY=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')"
    echo "LIFECYCLE_GROUP=$LIFECYCLE_GROUP"
    echo "LIFECYCLE_HOOK=$LIFECYCLE_HOOK"
  fi
}

id -u cloudsite >/dev/null 2>&1 ||
  useradd --system --home-dir /opt/cloudsite --shell /sbin/nologin cloudsite

python3.11 -m venv "$app/.venv"
"$app/.venv/bin/pip" install --quiet --upgrade pip
"$app/.venv/bin/pip" install --quiet -r "$app/requirements.txt"

mkdir -p "$(dirname "$env_file")" "$units"
(umask 077 && write_env > "$env_file")
for unit in "${enable[@]}"; do
  template=${unit/@1./@.}
  install -m 0644 "$app/deploy/systemd/$template" "$units/$template"
done

if [ "$role" = web ]; then
  # Migrations (under a database lock: web instances may boot together), static
  # files, and the admin user on the first boot of the stack.
  (
    set -a
    # shellcheck source=/dev/null
    . "$env_file"
    set +a
    cd "$app"
    CLOUDSITE_ADMIN_PASSWORD=$(secret "$ADMIN_PASSWORD_ARN") \
      "$app/.venv/bin/python" deploy/release.py
  )
fi
chown -R cloudsite: "$app"

systemctl daemon-reload
systemctl enable --now "${enable[@]}"

if [ "$role" = web ]; then
  # Signal success only once this instance would pass the load balancer's check.
  curl -fsS --retry 30 --retry-delay 2 --retry-connrefused http://127.0.0.1:8000/healthz
fi
