# The README's two commands: `make run` and `make test`. Everything they need is installed by
# scripts/rayons.sh on first use; see README.md.
.PHONY: run test lint stop backup-drill stack stack-stop translations bench-import bench-reserve \
	bench-search bench-hostile bench-pages

run:
	@bash scripts/rayons.sh run

# Runs `lint` first (`make test` with no arguments always does).
test:
	@bash scripts/rayons.sh test

# ruff, then mypy --strict; no database needed.
lint:
	@bash scripts/rayons.sh lint

stop:
	@bash scripts/rayons.sh stop

# Dump the database, restore it into a scratch cluster and compare every table's row count
# (docs/operations.md, "Backups and the restore drill"). ARGS: a DATABASE_URL.
backup-drill:
	@bash scripts/backup_drill.sh $(ARGS)

# The production stack on 127.0.0.1 (nginx -> gunicorn workers -> Redis -> PostgreSQL), under
# var/stack/; see scripts/stack.sh and docs/operations.md.
stack:
	@bash scripts/stack.sh start

stack-stop:
	@bash scripts/stack.sh stop

# Refresh the French catalogue after changing user-facing strings, then fill the new msgstr.
translations:
	.venv/bin/pybabel extract -F babel.cfg -k lazy_gettext -k N_ -o app/translations/messages.pot --omit-header app templates
	.venv/bin/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching

# Import benchmark (not a test) against the private database; see bench/README.md.
# Flags go through ARGS, e.g. `make bench-import ARGS="--shops 30 --keep"`.
bench-import:
	@eval "$$(bash scripts/rayons.sh env)" && .venv/bin/python bench/import_bench.py $(ARGS)

# Reservation throughput and contention through gunicorn (not a test); see bench/README.md.
bench-reserve:
	@eval "$$(bash scripts/rayons.sh env)" && .venv/bin/python bench/reserve_bench.py $(ARGS)

# Search benchmark (not a test) against the private database, loaded with wrk (installed here
# when missing); see bench/README.md. E.g. `make bench-search ARGS="--shops 3000 --keep"`.
bench-search:
	@command -v wrk >/dev/null || { as_root=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$as_root apt-get update -q && \
		$$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk; }
	@eval "$$(bash scripts/rayons.sh env)" && .venv/bin/python bench/search_bench.py $(ARGS)

# Hostile stock uploads through one gunicorn worker: its peak memory and CPU per file class (not
# a test); see bench/README.md. E.g. `make bench-hostile ARGS="--scale 0.1"`.
bench-hostile:
	@eval "$$(bash scripts/rayons.sh env)" && .venv/bin/python bench/hostile_bench.py $(ARGS)

# Home page and shop list at 3,000 and 30,000 shops, in-process against /healthz (not a test);
# see bench/README.md. E.g. `make bench-pages ARGS="--shops 3000 --requests 50"`.
bench-pages:
	@eval "$$(bash scripts/rayons.sh env)" && .venv/bin/python bench/pages_bench.py $(ARGS)
