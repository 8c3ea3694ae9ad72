# The README's two commands: `make run` and `make test`. Everything they need is installed by
# scripts/rayons.sh on first use; see README.md.
.PHONY: run test stop

run:
	@bash scripts/rayons.sh run

test:
	@bash scripts/rayons.sh test

stop:
	@bash scripts/rayons.sh stop
