# The two commands: `make dev` runs the whole bridge locally, `make test` runs every test.
.PHONY: dev test setup lint unit browser console contracts package package-check bench bench-cold bench-scim bench-scim-worst bench-workflows bench-triggers bench-sender

setup:
	bash scripts/setup.sh

## Run everything locally (emulated AWS, demo data, the form, a demo Zendesk app). Ctrl-C stops it.
dev: setup console
	cargo build -p bridge-admin -p dev-server
	python3 scripts/local_stack.py --no-build

## Every check: format, lints, unit and integration tests (moto; each function's AWS calls against its IAM policy), template lint, browser tests, the contracts' fuzz.
test: setup lint unit browser contracts

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cfn-lint template.yaml
	python3 scripts/module_cycles.py
	python3 scripts/code_size.py

# The integration tests sign each function's AWS calls with its name; moto logs them, and each
# must be one the function's IAM policy in template.yaml allows (moto itself checks none).
unit:
	mkdir -p target && rm -f target/moto-calls.jsonl
	MOTO_CALL_LOG=$(CURDIR)/target/moto-calls.jsonl cargo test --workspace
	python3 scripts/iam_check_test.py
	python3 scripts/iam_check.py target/moto-calls.jsonl

browser: console
	cargo build -p bridge-admin -p dev-server
	cd tests/browser && npm test

## The operators' console: console/ built by Vite into console/dist (served beside the form).
console:
	cd console && npm run build

## Schemathesis (installed by setup in .venv-contracts) against docs/scim-openapi.yaml and
## docs/admin-openapi.yaml on the local stack, 60 s each.
contracts:
	cargo build -p bridge-admin -p dev-server
	SCHEMATHESIS=.venv-contracts/bin/schemathesis python3 scripts/contract_fuzz.py --seconds 60

## Lambda packages (arm64, release, zipped) in target/lambda/<function>/bootstrap.zip.
package:
	python3 -m pip install --quiet --disable-pip-version-check -r requirements-package.txt
	rustup target add aarch64-unknown-linux-gnu
	cargo lambda build --release --arm64 --output-format zip -p login -p account -p scim -p workflows -p triggers -p sms-sender -p admin

## The packages built, then each checked to be at most 4 MB zipped (CI runs this after the tests).
package-check: package
	python3 scripts/package_sizes.py

## The benchmarks: bridge overhead and AWS calls per password and corporate sign-in; mints per second per algorithm.
bench:
	cargo bench -p login --bench login_overhead
	cargo bench -p login --bench corporate_callback
	cargo bench -p shared --bench mint

## The cold path: the login function started as Lambda starts it, fed API Gateway events, against moto
## behind a latency proxy, beside the reference design; the region-like model, then loopback.
bench-cold: setup
	cargo build --release -p login
	cargo build -p bridge-admin -p dev-server
	python3 scripts/cold_path_bench.py --model region
	python3 scripts/cold_path_bench.py --model loopback

# 10,000 SCIM users imported and listed against moto, then one page's calls by its startIndex (moto's time dominates: the dev profile will do).
bench-scim:
	cargo bench --profile dev -p scim --bench scim_import

# The worst SCIM PATCH one request may carry, in the domain alone (release, no AWS), and the old bounds' shape.
bench-scim-worst:
	cargo bench -p scim --bench scim_worst

# Identity events through the workflow runner against moto (moto's time dominates: the dev profile will do).
bench-workflows:
	cargo bench --profile dev -p workflows --bench runner

# The Cognito trigger handler's own time per trigger (release, in-process).
bench-triggers:
	cargo bench -p triggers --bench triggers

# The custom SMS sender's own time per message (decrypt + dispatch; release, AWS replayed instantly).
bench-sender:
	bash -o pipefail -c "cargo bench -p sms-sender --bench sender | grep -v '\"_aws\"'"
