#!/usr/bin/env bash
# Installs what building and running dongne needs, and only what is missing:
# GDAL's headers and libraries (libgdal-dev, which pulls in PROJ and GEOS),
# GDAL's command-line tools (gdal-bin: ogrinfo, ogr2ogr) and pkg-config, through
# which the gdal crate finds GDAL; fonts-nanum, the font the PNG preview draws
# its text in (Hangul and Latin). A C compiler too, if there is none.
#
# Used by .ci/run and ./run-sample.sh; run it on its own as well:
#   bash .ci/install-deps.sh
#
# Debian 12 (bookworm) gives GDAL 3.6.2; the gdal crate needs GDAL 3.4 or newer.
# The Rust toolchain itself (cargo, rustfmt, clippy) is not installed here: it
# comes from rustup, not from apt (Debian's own rustc is too old for this crate).
set -euo pipefail

missing=()

if command -v dpkg-query >/dev/null 2>&1; then
    installed() {
        dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
    }
    for pkg in libgdal-dev gdal-bin pkg-config fonts-nanum; do
        installed "$pkg" || missing+=("$pkg")
    done
    command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)

    if ((${#missing[@]})); then
        echo "install-deps: installing ${missing[*]}"
        sudo=()
        if [ "$(id -u)" -ne 0 ]; then
            if command -v sudo >/dev/null 2>&1; then
                sudo=(sudo)
            else
                echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
                exit 1
            fi
        fi
        "${sudo[@]}" apt-get update
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
    else
        echo "install-deps: libgdal-dev, gdal-bin, pkg-config, fonts-nanum and a C compiler are present"
    fi
else
    # Not Debian: check, do not install.
    for cmd in gdal-config pkg-config ogrinfo cc; do
        command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
    done
    if ((${#missing[@]})); then
        echo "install-deps: missing ${missing[*]}; install GDAL (3.4 or newer) with its" \
            "development files and command-line tools, pkg-config and a C compiler" >&2
        exit 1
    fi
    echo "install-deps: not a Debian system; GDAL, pkg-config and a C compiler are present"
fi

if ! pkg-config --exists gdal; then
    echo "install-deps: pkg-config does not find gdal (gdal.pc): the gdal crate will not build" >&2
    exit 1
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "install-deps: cargo not found: install the Rust toolchain (rustup)," \
        "then run this again" >&2
    exit 1
fi
