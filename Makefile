# The everyday commands; each is also a script under scripts/ that CI runs.
.PHONY: run test generate build bench lint tidy

# Start the whole system on the embedded defaults (console on :8080).
run:
	go run ./cmd/linli serve

# The test command CI runs (.ci/run): checks, Go tests on SQLite and
# PostgreSQL, the end-to-end runs in Chromium.
test:
	./scripts/test.sh

# Regenerate ent, the OpenAPI document, the console's API types and web/dist.
generate:
	./scripts/generate.sh

# A static binary with the console embedded.
build:
	CGO_ENABLED=0 go build -trimpath -o bin/linli ./cmd/linli

# The quicker benchmarks (README, Measurements, lists the long ones and the
# scripts that measure memory, SIP and media against their yardsticks).
bench:
	go test -run '^$$' -bench 'ListRooms|EventIngest|RemoteOpen|PassSync' -benchtime 200x ./internal/app/
	go test -run '^$$' -bench Directory ./internal/call/

lint:
	./scripts/lint.sh

# go.mod and go.sum as go mod tidy leaves them.
tidy:
	go mod tidy
