# Everyday commands. The two that matter on a fresh machine are `make demo` and `make test`
# (the same as scripts/demo.sh and scripts/test.sh, which install what they need).
.PHONY: demo test test-fast hardening lint format typecheck sam sam-local db-start db-stop catalog bench clean

demo:        ## run the demo (PostgreSQL + local AWS emulator + every action)
	scripts/demo.sh

test:        ## lint, types, the pytest suite, SAM validate and build, sam local
	scripts/test.sh

test-fast:   ## the pytest suite only (no SAM checks, no sam local)
	SKIP_SAM=1 scripts/test.sh -q

hardening:   ## the hardening suites, long: 200 fuzz examples per action, the connection killed in every call kind
	scripts/bootstrap.sh
	bash -c '. scripts/database.sh crm_test && HARDENING_PROFILE=hardening \
	  .venv/bin/pytest -p no:cacheprovider -n 2 tests/integration/hardening'

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

format:
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

typecheck:
	.venv/bin/mypy

sam:         ## sam validate --lint and sam build (no Docker)
	scripts/sam_check.sh

sam-local:   ## every function run by `sam local` in Docker against the demo tenant, outputs checked
	scripts/sam_local.sh

db-start:    ## start the private PostgreSQL (.local/pg)
	scripts/postgres.sh start && scripts/postgres.sh url

db-stop:
	scripts/postgres.sh stop

catalog:
	.venv/bin/crm-actions catalog

bench:       ## find_activities benchmark (1M rows; see BENCHMARKS.md)
	scripts/postgres.sh start && DB_SSLMODE=$${DB_SSLMODE:-disable} .venv/bin/python bench/find_activities.py

clean:
	rm -rf .aws-sam .pytest_cache .ruff_cache .mypy_cache
