#!/usr/bin/env bash
# Build kube-apiserver, kube-controller-manager and kube-scheduler 1.20.2 offline from Debian's
# `kubernetes` source package and cache them outside the repository, once per machine.
#
# Idempotent: when the three binaries are already in the cache it prints their directory and
# exits. The system's apt sources are never touched: the deb-src lines live in a private apt
# configuration under the cache directory. The downloaded source package is kept in the cache so
# a rebuild (after removing bin/) does not download it again; the build tree and Go's build
# cache live in a temporary directory that is removed afterwards, so every build is a cold build.
#
# Environment: KUBE_CACHE_DIR overrides the cache directory
# (default ${XDG_CACHE_HOME:-$HOME/.cache}/jupyter-workspaces/kube-1.20.2).
# Prints the directory holding the binaries (and etcd's path is found on PATH) on its last line.
set -euo pipefail

cache="${KUBE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/jupyter-workspaces/kube-1.20.2}"
bin="$cache/bin"
targets=(kube-apiserver kube-controller-manager kube-scheduler)

say() { printf 'realcluster build: %s\n' "$*" >&2; }

have_binaries() {
    local t
    for t in "${targets[@]}"; do
        [[ -x "$bin/$t" ]] || return 1
    done
}

as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

install_tools() {
    local missing=() cmd pkg
    for pair in go:golang-go etcd:etcd-server rsync:rsync dpkg-source:dpkg-dev; do
        cmd="${pair%%:*}"
        pkg="${pair#*:}"
        command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        say "installing ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

fetch_source() {
    # Leaves the unpacked-able source package (.dsc and tarballs) in $cache/src.
    local src="$cache/src" apt="$cache/apt"
    if compgen -G "$src/kubernetes_*.dsc" >/dev/null; then
        return
    fi
    say "downloading Debian's kubernetes source package"
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/sources.list.d" "$src"
    cat >"$apt/sources.list" <<SOURCES
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
SOURCES
    cat >"$apt/apt.conf" <<CONF
Dir::Etc::SourceList "$apt/sources.list";
Dir::Etc::SourceParts "$apt/sources.list.d";
Dir::State::Lists "$apt/lists";
Dir::Cache "$apt/cache";
CONF
    # apt's download user cannot write into root's home; download as the caller instead.
    if [[ $(id -u) -eq 0 ]]; then
        echo 'APT::Sandbox::User "root";' >>"$apt/apt.conf"
    fi
    APT_CONFIG="$apt/apt.conf" apt-get update -qq
    (cd "$src" && APT_CONFIG="$apt/apt.conf" apt-get source --download-only -qq kubernetes)
}

build() {
    local work tree out t staging
    work="$(mktemp -d "${TMPDIR:-/tmp}/kube-build.XXXXXX")"
    # shellcheck disable=SC2064  # expand now: $work is local to this function
    trap "rm -rf '$work'" EXIT
    # shellcheck disable=SC2064
    trap "rm -rf '$work'; exit 130" INT TERM
    say "unpacking into $work"
    dpkg-source --no-check -x "$(compgen -G "$cache/src/kubernetes_*.dsc" | head -n1)" \
        "$work/kubernetes" >/dev/null
    tree="$work/kubernetes"
    say "compiling ${targets[*]} (a few minutes on 2 cores)"
    (
        cd "$tree"
        export GOPROXY=off GOFLAGS=-mod=vendor GO111MODULE=on
        export GOCACHE="$work/gocache" GOPATH="$work/gopath" GOLDFLAGS="-s -w"
        export KUBE_GIT_VERSION="v1.20.2" KUBE_GIT_TREE_STATE=clean
        make WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler" >&2
    )
    staging="$(mktemp -d "$cache/bin.XXXXXX")"
    for t in "${targets[@]}"; do
        out="$(find "$tree/_output" -type f -name "$t" -perm -u+x | head -n1)"
        [[ -n "$out" ]] || { say "no $t was built"; exit 1; }
        cp "$out" "$staging/$t"
    done
    chmod 755 "$staging"
    rm -rf "$bin"
    mv "$staging" "$bin"
}

if have_binaries; then
    echo "$bin"
    exit 0
fi
# One build at a time per cache: a second caller (another test run) waits, then finds the
# binaries the first one built.
mkdir -p "$cache"
exec 9>"$cache/.lock"
if ! flock -n 9; then
    say "another build into $cache is running; waiting for it"
    flock 9
fi
if have_binaries; then
    echo "$bin"
    exit 0
fi
install_tools
fetch_source
build
have_binaries
say "binaries cached in $bin"
echo "$bin"
