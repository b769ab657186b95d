#!/usr/bin/env bash
# make demo: start a local server on the embedded SQLite default, provision a demo vault
# and a read-only service account, resolve secrets with it, and stop the server.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet -p sesame-cli -p sesame-core --bin sesame --example provision_demo --example resolve_secret
# The Python SDK, built from this checkout into its own venv (make python-wheel).
make --no-print-directory --quiet python-wheel >/dev/null
python3 -m venv target/demo-venv
target/demo-venv/bin/pip install --quiet --disable-pip-version-check --force-reinstall --no-deps target/wheels/sesame_sdk-*.whl
# The JavaScript SDK: its tarball (make js-package), installed into a project of its own,
# which builds the addon from the tarball's sources (debug, in the shared target directory).
make --no-print-directory --quiet js-package >/dev/null
# The Go SDK: libsesame (the C ABI) built into go/lib for the module's cgo directives.
make --no-print-directory --quiet go-lib >/dev/null
rm -rf target/demo-js && mkdir -p target/demo-js
(cd target/demo-js && echo '{"private": true}' >package.json &&
    CARGO_TARGET_DIR="$PWD/../../target" SESAME_NATIVE_PROFILE=dev \
    npm install --silent --no-audit --no-fund --no-package-lock ../js/sesame-sdk-*.tgz 2>/dev/null)
bin=target/debug
dir=$(mktemp -d)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$dir"
}
trap cleanup EXIT

# Keep `server init` from saving the demo's owner credential in the real config directory.
export XDG_CONFIG_HOME="$dir/config"
echo "== sesame server init"
"$bin/sesame" server init --data-dir "$dir" >/dev/null
echo "owner credential written to $dir/owner.credential (mode $(stat -c %a "$dir/owner.credential"))"

echo "== sesame server start (SQLite in $dir)"
"$bin/sesame" server start --data-dir "$dir" --listen 127.0.0.1:0 >"$dir/server.out" 2>"$dir/server.err" &
server_pid=$!
for _ in $(seq 100); do
    [ -s "$dir/server.out" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$dir/server.err" >&2; exit 1; }
    sleep 0.1
done
url=$(head -n1 "$dir/server.out" | sed 's/^listening on //')
[ -n "$url" ] || { echo "the server did not start" >&2; cat "$dir/server.err" >&2; exit 1; }
echo "listening on $url"

echo "== provision (as the owner)"
"$bin/examples/provision_demo" "$dir/owner.credential" "$url" "$dir/demo.token"

echo "== resolve from Rust (as the read-only service account)"
export SESAME_SERVICE_ACCOUNT_TOKEN SESAME_URL="$url"
SESAME_SERVICE_ACCOUNT_TOKEN=$(cat "$dir/demo.token")
for reference in "op://Demo/Postgres/username" "op://Demo/Postgres/password" "op://Demo/Postgres/one-time password?attribute=totp"; do
    printf '%-56s → %s\n' "$reference" "$("$bin/examples/resolve_secret" "$reference")"
done
echo "a reference that does not resolve:"
"$bin/examples/resolve_secret" "op://Demo/Postgres/api key" || true

echo "== resolve from Python: the 1Password SDK's quickstart, with only the import and token changed"
echo "\$ python python/examples/quickstart.py   # resolves op://vault/item/field"
target/demo-venv/bin/python python/examples/quickstart.py

echo "== resolve from Node: the 1Password JS SDK's quickstart, with only the import and token changed"
echo "\$ node quickstart.cjs   # js/examples/quickstart.cjs in a project that installed the tarball; it prints nothing, as the original"
# Run from that project: inside js/, require("@sesame/sdk") would name the source package itself.
cp js/examples/quickstart.cjs target/demo-js/
(cd target/demo-js && node quickstart.cjs)
echo "resolved (exit status $?)"

echo "== resolve from Go: the 1Password Go SDK's quickstart, with only the import and token changed (and the secret printed)"
echo "\$ (cd go && go run ./examples/quickstart)   # resolves op://vault/item/field"
(cd go && go run ./examples/quickstart)

echo "== sesame read (as the read-only service account)"
echo "\$ sesame read op://Demo/Postgres/username"
"$bin/sesame" read op://Demo/Postgres/username
echo "\$ sesame read 'op://Demo/Postgres/one-time password?attribute=otp'"
"$bin/sesame" read 'op://Demo/Postgres/one-time password?attribute=otp'
echo "\$ sesame read op://Demo/Postgres/api-key   # does not exist: exit code 3"
"$bin/sesame" read "op://Demo/Postgres/api-key" || echo "(exit code $?)"

echo "== sesame run: references in the environment are resolved, and masked in the output"
echo "\$ DB_USER=op://Demo/Postgres/username DB_PASSWORD=op://Demo/Postgres/password sesame run -- sh -c '…'"
DB_USER=op://Demo/Postgres/username DB_PASSWORD=op://Demo/Postgres/password \
    "$bin/sesame" run -- sh -c 'echo "the child sees a ${#DB_PASSWORD}-character password; it prints: user=$DB_USER password=$DB_PASSWORD"'

echo "== share an item by link (as the owner): one view, decrypted by whoever holds the link"
echo "\$ sesame item share Postgres --vault Demo --expires-in 1h --view-once"
link=$("$bin/sesame" --token-file "$dir/owner.credential" item share Postgres --vault Demo --expires-in 1h --view-once)
echo "${link%%#*}#…   (the part after # is the key; browsers never send it to the server)"
echo "\$ sesame share open '<link>'   # what the share page shows, decrypted locally"
"$bin/sesame" share open "$link"
echo "\$ sesame share open '<link>'   # again: a one-view link is used up (exit code 3)"
"$bin/sesame" share open "$link" || echo "(exit code $?)"

echo "== sesame server audit verify"
"$bin/sesame" server audit verify --data-dir "$dir"
echo "== stopping the server"
