#!/bin/sh
# Runs the attack suite again as an ordinary user: most escapes differ
# between root and a user with only user namespaces (no cgroups, no
# capabilities, a different /proc). Called by `npm test` when it runs as root.
# The built tree is copied where that user can read it, whatever the
# checkout's permissions; the copy is removed afterwards.
set -eu
cd "$(dirname "$0")/.."
user="${CORDON_TEST_USER:-cordon-test}"
if ! id -u "$user" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/sh "$user"
fi
copy=$(mktemp -d /tmp/cordon-as-user.XXXXXX)
trap 'rm -rf "$copy"' EXIT INT TERM
cp -r dist data node_modules package.json "$copy"/
chmod -R a+rX "$copy"
chmod 755 "$copy"
home=$(getent passwd "$user" | cut -d: -f6)
echo "cordon: the attack suite again, as the ordinary user $user" >&2
cd "$copy"
runuser -u "$user" -- env -i HOME="$home" PATH="$PATH" LANG=C.UTF-8 CORDON_TEST_AS_USER=1 \
  "$(command -v node)" --test --test-concurrency=2 dist/test/attacks/
