#!/usr/bin/env bash
# Builds the Python package into a virtual environment for its tests:
#
#   bash .ci/python.sh      # → target/py-venv, with `import dongne` and pytest
#
# The venv gets the pinned test requirements (python/requirements-test.txt),
# then the package itself, built from python/ by maturin against the system
# GDAL. The Rust crate shares the workspace's target/ folder, so after
# `cargo build --release` only the extension module itself is compiled.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/py-venv
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    echo "python.sh: installing python3-venv" >&2
    sudo=(); [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv >&2
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r python/requirements-test.txt
# No build isolation: maturin comes from the pinned requirements, so the
# build needs nothing more from the network.
PATH="$PWD/$venv/bin:$PATH" "$venv/bin/pip" install --quiet --disable-pip-version-check --no-build-isolation --force-reinstall --no-deps ./python
"$venv/bin/python" -c 'import dongne; print("python.sh: dongne", dongne.__version__, "in", dongne.__file__)'
