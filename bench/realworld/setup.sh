#!/bin/sh
# Installs Debian 12's Python ML stack for /usr/bin/python3, which bench/realworld/ needs.
# Idempotent: apt-get install of an installed package does nothing. Run as root. Never pip.
set -eu
PKGS="python3-torch python3-torchvision python3-sklearn python3-pandas python3-scipy
python3-numpy python3-joblib python3-statsmodels python3-networkx python3-sympy python3-nltk
python3-gensim python3-xgboost python3-skorch python3-dill"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "setup.sh: all packages installed"
else
    echo "setup.sh: installing$missing"
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
fi
# Print the versions in use (they go in docs/benchmarks.md).
dpkg-query -W -f='${Package} ${Version}\n' $PKGS
