#!/usr/bin/env bash
# Regenerates everything that is generated and committed: the ent code from
# internal/ent/schema, the OpenAPI document the console is typed from, the
# console's API types and its build in web/dist (embedded in the binary).
# With --check it fails when that changes anything (CI: the committed files
# must be what their sources make).
set -euo pipefail
cd "$(dirname "$0")/.."

generated=(internal/ent web/console/openapi.json web/console/src/api/schema.d.ts web/dist)

state() {
	git diff HEAD -- "${generated[@]}"
	git ls-files --others --exclude-standard -- "${generated[@]}"
}

if [ "${1:-}" = "--check" ]; then
	before="$(state | sha256sum)"
fi

echo "== go generate ./internal/ent"
# ent's generator runs with -mod=mod and records its own dependencies in
# go.sum; those are not the project's, so go.sum is put back afterwards.
sum="$(mktemp)"
cp go.sum "$sum"
go generate ./internal/ent
cp "$sum" go.sum
rm -f "$sum"
echo "== OpenAPI document and the console's API types"
go run ./cmd/linli openapi > web/console/openapi.json
(cd web/console && { [ -d node_modules ] && npm ls --silent >/dev/null 2>&1 || npm ci --no-audit --no-fund --loglevel=error; } && npm run --silent gen:api)
echo "== console build (web/dist)"
(cd web/console && npm run --silent build >/dev/null)

if [ "${1:-}" = "--check" ]; then
	after="$(state | sha256sum)"
	if [ "$before" != "$after" ]; then
		echo "generated files differ from what is committed; run ./scripts/generate.sh and commit:"
		git status --short -- "${generated[@]}"
		exit 1
	fi
	echo "generated files are up to date"
fi
