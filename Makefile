# Two commands for a new user: `make run` (the app) and `make test` (every test).
# Both install what is missing first (scripts/setup.sh) and are quick when all is there.

PORT ?= 8080
export CHROMEDRIVER ?= /usr/bin/chromedriver

.PHONY: run test lint setup cli test-rust test-wasm-build wasm samples test-web

WASM_RAW := target/wasm32-unknown-unknown/wasm/vhd_viewer.wasm
WASM_PKG := www/pkg/vhd_viewer_bg.wasm
# The features rustc's wasm32 target uses by default, so that wasm-opt keeps them.
WASM_FEATURES := --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
	--enable-mutable-globals --enable-reference-types --enable-multivalue

# The web page: builds the WebAssembly and the sample disks, then serves www/ (with HTTP Range).
run: wasm samples
	node scripts/serve.mjs www --port $(PORT)

# The core compiled to WebAssembly with its JavaScript glue in www/pkg/, made smaller by
# binaryen's wasm-opt (from npm: Debian's is too old for the Rust toolchain's output).
wasm:
	scripts/setup.sh web
	cargo build --lib --target wasm32-unknown-unknown --profile wasm
	@$(MAKE) --no-print-directory $(WASM_PKG)

$(WASM_PKG): $(WASM_RAW)
	wasm-bindgen --target web --out-dir www/pkg $(WASM_RAW)
	node_modules/binaryen/bin/wasm-opt -Oz $(WASM_FEATURES) -o $(WASM_PKG) $(WASM_PKG)
	@ls -l $(WASM_PKG)

# The npm package (ES modules, the .wasm, .d.ts, README; no dependencies) in dist/, and the whole
# viewer as one self-contained HTML file, dist/vhd-viewer.html, that works opened from disk.
# `cd dist && npm pack` makes the tarball.
.PHONY: package
package: wasm
	node scripts/package.mjs

# The pictures the README and docs/pictures.md show (docs/pictures/), drawn again by `vhd-viewer
# draw` from the test chain of tests/draw.rs (which fails when they are not what draw makes).
.PHONY: pictures
pictures:
	UPDATE_PICTURES=1 cargo test --test draw the_documents_pictures_are_what_draw_makes

# The sample disks the page offers (www/samples/, generated, not committed).
samples:
	cargo run --quiet --release --example make_samples -- www/samples

cli:
	scripts/setup.sh native
	cargo build --release

# Every test: the lint gates, the Rust tests, the wasm build, the browser tests and the fuzz targets.
test: lint test-rust test-wasm-build test-web test-fuzz

# The lint gates, each failing on any finding: rustfmt, clippy (native with every target, and the
# wasm build of the library) and TypeScript's checker over the page's modules (www/tsconfig.json,
# with the .d.ts that wasm-bindgen writes).
lint: wasm
	cargo fmt --check
	cargo fmt --check --manifest-path fuzz/Cargo.toml
	cargo clippy --all-targets -- -D warnings
	cargo clippy --target wasm32-unknown-unknown --lib -- -D warnings
	node_modules/.bin/tsc -p www

test-rust:
	scripts/setup.sh native
	cargo test --all-targets

test-wasm-build:
	scripts/setup.sh web
	cargo build --target wasm32-unknown-unknown --lib

# The page in real browsers, compared with the command line's output on the same files: the
# whole page suite in headless Chromium (Debian's, driven by playwright-core), and the page's main
# paths in all three engines (tests/web/page-*.test.mjs: Chromium, Firefox ESR over WebDriver
# BiDi, WebKitGTK's MiniBrowser over WebDriver under xvfb-run); and the unit tests of its modules.
test-web:
	scripts/setup.sh all
	cargo build --release
	@$(MAKE) --no-print-directory wasm samples package
	node --test tests/web/

# Every fuzz target (fuzz/, cargo-fuzz) for a few seconds each, from writer-made seeds.
.PHONY: test-fuzz
test-fuzz:
	scripts/setup.sh fuzz
	FUZZ_SECONDS=$${FUZZ_SECONDS:-8} fuzz/run.sh

# The benchmark (bench/run.mjs): vhd-viewer against qemu-img, vhdiinfo, 7zz and cat, natively
# and in headless Chromium, on inputs it makes in bench-out/ (bench_inputs, and the disks of
# `compact --trim` by scripts/make-trim-disks.sh; about 10 minutes; not part of `make test`).
# BENCH_ARGS passes options, e.g. BENCH_ARGS="--native-only --runs 3".
.PHONY: bench
bench:
	scripts/setup.sh bench
	cargo build --release --bin vhd-viewer --example bench_inputs
	@$(MAKE) --no-print-directory wasm
	node bench/run.mjs $(BENCH_ARGS)
