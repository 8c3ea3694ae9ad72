#!/usr/bin/env bash
# The restore drill of docs/operations.md, as one command: back the database up with pg_dump,
# restore the dump into a scratch cluster made for the occasion, compare every table's row count,
# then throw the scratch cluster away. A backup nobody has restored is a hope, not a backup.
#
#   bash scripts/backup_drill.sh [DATABASE_URL]     (default: $DATABASE_URL, else the private
#                                                    cluster's `rayons` database)
# Keeps the dump in var/backups/; exits 1 when any count differs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/rayons.sh
source "$ROOT/scripts/rayons.sh"

SOURCE_URL=${1:-${DATABASE_URL:-$(private_url rayons)}}
SOURCE_URL=${SOURCE_URL/postgresql+psycopg:/postgresql:}
SCRATCH_HOME=${RAYONS_DRILL_HOME:-$ROOT/var/drill}
SCRATCH_PORT=${RAYONS_DRILL_PORT:-54359}
DUMP="$ROOT/var/backups/rayons-$(date -u +%Y%m%dT%H%M%SZ).dump"

counts() {  # "table count" per line, every table of the public schema, exact
    local url=$1 table
    for table in $(psql "$url" -Atc "SELECT tablename FROM pg_tables WHERE schemaname = 'public'
                                      ORDER BY tablename"); do
        printf '%s %s\n' "$table" "$(psql "$url" -Atc "SELECT count(*) FROM public.\"$table\"")"
    done
}

mkdir -p "$ROOT/var/backups"
started=$(date +%s)
pg_dump --format=custom --no-owner --file "$DUMP" "$SOURCE_URL"
dumped=$(date +%s)
log "dump: $DUMP ($(du -h "$DUMP" | cut -f1), $((dumped - started)) s)"

scratch_url=$(RAYONS_PG_HOME="$SCRATCH_HOME" RAYONS_PG_PORT="$SCRATCH_PORT" \
              bash "$ROOT/scripts/rayons.sh" cluster)
scratch_url=${scratch_url/postgresql+psycopg:/postgresql:}
trap 'RAYONS_PG_HOME="$SCRATCH_HOME" RAYONS_PG_PORT="$SCRATCH_PORT" bash "$ROOT/scripts/rayons.sh" stop;
      rm -rf "$SCRATCH_HOME"' EXIT
pg_restore --no-owner --exit-on-error --dbname "$scratch_url" "$DUMP"
restored=$(date +%s)
log "restored into a scratch cluster on port $SCRATCH_PORT in $((restored - dumped)) s"

if diff <(counts "$SOURCE_URL") <(counts "$scratch_url") > "$ROOT/var/backups/drill.diff"; then
    counts "$scratch_url" | awk '{ rows += $2 } END { printf "%d tables, %d rows: every count equal\n", NR, rows }'
else
    log "row counts differ:"; cat "$ROOT/var/backups/drill.diff" >&2
    exit 1
fi
