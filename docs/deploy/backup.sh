#!/usr/bin/env bash
# Back up the tracker store (Rasa's `events` table) and our tables (tickets, their history,
# failed look-ups, alembic_version): one pg_dump per database, custom format (pg_restore).
#
# Reads the same variables as the services (mdm.env + secrets.env; mdm-backup.service passes
# them): TRACKER_DB_HOST/PORT/NAME/USER/PASSWORD and DATABASE_URL. When DATABASE_URL names the
# tracker store's database (the layout of docs/deployment.md) one dump holds both.
#   MDM_BACKUP_DIR        where the dumps go (default /var/backups/mdm-assistant)
#   MDM_BACKUP_KEEP_DAYS  dumps older than this are deleted (default 14; 0 keeps everything)
# Prints the path of each dump written. Restore: docs/deployment.md, "Backups".
set -euo pipefail
umask 077

backup_dir=${MDM_BACKUP_DIR:-/var/backups/mdm-assistant}
keep_days=${MDM_BACKUP_KEEP_DAYS:-14}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$backup_dir"

: "${TRACKER_DB_NAME:?TRACKER_DB_NAME is not set (read mdm.env)}"
tracker_host=${TRACKER_DB_HOST:-127.0.0.1}
tracker_port=${TRACKER_DB_PORT:-5432}
[[ $tracker_port == 0 ]] && tracker_port=5432

dump() {  # dump NAME pg_dump-connection-arguments...
  local out="$backup_dir/$1-$stamp.dump"
  shift
  pg_dump --format=custom --no-owner --no-privileges --file="$out.partial" "$@"
  mv "$out.partial" "$out"
  echo "$out"
}

PGPASSWORD=${TRACKER_DB_PASSWORD:-} dump "tracker-${TRACKER_DB_NAME}" \
  --host="$tracker_host" --port="$tracker_port" --username="${TRACKER_DB_USER:-postgres}" \
  --dbname="$TRACKER_DB_NAME"

# Our tables: DATABASE_URL is an SQLAlchemy URL (postgresql+psycopg2://user:pw@host:port/db).
url=${DATABASE_URL:-}
if [[ $url =~ ^postgresql(\+[a-z0-9]+)?://(([^:@/]*)(:([^@/]*))?@)?([^:/?]+)?(:([0-9]+))?/([^?]+) ]]; then
  host=${BASH_REMATCH[6]:-127.0.0.1}
  port=${BASH_REMATCH[8]:-5432}
  db=${BASH_REMATCH[9]}
  if [[ $db != "$TRACKER_DB_NAME" || $host != "$tracker_host" || $port != "$tracker_port" ]]; then
    dump "tables-$db" --dbname="postgresql://${url#*://}"  # libpq takes no +driver
  fi
elif [[ -n $url ]]; then
  echo "backup.sh: DATABASE_URL is not a PostgreSQL URL: back up that database yourself" >&2
  exit 1
fi

if [[ $keep_days -gt 0 ]]; then
  find "$backup_dir" -maxdepth 1 -name '*.dump' -mtime +"$keep_days" -delete
fi
