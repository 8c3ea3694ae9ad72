# The README's two commands: `make run` and `make test`. Everything they need is installed by
# scripts/rayons.sh on first use; see README.md.
.PHONY: run test stop translations

run:
	@bash scripts/rayons.sh run

test:
	@bash scripts/rayons.sh test

stop:
	@bash scripts/rayons.sh stop

# Refresh the French catalogue after changing user-facing strings, then fill the new msgstr.
translations:
	.venv/bin/pybabel extract -F babel.cfg -k lazy_gettext -o app/translations/messages.pot --omit-header app templates
	.venv/bin/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching
