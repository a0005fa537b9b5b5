#!/bin/sh
# The test command (`npm test`, and so .ci/run): lint (type-aware, with the
# import boundaries), the whole suite, then, when run as root, the attack
# suite again as an ordinary user.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
./node_modules/.bin/oxlint --type-aware src test bench eval
node --test --test-concurrency=2 dist/test/
if [ "$(id -u)" = 0 ]; then
  sh scripts/test-as-user.sh
fi
