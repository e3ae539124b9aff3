# cloudphone.infra — lab, tests, benchmarks and drills.
# `make lab` and `make test` take a fresh Debian machine all the way; see README.md.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
CACHE_DIR ?= /var/cache/cloudphone
LAB ?= cplab
LAB_PREFIX ?= 198.18.10
RELEASE ?= trixie
INVENTORY ?= inventories/lab
# Molecule scenarios: every directory of molecule/ with a molecule.yml, the slowest first, so that
# the last one to start is a short one and `make test` does not wait on a long tail.
SLOWEST_SCENARIOS := objectstore postgresql rabbitmq redis
SCENARIOS ?= $(SLOWEST_SCENARIOS) $(filter-out $(SLOWEST_SCENARIOS),$(sort $(patsubst molecule/%/molecule.yml,%,$(wildcard molecule/*/molecule.yml))))

export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export LAB LAB_PREFIX
export PIP_CACHE_DIR := $(CACHE_DIR)/pip
# Lab and Molecule runs read the lab vault; production runs bring their own file.
LAB_VAULT_PASS := $(CURDIR)/inventories/lab/.vault-pass
ifeq ($(INVENTORY),inventories/lab)
export ANSIBLE_VAULT_PASSWORD_FILE ?= $(LAB_VAULT_PASS)
endif

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z][a-z0-9_-]*:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 24

# ---------------------------------------------------------------- setup

.PHONY: venv
venv: $(VENV)/.installed ## the controller's Python environment

$(VENV)/.installed: requirements.txt
	python3 -c 'import ensurepip, venv' 2>/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.txt
	touch $@

.PHONY: engine
engine: ## start the Docker engine (198.18.0.0/15 networks) and the apt cache
	tools/lab engine

.PHONY: images
images: engine ## build the systemd host images (RELEASE=trixie|bookworm)
	tools/lab image --release $(RELEASE)

.PHONY: secrets
secrets: venv ## add missing secrets to INVENTORY's vault (never changes existing ones)
	$(VENV)/bin/python tools/generate-secrets -i $(INVENTORY)

.PHONY: secrets-lab
secrets-lab: venv
	$(VENV)/bin/python tools/generate-secrets -i inventories/lab --create-password-file $(LAB_VAULT_PASS)

# ---------------------------------------------------------------- lab

.PHONY: lab
lab: venv engine secrets-lab lab-hosts converge ## build the lab and converge site.yml onto it

.PHONY: lab-hosts
lab-hosts: engine
	tools/lab up --lab $(LAB) --prefix $(LAB_PREFIX) --inventory inventories/lab

.PHONY: converge
converge: ## ansible-playbook site.yml -i INVENTORY
	ansible-playbook site.yml -i $(INVENTORY)

.PHONY: lab-destroy
lab-destroy: ## remove the lab's hosts and network
	tools/lab down --lab $(LAB)

# ---------------------------------------------------------------- drift check

# make itself exits 2 whenever a recipe fails; schedulers that act on the exit code
# run `ansible-playbook drift-check.yml -i INVENTORY --check --diff` directly (as the timer does).
.PHONY: drift-check
drift-check: venv ## check INVENTORY for drift and health: exit 0 ok, 2 drift, 3 unhealthy, 1 failed; reports/drift/
	@rc=0; ansible-playbook drift-check.yml -i $(INVENTORY) --check --diff || rc=$$?; \
	  [ $$rc -eq 0 ] || echo "drift check exit code $$rc (2 drift, 3 a tier unhealthy, 1 the check failed)"; exit $$rc

.PHONY: drift-schedule
drift-schedule: venv ## install a systemd timer running the drift check of INVENTORY here (CALENDAR=, KEEP=)
	ansible-playbook playbooks/drift_schedule.yml -i $(INVENTORY) -e drift_schedule_inventory=$(INVENTORY) \
	  -e 'drift_schedule_calendar="$(or $(CALENDAR),*-*-* 06:00:00)"' -e drift_schedule_keep=$(or $(KEEP),30) \
	  $(if $(ANSIBLE_VAULT_PASSWORD_FILE),-e drift_schedule_vault_password_file=$(abspath $(ANSIBLE_VAULT_PASSWORD_FILE)))

.PHONY: drift-test
drift-test: venv ## seed drift into the running lab of INVENTORY and check every verdict (tests/drift)
	DRIFT_TEST_INVENTORY=$(INVENTORY) pytest -v -p no:cacheprovider tests/drift

# ---------------------------------------------------------------- tests

.PHONY: test
# The static checks run beside Molecule, whose scenarios spend most of their time waiting on daemons.
# Output is not held back (CI shows progress): Molecule prints a line per scenario, its logs go to files.
test: venv engine secrets-lab ## everything CI runs: lint, sanity, unit tests, alert rule tests, Molecule
	$(MAKE) --no-print-directory -j2 molecule static-checks

.PHONY: static-checks
static-checks: lint sanity unit rules ## lint, sanity, unit tests and alert rule tests, without hosts

.PHONY: lint
lint: venv secrets-lab
	yamllint --strict .
	ansible-lint --profile production

.PHONY: sanity
sanity: venv
	tools/sanity

.PHONY: unit
unit: venv secrets-lab
	pytest -q tests/unit

.PHONY: rules
rules: ## promtool test rules: every alert fires in one case and stays silent in another
	tools/prometheus-tools promtool check rules roles/prometheus/files/rules/*.yml
	tools/prometheus-tools promtool test rules tests/rules/*_test.yml

.PHONY: molecule
# Scenarios have their own hosts and subnet, so several run at once: most of their time is spent
# waiting on daemons, not on the CPU. Each one's output goes to MOLECULE_LOGS; a failure prints its tail.
MOLECULE_JOBS ?= 3
MOLECULE_LOGS ?= .cache/molecule-logs

molecule: venv engine secrets-lab ## every Molecule scenario, MOLECULE_JOBS at once (SCENARIOS="a b" for a subset)
	@# Build the images first: parallel scenarios must not race to build the same one.
	tools/lab image --release trixie
	tools/lab image --release bookworm
	@mkdir -p $(MOLECULE_LOGS)
	@printf '%s\n' $(SCENARIOS) | xargs -P $(MOLECULE_JOBS) -I{} sh -c '\
	  start=$$(date +%s); echo "==== molecule test -s {} (log: $(MOLECULE_LOGS)/{}.log)"; \
	  if molecule test -s {} > $(MOLECULE_LOGS)/{}.log 2>&1; then \
	    echo "==== {} passed in $$(( $$(date +%s) - start ))s"; \
	  else \
	    echo "==== {} FAILED after $$(( $$(date +%s) - start ))s; the end of its log:"; \
	    tail -n 150 $(MOLECULE_LOGS)/{}.log; exit 1; \
	  fi'

.PHONY: monitoring-e2e
monitoring-e2e: ## on the converged lab: targets vs inventory, Redis replica stopped -> RedisDown fires and resolves
	ansible-playbook tests/e2e/monitoring_e2e.yml -i $(INVENTORY)

.PHONY: logs-e2e
logs-e2e: ## on the converged lab: trace ID on 3 hosts, 60 s VictoriaLogs outage (300 lines, none lost), web UI in Chromium -> reports/logging/
	ansible-playbook tests/e2e/logs_e2e.yml -i $(INVENTORY)

.PHONY: dashboards-e2e
dashboards-e2e: ## on the converged lab: every dashboard expression has data, each dashboard in Chromium, 60 s VictoriaMetrics restart loses no sample -> reports/dashboards/
	ansible-playbook tests/e2e/dashboards_e2e.yml -i $(INVENTORY)

.PHONY: grafana-dashboards
grafana-dashboards: venv ## the dashboards as Grafana JSON with a Prometheus data source variable -> OUT (build/grafana-dashboards)
	$(VENV)/bin/python tools/grafana-dashboards --out $(or $(OUT),build/grafana-dashboards)

.PHONY: collection
collection: venv ## build the collection tarball
	ansible-galaxy collection build --force .

# ---------------------------------------------------------------- docs

.PHONY: role-readmes
role-readmes: venv ## write roles/*/README.md from each role's meta/argument_specs.yml (tests/unit checks they match)
	$(VENV)/bin/python tools/role-readme

# ---------------------------------------------------------------- measurements

.PHONY: bench-drift
bench-drift: venv ## on the converged lab: idempotent converge vs drift check, back to back
	$(VENV)/bin/python tools/bench-drift --inventory $(INVENTORY) --out reports/bench/drift-check.json

.PHONY: bench-converge
bench-converge: venv engine secrets-lab ## destroy + recreate the lab, time a cold and an idempotent converge
	$(VENV)/bin/python tools/bench-converge --lab $(LAB) --prefix $(LAB_PREFIX) --out reports/bench/converge.json

# ---------------------------------------------------------------- drills
# The drills are test-side (tests/drills/): playbooks in tests/drills/playbooks/ drive the workload
# CLI `python -m cloudphone_drill` (tests/drills/cloudphone_drill/) on this machine; the playbooks
# set its PYTHONPATH themselves, so `ansible-playbook tests/drills/playbooks/<tier>_failover.yml`
# works without make too. Reports: reports/drills/<tier>-<fault>.json.

.PHONY: drill-rabbitmq
drill-rabbitmq: venv ## RabbitMQ node-loss drill on INVENTORY (FAULT=kill|down|stop|pause) -> reports/drills/rabbitmq-FAULT.json
	ansible-playbook tests/drills/playbooks/rabbitmq_failover.yml -i $(INVENTORY) -e rabbitmq_drill_fault=$(or $(FAULT),kill)

.PHONY: drill-redis
drill-redis: venv ## Redis failover drill on the lab: FAULT=kill|pause (both by default) -> reports/drills/redis-<fault>.json
	@for f in $(or $(FAULT),kill pause); do \
	  echo "==== redis drill: $$f"; \
	  ansible-playbook tests/drills/playbooks/redis_failover.yml -i $(INVENTORY) -e drill_fault=$$f; \
	done

.PHONY: drill-objectstore
drill-objectstore: venv ## Ceph node-loss drill on INVENTORY: two data nodes lost, FAULT=down|pause (both without FAULT) -> reports/drills/objectstore-FAULT.json
	@rc=0; for fault in $(or $(FAULT),down pause); do \
	  echo "==== object storage drill: $$fault"; \
	  ansible-playbook tests/drills/playbooks/objectstore_failover.yml -i $(INVENTORY) -e objectstore_drill_fault=$$fault || rc=1; \
	done; exit $$rc

.PHONY: drill-postgresql
drill-postgresql: venv ## PostgreSQL failover drill on INVENTORY: FAULT=kill|down|stop, all three without FAULT
	@rc=0; for fault in $(or $(FAULT),kill down stop); do \
	  echo "==== PostgreSQL drill: $$fault"; \
	  ansible-playbook tests/drills/playbooks/postgresql_failover.yml -i $(INVENTORY) -e drill_fault=$$fault || rc=1; \
	done; exit $$rc

