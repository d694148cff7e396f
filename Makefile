# The project's front door: `make demo` runs the main job, `make test` runs the tests.
# Both install what they need first (tools/setup.sh is idempotent).

.PHONY: setup demo test bench bench-text bench-unet

setup:
	@./tools/setup.sh

demo: setup
	swift build -c release --product aptp
	.build/release/aptp scripts/demo.aptp $(DEMO_ARGS)

test: setup
	swift build --build-tests
	swift test --skip-build

bench: setup
	swift build -c release --product aptp-bench
	.build/release/aptp-bench

bench-text: setup
	swift build -c release --product aptp-bench
	.build/release/aptp-bench text

bench-unet: setup
	swift build -c release --product aptp-bench
	.build/release/aptp-bench unet
	.build/release/aptp-bench memory
