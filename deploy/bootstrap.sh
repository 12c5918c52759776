#!/bin/bash
# Set up one CloudSite instance from an unpacked release in /opt/cloudsite: the
# service user, the virtualenv (from the release's own wheelhouse, hash-checked),
# /etc/cloudsite.env and the systemd units of its role. Run as root by the launch
# template's user data, which exports:
#   CLOUDSITE_ROLE           web | calc | pic
#   AWS_DEFAULT_REGION, CLOUDSITE_BUCKET, CLOUDSITE_QUEUE_PREFIX
#   web:  SITE_DOMAIN, HSTS_SECONDS, SECRET_KEY_ARN, ADMIN_PASSWORD_ARN,
#         DATABASE_SECRET_ARN, DATABASE_HOST, DATABASE_PORT (host empty: the
#         secret holds a whole DATABASE_URL)
#   calc, pic: LIFECYCLE_GROUP, LIFECYCLE_HOOK
# Any failure exits non-zero, and the user data then abandons the launch: the
# instance never enters service. CLOUDSITE_ROOT (default empty) prefixes /opt,
# /etc and /var, for the tests.
set -euo pipefail

root=${CLOUDSITE_ROOT:-}
app=$root/opt/cloudsite
env_file=$root/etc/cloudsite.env
units=$root/etc/systemd/system
role=${CLOUDSITE_ROLE:?CLOUDSITE_ROLE must be web, calc or pic}
# Each role's units, and a journal copy (cloudsite-journal@NAME) per unit for the agent.
case "$role" in
  web)  enable=(cloudsite-web.service cloudsite-reconciler.service
                cloudsite-journal@web.service cloudsite-journal@reconciler.service) ;;
  calc) enable=(cloudsite-calc-worker@1.service cloudsite-lifecycle.service
                cloudsite-journal@calc-worker.service cloudsite-journal@lifecycle.service) ;;
  pic)  enable=(cloudsite-pic-worker@1.service cloudsite-lifecycle.service
                cloudsite-journal@pic-worker.service cloudsite-journal@lifecycle.service) ;;
  *)    echo "unknown CLOUDSITE_ROLE: $role" >&2; exit 2 ;;
esac

die() {
  echo "bootstrap: $*" >&2
  exit 1
}

# A secret's value, or the boot fails: an empty value must never reach the env file.
secret() {
  local value
  value=$(aws secretsmanager get-secret-value --secret-id "$1" --query SecretString \
    --output text) || die "could not read secret $1"
  [ -n "$value" ] && [ "$value" != None ] || die "secret $1 is empty"
  printf '%s\n' "$value"
}

database_url() {
  local value
  value=$(secret "$DATABASE_SECRET_ARN") || exit 1
  if [ -z "${DATABASE_HOST:-}" ]; then
    printf '%s\n' "$value"
    return
  fi
  printf '%s' "$value" | python3.11 -c '
import json, sys
from urllib.parse import quote
s = json.load(sys.stdin)
user, password = quote(s["username"], safe=""), quote(s["password"], safe="")
print(f"postgres://{user}:{password}@{sys.argv[1]}:{sys.argv[2]}/cloudsite")
' "$DATABASE_HOST" "${DATABASE_PORT:?}" || die "the database secret is not username/password JSON"
}

# Read every secret first, each a plain assignment so a failure stops the boot here
# (inside `echo "X=$(...)"` it would not: echo would succeed with an empty value).
if [ "$role" = web ]; then
  secret_key=$(secret "$SECRET_KEY_ARN")
  db_url=$(database_url)
  admin_password=$(secret "$ADMIN_PASSWORD_ARN")
else
  # Workers sign nothing and never touch the database: a key of their own
  # keeps the site's key off the worker fleet.
  secret_key=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')
fi

write_env() {
  echo "# Written by deploy/bootstrap.sh at boot; read by every CloudSite unit."
  echo "AWS_DEFAULT_REGION=$AWS_DEFAULT_REGION"
  echo "CLOUDSITE_BUCKET=$CLOUDSITE_BUCKET"
  echo "CLOUDSITE_QUEUE_PREFIX=$CLOUDSITE_QUEUE_PREFIX"
  echo "DJANGO_SECRET_KEY=$secret_key"
  if [ "$role" = web ]; then
    echo "DATABASE_URL=$db_url"
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
    echo "LIFECYCLE_GROUP=$LIFECYCLE_GROUP"
    echo "LIFECYCLE_HOOK=$LIFECYCLE_HOOK"
  fi
}

id -u cloudsite >/dev/null 2>&1 ||
  useradd --system --home-dir /opt/cloudsite --shell /sbin/nologin cloudsite

# The release is root's: the service user may read it but change nothing that root
# runs (deploy/lifecycle-watch.sh, the venv's interpreter).
chown -R root:root "$app"
chmod -R go-w "$app"

# Exactly the wheels `make dist` put in the release, each checked against the
# lock's sha256: no index is asked, so a 3 a.m. scale-out installs what was tested.
python3.11 -m venv "$app/.venv"
"$app/.venv/bin/pip" install --quiet --no-index --find-links "$app/wheelhouse" \
  --require-hashes -r "$app/wheelhouse/requirements.lock"

mkdir -p "$(dirname "$env_file")" "$units" "$root/var/log/cloudsite" "$root/etc/logrotate.d"
(umask 077 && write_env > "$env_file")
install -m 0644 "$app/deploy/logrotate/cloudsite" "$root/etc/logrotate.d/cloudsite"
for unit in "${enable[@]}"; do
  case "$unit" in
    *@*) template=${unit%%@*}@.service ;;
    *)   template=$unit ;;
  esac
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
    CLOUDSITE_ADMIN_PASSWORD=$admin_password "$app/.venv/bin/python" deploy/release.py
  )
fi

systemctl daemon-reload
systemctl enable --now "${enable[@]}"

if [ "$role" = web ]; then
  # Ready means the database and the queues answer (/readyz), not only the process:
  # the launch hook lets the instance into service only after this.
  curl -fsS --retry 30 --retry-delay 2 --retry-all-errors http://127.0.0.1:8000/readyz
fi
echo "bootstrap: $role instance ready"
