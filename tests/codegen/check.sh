#!/usr/bin/env bash
# Checks that the generated binding files (make gen) are valid and behave, in each
# language, before the packages that ship them exist: Python imports and round trips,
# TypeScript compiles under --strict, Go vets and passes a smoke test.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
tools="$root/target/node-tools"

python3 "$root/tests/codegen/check_python.py" "$root"

if [ ! -x "$tools/node_modules/.bin/tsc" ]; then
  mkdir -p "$tools"
  npm install --prefix "$tools" --silent --no-audit --no-fund typescript@5.9.3 >/dev/null
fi
"$tools/node_modules/.bin/tsc" --strict --noEmit --target es2022 --lib es2022,dom \
  "$root"/js/src/types.ts "$root"/js/src/errors.ts "$root"/js/src/calls.ts
echo "generated TypeScript: ok (tsc --strict)"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
# Only the generated files: the package's own cgo glue needs libsesame (make go-lib).
cp "$root"/go/types.go "$root"/go/errors.go "$root"/go/calls.go "$root/tests/codegen/smoke_test.go" "$scratch/"
printf 'module sesame.local/generated\n\ngo 1.21\n' > "$scratch/go.mod"
(cd "$scratch" && go vet ./... && go test ./... >/dev/null)
echo "generated Go: ok (go vet, smoke test)"
