#!/usr/bin/env bash
# Expiry's cost per packet: the foundation's incremental scan (lib/flow at commit
# 265e988: rte_hash index, 64 record slots scanned per burst) against lib/flow's timer
# wheel, each with and without its expiry call after every burst of 32 random hits.
# The old lib/flow is taken from git history into a temporary directory; one driver
# (below) is compiled against both APIs. CPU time per packet, one core, hugepages.
# Results: bench/RESULTS.md, "Flow table". Usage: bench/expiry_compare.sh [BUILD_DIR]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build}" && pwd)
work=$(mktemp -d /tmp/expiry_compare.XXXXXX)
hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
old_hp=$(cat $hp)
mounted_here=0
cleanup() {
	echo "$old_hp" >$hp
	[ "$mounted_here" = 1 ] && umount /dev/hugepages || true
	rm -rf "$work"
}
trap cleanup EXIT
echo "${HUGEPAGES:-1280}" >$hp
mkdir -p /dev/hugepages
mountpoint -q /dev/hugepages || { mount -t hugetlbfs nodev /dev/hugepages; mounted_here=1; }

mkdir "$work/old"
for f in lib/flow/dpfix_flow.c lib/flow/dpfix_flow.h lib/parse/dpfix_parse.h; do
	git -C "$top" show "265e988:$f" >"$work/old/$(basename $f)"
done
cat >"$work/drv.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <rte_eal.h>
#include <rte_cycles.h>
#include "dpfix_flow.h"
static int emit(void *c, const struct dpfix_flow_record *r){(void)c;(void)r;return 1;}
static double cpu(void){struct timespec ts;clock_gettime(CLOCK_THREAD_CPUTIME_ID,&ts);return ts.tv_sec+ts.tv_nsec/1e9;}
static void fill(struct dpfix_packet_info *p, uint32_t f){memset(p,0,sizeof *p);p->key.ip_version=4;p->key.protocol=17;p->key.src_addr[0]=10;p->key.src_addr[1]=f>>16;p->key.src_addr[2]=f>>8;p->key.src_addr[3]=f;memcpy(p->key.dst_addr,"\xc0\x00\x02\x01",4);p->key.src_port=1024;p->key.dst_port=53;p->ip_octets=46;p->ttl=64;}
int main(int argc,char**argv){
	int r=rte_eal_init(argc,argv); argc-=r; argv+=r;
	uint32_t F=strtoul(argv[1],0,0); int do_exp=atoi(argv[2]); uint64_t N=20000000;
	uint64_t idle=15000000000ull, act=120000000000ull, now=1763800000ull*1000000000ull;
#ifdef OLD
	struct dpfix_flow_table *t=dpfix_flow_table_create("t",F,0);
	struct dpfix_flow_expiry ex={idle,act,emit,NULL};
#else
	struct dpfix_flow_table *t=dpfix_flow_table_create(&(struct dpfix_flow_params){.name="t",.capacity=F,.socket=0,.idle_ns=idle,.active_ns=act,.tcp_end_ns=2000000000ull,.emit=emit});
#endif
	static struct dpfix_packet_info p[32]; uint64_t times[32]; uint64_t s=1;
	for(uint32_t f=0;f<F;f+=32){for(int j=0;j<32;j++){fill(&p[j],f+j);times[j]=now;}
#ifdef OLD
		dpfix_flow_table_update_bulk(t,p,times,32,0,&ex);
#else
		dpfix_flow_table_update_bulk(t,p,times,32,0);
#endif
	}
	double c0=cpu();
	for(uint64_t i=0;i<N;i+=32){ now+=100; for(int j=0;j<32;j++){s^=s<<13;s^=s>>7;s^=s<<17;fill(&p[j],s&(F-1));times[j]=now;}
#ifdef OLD
		dpfix_flow_table_update_bulk(t,p,times,32,0,&ex);
		if(do_exp) dpfix_flow_table_expire(t,now,idle,act,64,emit,NULL);
#else
		dpfix_flow_table_update_bulk(t,p,times,32,0);
		if(do_exp) dpfix_flow_table_expire(t,now,64);
#endif
	}
	double c=cpu()-c0; printf("%s flows %u expire %d: %.1f ns/packet\n",
#ifdef OLD
	"scan(rte_hash)",
#else
	"wheel(own)",
#endif
	F,do_exp,c/N*1e9); return 0;}
C
cflags="-O2 -march=corei7 -include rte_config.h $(pkg-config --cflags libdpdk)"
libs=$(pkg-config --libs libdpdk)
# shellcheck disable=SC2086
gcc $cflags -DOLD -I"$work/old" "$work/drv.c" "$work/old/dpfix_flow.c" -o "$work/scan" $libs
# shellcheck disable=SC2086
gcc $cflags -I"$top/lib/flow" -I"$top/lib/parse" "$work/drv.c" "$build/lib/libdpfix_flow.a" \
	"$build/lib/libdpfix_parse.a" -o "$work/wheel" $libs
eal="--in-memory --no-pci -l 0 --log-level=lib.eal:error"
for r in 1 2 3; do
	for flows in 1048576 4194304; do
		for expire in 0 1; do
			"$work/scan" $eal -- $flows $expire 2>/dev/null | tail -1
			"$work/wheel" $eal -- $flows $expire 2>/dev/null | tail -1
		done
	done
done
