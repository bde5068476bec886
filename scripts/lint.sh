#!/usr/bin/env bash
# Runs golangci-lint with .golangci.yml, installing the pinned version into
# $(go env GOPATH)/bin when it is missing or another version.
set -euo pipefail
cd "$(dirname "$0")/.."
version=v2.15.0
bin="$(go env GOPATH)/bin/golangci-lint"
if ! "$bin" version 2>/dev/null | grep -q "version ${version#v} "; then
	echo "== installing golangci-lint $version"
	(cd / && GOFLAGS= go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$version")
fi
"$bin" run ./...
