#!/bin/sh
# Regenerates data/popular-names.txt (one name a line, most downloaded first)
# from a registry snapshot TSV (columns: name, version, downloads_a_month,
# summary), e.g. sh eval/make-popular-names.sh PATH/TO/npm.tsv
set -eu
tsv=${1:?usage: eval/make-popular-names.sh PATH/TO/npm.tsv}
tail -n +2 "$tsv" | sort -t"$(printf '\t')" -k3,3nr | head -10000 | cut -f1 > data/popular-names.txt
