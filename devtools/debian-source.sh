# What the builds of Debian source packages into .deps/ share (build-wolfssl.sh,
# build-usrsctp.sh): a cache of finished builds keyed by what went into them, and the
# fetching of the source. Sourced.

# build_stamp PACKAGE OPTIONS PATCH...: what a build is made of, its cache key: the
# candidate version of the Debian PACKAGE, the options, a digest of our patches.
build_stamp() {
	local package=$1 options=$2
	shift 2
	printf '%s %s patches %s' "$(apt-cache policy "$package" 2>/dev/null | awk '/Candidate/ {print $2}')" \
		"$options" "$(cat "$@" | sha256sum | cut -c1-16)"
}

# built_already NAME PREFIX STAMP: true when PREFIX holds the build STAMP describes
# (version, options, patches), taken from the cache (DPFIX_CACHE, /var/cache/dpfix) if
# need be; false when it has to be built.
built_already() {
	local name=$1 prefix=$2 stamp=$3 tar
	tar=${DPFIX_CACHE:-/var/cache/dpfix}/$name-$(printf '%s' "$stamp" | sha256sum | cut -c1-16).tar
	[ "$(cat "$prefix/.stamp" 2>/dev/null)" = "$stamp" ] && return 0
	[ -f "$tar" ] || return 1
	rm -rf "$prefix" && mkdir -p "$prefix"
	tar -C "$prefix" -xf "$tar"
	[ "$(cat "$prefix/.stamp" 2>/dev/null)" = "$stamp" ]
}

# keep_built NAME PREFIX STAMP: PREFIX, now built and checked, is marked with STAMP and
# kept in the cache (when the cache can be written).
keep_built() {
	local name=$1 prefix=$2 stamp=$3 cache=${DPFIX_CACHE:-/var/cache/dpfix}
	echo "$stamp" >"$prefix/.stamp"
	if mkdir -p "$cache" 2>/dev/null; then
		tar -C "$prefix" -cf "$cache/$name-$(printf '%s' "$stamp" | sha256sum | cut -c1-16).tar" .
	fi
}

# Fetches a Debian source package with apt-get source, which checks it against the
# mirror's signed indexes (and applies Debian's patches).

# debian_source PACKAGE DIR: the source of PACKAGE's candidate version unpacked in DIR;
# prints the path of its source tree. apt-get source needs a deb-src entry: one is added
# for the configured Debian mirrors when there is none.
debian_source() {
	local package=$1 dir=$2 sudo="" src
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	if [ -z "$(apt-get source --print-uris "$package" 2>/dev/null | grep -F .orig.)" ]; then
		sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources |
			$sudo tee /etc/apt/sources.list.d/dpfix-deb-src.sources >/dev/null
		$sudo apt-get update -qq
	fi
	(cd "$dir" && apt-get source -qq "$package" >"$dir/apt-source.log" 2>&1) ||
		{ tail -5 "$dir/apt-source.log" >&2; return 1; }
	src=$(find "$dir" -maxdepth 1 -mindepth 1 -type d | head -n 1)
	[ -n "$src" ] || { echo "apt-get source $package produced no source tree" >&2; return 1; }
	echo "$src"
}

# patched_source PACKAGE DIR PATCH...: debian_source, then our patches applied in order;
# prints the source tree's path.
patched_source() {
	local package=$1 dir=$2 src p
	shift 2
	src=$(debian_source "$package" "$dir") || return 1
	for p in "$@"; do
		patch -d "$src" -p1 -s <"$p" || { echo "$p does not apply" >&2; return 1; }
	done
	echo "$src"
}
