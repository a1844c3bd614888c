#!/usr/bin/env bash
# The project's test command (README). Runs go vet and the Go tests on the
# project's pure-Go backend "go" (gobackend; its own tests compare every
# accelerated op against simplego, so they cover both), the golden tests once
# more on GoMLX's simplego, then executes the notebooks headless when Jupyter and the
# GoNB kernel are installed (scripts/install-deps.sh installs them; CI=true
# makes their absence an error instead of a skip).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOMLX_BACKEND=go
echo "== go vet"
go vet ./...
echo "== go test"
go test -count=1 -timeout 30m ./...
echo "== go test (golden tests on simplego)"
GOMLX_BACKEND=simplego go test -count=1 -timeout 10m ./aptlib/bert/ ./aptlib/method/
if [ -x scripts/run-notebooks.sh ]; then
  echo "== notebooks"
  scripts/run-notebooks.sh
fi
