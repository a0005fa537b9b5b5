#!/bin/sh
# Regenerates src/scan/data/popular-names.ts from a registry snapshot TSV
# (columns: name, version, downloads_a_month, summary), e.g.
#   sh eval/make-popular-names.sh /work/.library/env/packages/npm.tsv
set -eu
tsv=${1:?usage: eval/make-popular-names.sh PATH/TO/npm.tsv}
out=src/scan/data/popular-names.ts
{
  echo '/**'
  echo ' * The 10,000 most-downloaded npm package names, most downloaded first (monthly'
  echo " * downloads, from the project's registry snapshot; regenerate with"
  echo ' * eval/make-popular-names.sh). The first 3,000 are what typosquats imitate;'
  echo ' * all of them are trusted as spelled.'
  echo ' */'
  echo 'export const POPULAR_NAMES: string = `'
  tail -n +2 "$tsv" | sort -t"$(printf '\t')" -k3,3nr | head -10000 | cut -f1 | grep -v '[`$\\]'
  echo '`;'
} > "$out"
