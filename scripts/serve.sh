#!/usr/bin/env bash
# Production-style run (`make serve`): nginx in front (deploy/nginx.conf.template, rendered
# into $RUN_DIR), gunicorn workers behind it on a Unix socket (gunicorn.conf.py), and exactly
# ONE scheduler process, against the configured DATABASE_URL. On PostgreSQL the workers reach
# it through PgBouncer (Debian's, transaction mode, scripts/pgbouncer.py renders its config
# into $RUN_DIR/pgbouncer; a Unix socket only); the scheduler connects directly. Ctrl-C (or
# SIGTERM) stops them all; if one dies, the others are stopped too so a supervisor can
# restart the set.
#
#   BIND=127.0.0.1:8000   where nginx listens (loopback unless you say otherwise)
#   WORKERS=N             gunicorn workers (default: gunicorn.conf.py, from the cores)
#   RUN_DIR=instance/run  nginx's rendered config, logs and temp files; gunicorn's socket
#   PGBOUNCER=0           the workers connect to PostgreSQL directly (default 1)
#   PGBOUNCER_POOL_SIZE=N PgBouncer's server connections (default 20; README "Connection
#                         budget"); PGBOUNCER_MODE=session keeps prepared statements on
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIND=${BIND:-127.0.0.1:8000}
RUN_DIR=$(realpath -m "${RUN_DIR:-instance/run}")
export RUN_DIR
[[ -n ${WORKERS:-} ]] && export WEB_CONCURRENCY=$WORKERS
export GUNICORN_BIND=${GUNICORN_BIND:-unix:$RUN_DIR/gunicorn.sock}
# Only nginx reaches gunicorn, and it sets X-Forwarded-For to the address it saw.
export TRUSTED_PROXIES=${TRUSTED_PROXIES:-1}
# Several workers must share the failed-login counters and rate limits: Redis.
export RATELIMIT_STORAGE_URI=${RATELIMIT_STORAGE_URI:-redis://127.0.0.1:6379/0}
if [[ $RATELIMIT_STORAGE_URI == redis* ]] && ! .venv/bin/python -c \
    'import os, redis; redis.Redis.from_url(os.environ["RATELIMIT_STORAGE_URI"], socket_connect_timeout=2).ping()' \
    2>/dev/null; then
  echo "serve: Redis at $RATELIMIT_STORAGE_URI does not answer (start it, or set RATELIMIT_STORAGE_URI)" >&2
  exit 1
fi
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
if [[ ! -x $NGINX ]]; then
  echo "serve: nginx is missing (Debian: apt-get install nginx; make serve installs it as root)" >&2
  exit 1
fi

# nginx lets through what the app accepts (community/config.py: MAX_REQUEST_BYTES), so a
# file over its own limit is refused by the app on its form, which keeps the other fields.
max_request=${MAX_REQUEST_BYTES:-${MAX_UPLOAD_BYTES:-$((16 * 1024 * 1024))}}
max_body=$(( (max_request + 1048575) / 1048576 ))m
mkdir -p "$RUN_DIR"
user_line=""
if [[ $(id -u) == 0 ]]; then
  # nginx's workers drop root: they need to read static/ and write their temp files.
  user_line="user www-data;"
  chown www-data "$RUN_DIR" 2>/dev/null || true
fi
sed -e "s|@ROOT@|$ROOT|g" -e "s|@RUN_DIR@|$RUN_DIR|g" -e "s|@LISTEN@|$BIND|g" \
    -e "s|@UPSTREAM@|${GUNICORN_BIND}|g" -e "s|@MAX_BODY@|$max_body|g" \
    -e "s|@USER_LINE@|$user_line|g" deploy/nginx.conf.template > "$RUN_DIR/nginx.conf"
"$NGINX" -t -q -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf"

# PgBouncer in front of PostgreSQL for the web workers (DATABASE_URL from the environment
# or .env, as the app reads it).
pooler=""
app_url=""
if [[ ${PGBOUNCER:-1} == 1 ]] && .venv/bin/python -c \
    'import os, sys, dotenv; dotenv.load_dotenv(); sys.exit(not os.environ.get("DATABASE_URL", "").startswith("postgresql"))'; then
  PGBOUNCER_BIN=${PGBOUNCER_BIN:-$(command -v pgbouncer || echo /usr/sbin/pgbouncer)}
  if [[ ! -x $PGBOUNCER_BIN ]]; then
    echo "serve: pgbouncer is missing (Debian: apt-get install pgbouncer; make serve installs it as root)" >&2
    exit 1
  fi
  app_url=$(.venv/bin/python scripts/pgbouncer.py "$RUN_DIR")
  pgb_user=()
  if [[ $(id -u) == 0 ]]; then  # PgBouncer refuses to run as root
    chown -R postgres "$RUN_DIR/pgbouncer"
    pgb_user=(-u postgres)
  fi
  "$PGBOUNCER_BIN" "${pgb_user[@]}" "$RUN_DIR/pgbouncer/pgbouncer.ini" &
  pooler=$!
  for _ in $(seq 50); do
    compgen -G "$RUN_DIR/pgbouncer/.s.PGSQL.*" >/dev/null && break
    sleep 0.1
  done
fi

.venv/bin/flask --app wsgi scheduler run &
scheduler=$!
if [[ -n $app_url ]]; then
  # Transaction mode hands each transaction any server connection: no server-side prepared
  # statements (BENCHMARKS.md, "PgBouncer"). Session mode keeps them.
  threshold=none
  [[ ${PGBOUNCER_MODE:-transaction} == session ]] && threshold=${DATABASE_PREPARE_THRESHOLD:-5}
  DATABASE_URL=$app_url DATABASE_PREPARE_THRESHOLD=$threshold \
    .venv/bin/gunicorn -c gunicorn.conf.py wsgi:app &
else
  .venv/bin/gunicorn -c gunicorn.conf.py wsgi:app &
fi
web=$!
"$NGINX" -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -g 'daemon off;' &
proxy=$!
echo "serve: http://$BIND (nginx → gunicorn at $GUNICORN_BIND${pooler:+ → PgBouncer}; scheduler pid $scheduler)" >&2
stop() { kill -TERM "$scheduler" "$web" "$proxy" $pooler 2>/dev/null || true; wait; }
trap 'stop; exit 0' INT TERM
wait -n "$scheduler" "$web" "$proxy" $pooler || true
echo "serve: one of the processes exited; stopping the others" >&2
stop
exit 1
