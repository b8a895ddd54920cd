#!/bin/sh
# `make peers`: the peers built from Debian packages (peers/DRIVERS.md). Installs what is missing
# (as root; apt-get update once, only when something is missing), then builds each driver offline
# into .cache/peers/, writing the library's Debian version beside the binary. A peer whose
# packages cannot be had is skipped with one line; the others still build.
set -u
cd "$(dirname "$0")/.."
OUT=.cache/peers

# Debian's cargo (and rustc) only where no cargo is on the PATH already (rustup's, say).
RUST_TOOLS=""
command -v cargo >/dev/null || RUST_TOOLS=",cargo"

# peer name, then its Debian packages
PEERS="go-jose:golang-go,golang-gopkg-square-go-jose.v2-dev
jose2go:golang-go,golang-github-dvsekhvalnov-jose2go-dev,golang-gopkg-square-go-jose.v2-dev
latchset-jose:gcc,pkg-config,libjose-dev,libjansson-dev
cjose:gcc,pkg-config,libcjose-dev,libjansson-dev
rhonabwy:gcc,pkg-config,librhonabwy-dev,libjansson-dev
crypt-jwt:libcrypt-jwt-perl,libjson-xs-perl
jsonwebtoken:librust-jsonwebtoken-dev$RUST_TOOLS"

missing_of() {
    for package in $(echo "$1" | tr ',' ' '); do
        dpkg-query -W -f '${Status}\n' "$package" 2>/dev/null | grep -q 'install ok installed' \
            || printf '%s ' "$package"
    done
}

all_missing=""
for line in $PEERS; do
    all_missing="$all_missing$(missing_of "${line#*:}")"
done
# Each package once (several peers share golang-go, libjansson-dev, go-jose v2).
all_missing=$(printf '%s\n' $all_missing | awk 'NF && !seen[$0]++' | tr '\n' ' ')
as_root=no
[ "$(id -u)" = 0 ] && as_root=yes
if [ -n "$all_missing" ]; then
    if [ $as_root = yes ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $all_missing \
            >/dev/null || echo "note: apt-get install $all_missing failed; those peers are skipped"
    else
        # Said once; the peers whose packages are here still build, the others are skipped
        # without a line each.
        echo "note: make peers needs root to install packages; as root: apt-get install ${all_missing% } (then make peers again); the peers that need them are skipped"
    fi
fi

# GOPATH mode against Debian's sources (/usr/share/gocode), no module download; the shared
# protocol package is linked in as `peerproto`.
go_build() {
    name=$1 package=$2
    mkdir -p "$OUT/gopath/src"
    ln -sfn ../../../../peers/go-common "$OUT/gopath/src/peerproto"
    (cd "peers/$name" && GO111MODULE=off GOPATH="$PWD/../../$OUT/gopath:/usr/share/gocode" \
        GOCACHE="$PWD/../../$OUT/go-build" GOFLAGS= go build -o "../../$OUT/$name" .) || return 1
    dpkg-query -W -f '${Version}\n' "$package" > "$OUT/$name.version"
}

c_build() {
    name=$1 libraries=$2
    gcc -O2 -Wall -o "$OUT/$name" "peers/$name/driver.c" peers/c-common/peerproto.c \
        $(pkg-config --cflags --libs $libraries)
}

# cargo offline against Debian's crates through a directory source; its own CARGO_HOME keeps
# the user's cargo configuration out of it.
rust_build() {
    command -v cargo >/dev/null || { echo "note: peer jsonwebtoken needs cargo (apt-get install cargo)"; return 1; }
    home="$PWD/$OUT/cargo-home"
    mkdir -p "$home"
    printf '%s\n' '[source.crates-io]' 'replace-with = "debian"' '[source.debian]' \
        'directory = "/usr/share/cargo/registry"' '[net]' 'offline = true' > "$home/config.toml"
    version=$(dpkg-query -W -f '${Version}' librust-jsonwebtoken-dev | sed 's/[-+~].*//')
    # A lock file another cargo wrote (rustup's writes version 4, which Debian's 1.65 cannot
    # read) is dropped: the crate resolves against the installed crates anyway.
    rm -f peers/jsonwebtoken-rs/Cargo.lock
    (cd peers/jsonwebtoken-rs && CARGO_HOME="$home" JSONWEBTOKEN_VERSION="$version" \
        cargo build --quiet --release --offline --target-dir "../../$OUT/rust-target") || return 1
    cp "$OUT/rust-target/release/jsonwebtoken-peer" "$OUT/jsonwebtoken"
}

# A driver is rebuilt only when a source of it (or of the shared protocol code) is newer.
fresh() {
    binary=$OUT/$1 folder=peers/$1
    [ "$1" = jsonwebtoken ] && folder=peers/jsonwebtoken-rs
    [ -x "$binary" ] && [ -z "$(find "$folder" peers/go-common peers/c-common -newer "$binary" \
        -type f 2>/dev/null | head -1)" ]
}

for line in $PEERS; do
    name=${line%%:*}
    # Packages first: a binary whose library was removed is not ready.
    if [ -n "$(missing_of "${line#*:}")" ]; then
        [ $as_root = yes ] && echo "note: peer $name skipped: apt-get install $(echo "${line#*:}" | tr ',' ' ')"
        continue
    fi
    if [ "$name" != crypt-jwt ] && fresh "$name"; then
        echo "peer $name: ready"
        continue
    fi
    if [ "$name" != crypt-jwt ] && { ! mkdir -p "$OUT" 2>/dev/null || [ ! -w "$OUT" ]; }; then
        echo "note: make peers cannot write $OUT (owned by $(stat -c %U "$(dirname "$OUT")" 2>/dev/null || echo another user)); run it as that user or as root"
        exit 0
    fi
    case $name in
        go-jose) go_build go-jose golang-gopkg-square-go-jose.v2-dev ;;
        jose2go) go_build jose2go golang-github-dvsekhvalnov-jose2go-dev ;;
        latchset-jose) c_build latchset-jose "jose jansson" ;;
        cjose) c_build cjose "cjose jansson" ;;
        rhonabwy) c_build rhonabwy "librhonabwy jansson" ;;
        # Perl runs the driver itself (perl peers/crypt-jwt/driver.pl): nothing to build.
        crypt-jwt) perl -MCrypt::JWT -MJSON::XS -e 1 ;;
        jsonwebtoken) rust_build ;;
    esac && echo "peer $name: ready" || echo "note: peer $name did not build"
done
