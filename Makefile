# Two commands for a new user: `make run` (the app) and `make test` (every test).
# Both install what is missing first (scripts/setup.sh) and are quick when all is there.

PORT ?= 8080
export CHROMEDRIVER ?= /usr/bin/chromedriver

.PHONY: run test setup cli test-rust test-wasm-build

# Until the page lands: the command line on a sample disk made by the project's own writer.
run: cli
	./target/release/vhd-viewer info ../shared/samples/hyperv2012r2-dynamic.vhd

cli:
	scripts/setup.sh native
	cargo build --release

test: test-rust test-wasm-build

test-rust:
	scripts/setup.sh native
	cargo test --all-targets

test-wasm-build:
	scripts/setup.sh web
	cargo build --target wasm32-unknown-unknown --lib
