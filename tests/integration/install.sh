#!/usr/bin/env bash
# `meson install` into a staging directory puts the programs, dpfix's XDP object, the
# example configs, the systemd units (naming the installed programs and configs) and
# dpfix-host-setup where they belong; the installed configs are read by the installed
# programs; dpfix-host-setup (on a fake /proc and /sys) says what it changed, and the
# second time that nothing needed to.
source "$(dirname "$0")/lib.sh"
: "${DPFIX_BUILD_ROOT:?}"

dest=$WORK/root
DESTDIR=$dest meson install -C "$DPFIX_BUILD_ROOT" --no-rebuild --quiet >"$WORK/install.out" 2>&1 ||
	fail "meson install: $(tail -5 "$WORK/install.out")"
prefix=$(meson introspect "$DPFIX_BUILD_ROOT" --buildoptions |
	$PY -c 'import json,sys; o={x["name"]: x["value"] for x in json.load(sys.stdin)}; print(o["prefix"], o["bindir"], o["sbindir"], o["libdir"], o["sysconfdir"])')
read -r pfx bindir sbindir libdir sysconfdir <<<"$prefix"
abs() { case $1 in /*) echo "$1" ;; *) echo "$pfx/$1" ;; esac; }
bindir=$(abs "$bindir"); sbindir=$(abs "$sbindir"); libdir=$(abs "$libdir"); sysconfdir=$(abs "$sysconfdir")
for f in "$bindir/dpfix-probe" "$bindir/dpfix-collector" "$bindir/dpfix-mediator" "$bindir/dpfix-dump" \
		"$sbindir/dpfix-host-setup" "$libdir/dpfix/dpfix_xdp.o" \
		"$sysconfdir/dpfix/probe-udp.conf" "$sysconfdir/dpfix/probe-af_xdp.conf" \
		"$sysconfdir/dpfix/probe-af_xdp.env" "$sysconfdir/dpfix/collector.conf" \
		"$sysconfdir/dpfix/measures.elements" "$sysconfdir/dpfix/collector-clickhouse.conf"; do
	[ -f "$dest$f" ] || fail "not installed: $f"
done
[ -x "$dest$sbindir/dpfix-host-setup" ] || fail "dpfix-host-setup is not executable"
units=$(find "$dest" -name 'dpfix-probe@.service' -o -name 'dpfix-collector.service' | sort)
[ "$(echo "$units" | wc -l)" = 2 ] || fail "systemd units: $units"
probe_unit=$(echo "$units" | grep probe)
grep -qx "ExecStart=$bindir/dpfix-probe \$DPFIX_EAL -- --config $sysconfdir/dpfix/%i.conf" "$probe_unit" ||
	fail "probe unit ExecStart: $(grep ExecStart "$probe_unit")"
grep -qx "EnvironmentFile=$sysconfdir/dpfix/%i.env" "$probe_unit" || fail "probe unit EnvironmentFile"
grep -qx "ExecReload=/bin/kill -HUP \$MAINPID" "$probe_unit" || fail "probe unit ExecReload"
grep -qx "ExecStart=$bindir/dpfix-collector --config $sysconfdir/dpfix/collector.conf" \
	"$(echo "$units" | grep collector)" || fail "collector unit ExecStart"
readelf -h "$dest$libdir/dpfix/dpfix_xdp.o" | grep -q "Machine: *Linux BPF" ||
	fail "the XDP object is not BPF: $(readelf -h "$dest$libdir/dpfix/dpfix_xdp.o" | grep Machine)"

# The installed configs are read by the installed programs: the collector listens as
# told (in a namespace of its own: the config says 0.0.0.0:4739); the AF_XDP probe
# config is read whole (its xdp_pass rules then want an AF_XDP port; its stats_json
# directory is the unit's StateDirectory).
ns=appl-inst-$$
ip netns add "$ns" && NETNS+=("$ns")
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" "$dest$bindir/dpfix-collector" --config "$dest$sysconfdir/dpfix/collector.conf" \
	>"$WORK/c.out" 2>"$WORK/c.err" &
PIDS+=($!)
cpid=$!
wait_for_text "$WORK/c.err" "listening on tcp" 10
grep -q "listening on udp" "$WORK/c.err" || fail "collector.conf: $(cat "$WORK/c.err")"
kill -TERM $cpid
wait $cpid || fail "collector exited with $?"
rc=0
"$dest$bindir/dpfix-probe" $(eal_args) --vdev net_null0 -- \
	--config "$dest$sysconfdir/dpfix/probe-af_xdp.conf" --stats-json "$WORK/s.json" >"$WORK/p.out" 2>&1 || rc=$?
[ $rc = 1 ] && grep -q "xdp_pass is set but no port is net_af_xdp" "$WORK/p.out" ||
	fail "probe-af_xdp.conf: exit $rc: $(tail -3 "$WORK/p.out")"

# dpfix-host-setup on a fake host: 4 CPUs, two IRQs, no hugepages.
fake=$WORK/host
mkdir -p "$fake/sys/kernel/mm/hugepages/hugepages-2048kB" "$fake/proc/irq/5" "$fake/proc/irq/9"
echo 0 >"$fake/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
echo 0-3 >"$fake/proc/irq/5/smp_affinity_list"
echo 0-1 >"$fake/proc/irq/9/smp_affinity_list"
printf 'processor\t: %s\n' 0 1 2 3 >"$fake/proc/cpuinfo"
echo "BOOT_IMAGE=/vmlinuz ro nohz_full=2-3" >"$fake/proc/cmdline"
setup() { DPFIX_HOST_ROOT=$fake "$dest$sbindir/dpfix-host-setup" "$@"; }
setup --hugepages 64 --workers 2-3 >"$WORK/h1.out" || fail "host setup: $(cat "$WORK/h1.out")"
grep -q "set 2 MB hugepages 0 -> 64" "$WORK/h1.out" && grep -q "set IRQ 5 affinity 0-3 -> 0,1" "$WORK/h1.out" &&
	! grep -q "IRQ 9" "$WORK/h1.out" && grep -q "advice: add isolcpus=2-3" "$WORK/h1.out" &&
	! grep -q "nohz_full=" "$WORK/h1.out" || fail "first host setup: $(cat "$WORK/h1.out")"
[ "$(cat "$fake/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")" = 64 ] || fail "hugepages not set"
setup --hugepages 32 --workers 2-3 >"$WORK/h2.out" || fail "host setup again: $(cat "$WORK/h2.out")"
grep -q "nothing to change" "$WORK/h2.out" && ! grep -q "^dpfix-host-setup: set" "$WORK/h2.out" ||
	fail "second host setup changed something: $(cat "$WORK/h2.out")"
[ "$(cat "$fake/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")" = 64 ] || fail "hugepages lowered"
rc=0
setup --hugepages lots >"$WORK/h3.out" 2>&1 || rc=$?
[ $rc = 1 ] && grep -q "'lots' is not a number" "$WORK/h3.out" || fail "bad --hugepages: $rc $(cat "$WORK/h3.out")"
echo "install: ok"
