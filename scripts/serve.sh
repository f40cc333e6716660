#!/usr/bin/env bash
# Production-style run (`make serve`): gunicorn web workers plus exactly ONE scheduler
# process against the configured DATABASE_URL. Ctrl-C (or SIGTERM) stops both; if either
# dies, the other is stopped too so a supervisor can restart the pair.
set -euo pipefail
cd "$(dirname "$0")/.."
WORKERS=${WORKERS:-3}
BIND=${BIND:-127.0.0.1:8000}
# Several workers must share the failed-login counters and rate limits: Redis.
export RATELIMIT_STORAGE_URI=${RATELIMIT_STORAGE_URI:-redis://127.0.0.1:6379/0}
if [[ $RATELIMIT_STORAGE_URI == redis* ]] && ! .venv/bin/python -c \
    'import os, redis; redis.Redis.from_url(os.environ["RATELIMIT_STORAGE_URI"], socket_connect_timeout=2).ping()' \
    2>/dev/null; then
  echo "serve: Redis at $RATELIMIT_STORAGE_URI does not answer (start it, or set RATELIMIT_STORAGE_URI)" >&2
  exit 1
fi

.venv/bin/flask --app wsgi scheduler run &
scheduler=$!
.venv/bin/gunicorn --workers "$WORKERS" --bind "$BIND" wsgi:app &
web=$!
stop() { kill -TERM "$scheduler" "$web" 2>/dev/null || true; wait; }
trap 'stop; exit 0' INT TERM
wait -n "$scheduler" "$web" || true
echo "serve: one of the processes exited; stopping the other" >&2
stop
exit 1
