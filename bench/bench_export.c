/* Export throughput per transport: one core fills IPFIX messages with 56-byte IPv4 flow
 * records and sends them over a session to a running dpfix-collector, as the export
 * lcore does. Prints records/s and CPU-seconds per million records as one JSON line.
 * --probe-records hands each record, a metered flow, to the Exporting Process
 * (lib/export) with the probe's own schema (lib/flow/dpfix_flow_schema.h), as the export
 * lcore does for every flow it drains: encoded straight into the message (62-byte IPv4
 * records; with --biflow 98 bytes, the reverse direction's counters, flags, TTLs and
 * times added), messages assembled, numbered and sent by lib/export: the export CPU per
 * record, encoding and the Exporting Process's own work included. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "dpfix_export.h"
#include "dpfix_flow_schema.h"
#include "dpfix_ipfix.h"
#include "dpfix_ipfix_bytes.h"
#include "dpfix_session.h"

#define RECORD_LEN 56

static double
seconds(const struct timespec *t)
{
	return (double)t->tv_sec + (double)t->tv_nsec / 1e9;
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
			(double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* A 56-byte IPv4 record: addresses, ports, protocol, counters, times, reason. */
static void
build_template(struct dpfix_ipfix_template *t)
{
	memset(t, 0, sizeof(*t));
	t->id = 256;
	dpfix_ipfix_template_add(t, 0, IE_sourceIPv4Address, 4);
	dpfix_ipfix_template_add(t, 0, IE_destinationIPv4Address, 4);
	dpfix_ipfix_template_add(t, 0, IE_sourceTransportPort, 2);
	dpfix_ipfix_template_add(t, 0, IE_destinationTransportPort, 2);
	dpfix_ipfix_template_add(t, 0, IE_protocolIdentifier, 1);
	dpfix_ipfix_template_add(t, 0, IE_tcpControlBits, 2);
	dpfix_ipfix_template_add(t, 0, IE_ingressInterface, 4);
	dpfix_ipfix_template_add(t, 0, IE_octetDeltaCount, 8);
	dpfix_ipfix_template_add(t, 0, IE_packetDeltaCount, 8);
	dpfix_ipfix_template_add(t, 0, IE_flowStartMilliseconds, 8);
	dpfix_ipfix_template_add(t, 0, IE_flowEndMilliseconds, 8);
	dpfix_ipfix_template_add(t, 0, IE_flowEndReason, 1);
	dpfix_ipfix_template_add(t, 0, IE_vlanId, 2);
	dpfix_ipfix_template_add(t, 0, IE_ipClassOfService, 1);
	dpfix_ipfix_template_add(t, 0, IE_minimumTTL, 1);
}

/* A plausible TCP flow, different for each i (as bench_decode's). */
static void
make_flow(struct dpfix_flow_record *f, uint64_t i)
{
	memset(f, 0, sizeof(*f));
	f->key.ip_version = 4;
	dpfix_put32(f->key.src_addr, 0x0a000000u | (uint32_t)(i & 0xffffff));
	dpfix_put32(f->key.dst_addr, 0xc0a80001u);
	f->key.src_port = (uint16_t)(1024 + i % 60000);
	f->key.dst_port = 443;
	f->key.protocol = 6;
	f->tcp_flags = 0x1b;
	f->rev_tcp_flags = 0x12;
	f->min_ttl = 60;
	f->max_ttl = 64;
	f->rev_min_ttl = f->rev_max_ttl = 57;
	f->packets = i % 100 + 1;
	f->octets = 1500ull * f->packets;
	f->rev_packets = i % 50 + 1;
	f->rev_octets = 80ull * f->rev_packets;
	f->first_ns = (1700000000000ull + i) * 1000000;
	f->last_ns = (1700000000500ull + i) * 1000000;
	f->rev_first_ns = f->first_ns + 1000000;
	f->rev_last_ns = f->last_ns - 1000000;
	f->end_reason = 1;      /* idle timeout */
}

/* The records lib/export can take between two reads of the clock: the export lcore
 * reads it once per burst of records drained from a ring (app/probe/exporter.c). */
#define CLOCK_EVERY 64

static uint64_t
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* --rate: waits until done records are due at rate records/s since t0 (0: no wait), a
 * steady pace as a probe's export is, so a collector that keeps up loses nothing over
 * UDP and one that does not shows it. */
static void
pace(const struct timespec *t0, uint64_t done, double rate)
{
	while (rate > 0) {
		struct timespec now;
		double ahead;

		clock_gettime(CLOCK_MONOTONIC, &now);
		ahead = (double)done / rate - (seconds(&now) - seconds(t0));
		if (ahead <= 0)
			break;
		usleep(ahead > 0.001 ? 1000 : (useconds_t)(ahead * 1e6));
	}
}

/* --probe-records: every record through lib/export, as the export lcore hands them over;
 * sent counts those sent (a failure is counted lost by lib/export, and reported). */
static int
export_probe_records(struct dpfix_session *s, const struct dpfix_ipfix_schema *schema,
		uint64_t records, const struct timespec *t0, double rate, uint64_t *sent, uint64_t *lost)
{
	char err[256];
	struct dpfix_export_domain *d;
	struct dpfix_export *x = dpfix_export_create(&(struct dpfix_export_params){
		.template_refresh_ns = 600000000000ull, .flush_ns = 500000000ull,
		.options_interval_ns = 600000000000ull}, err, sizeof(err));
	uint64_t now = now_ns();

	if (x == NULL || dpfix_export_add_domain(x, 1, &d) != 0 ||
			dpfix_export_add_schema(d, schema) != 0) {
		fprintf(stderr, "bench_export: cannot make the exporter\n");
		return -1;
	}
	dpfix_export_take_up(x, s, now);
	for (uint64_t i = 0; i < records; i++) {
		struct dpfix_flow_record f;

		if (i % CLOCK_EVERY == 0) {
			pace(t0, i, rate);
			now = now_ns();
			dpfix_export_poll(x, now);
		}
		make_flow(&f, i);
		/* Until its probation ends, a session takes no data records: the export lcore
		 * polls and gives them again, as here. */
		while (dpfix_export_record(d, schema, &f, f.packets, f.octets, now) == -EAGAIN) {
			if (dpfix_export_state(x) != DPFIX_EXPORT_PROBATION) {
				fprintf(stderr, "bench_export: the session failed: %s\n",
						dpfix_export_failure(x, &(uint64_t){0}));
				dpfix_export_free(x);
				return -1;
			}
			usleep(100);
			now = now_ns();
			dpfix_export_poll(x, now);
		}
	}
	dpfix_export_flush(x, now_ns());
	*sent = dpfix_export_stats(x)->records_exported - dpfix_export_stats(x)->records_lost;
	*lost = dpfix_export_stats(x)->records_lost;
	dpfix_export_free(x);   /* closes s */
	return 0;
}

int
main(int argc, char **argv)
{
	struct dpfix_session_params params = {.mtu = DPFIX_MTU, .connect_timeout_ms = 5000,
		.sctp_udp_port = DPFIX_SCTP_UDP_PORT};
	struct dpfix_ipfix_template tmpl;
	static struct dpfix_ipfix_schema schema;
	struct dpfix_ipfix_msg msg;
	struct dpfix_endpoint ep;
	struct dpfix_session *s;
	struct timespec t0, t1;
	static uint8_t buf[65536];
	uint8_t rec[RECORD_LEN];
	char err[DPFIX_SESSION_ERRLEN];
	uint64_t records, sent = 0, seq = 0, again = 0;
	double cpu0, cpu, rate = 0;
	int probe_records = 0, biflow = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_export URL RECORDS [--psk IDENTITY FILE | "
				"--x509 CERT KEY CA PEER_NAME] [--sctp-udp-port N] [--probe-records [--biflow]] "
				"[--rate RECORDS_PER_S]\n");
		return 1;
	}
	records = strtoull(argv[2], NULL, 10);
	for (int i = 3; i < argc; i++) {
		struct dpfix_security_params *sec = &params.security;

		if (strcmp(argv[i], "--probe-records") == 0) {
			probe_records = 1;
		} else if (strcmp(argv[i], "--biflow") == 0) {
			biflow = 1;
		} else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc) {
			rate = strtod(argv[++i], NULL);
		} else if (strcmp(argv[i], "--sctp-udp-port") == 0 && i + 1 < argc) {
			params.sctp_udp_port = (uint16_t)atoi(argv[++i]);
		} else if (strcmp(argv[i], "--psk") == 0 && i + 2 < argc) {
			snprintf(sec->psk_identity, sizeof(sec->psk_identity), "%s", argv[++i]);
			snprintf(sec->psk_file, sizeof(sec->psk_file), "%s", argv[++i]);
		} else if (strcmp(argv[i], "--x509") == 0 && i + 4 < argc) {
			snprintf(sec->cert_file, sizeof(sec->cert_file), "%s", argv[++i]);
			snprintf(sec->key_file, sizeof(sec->key_file), "%s", argv[++i]);
			snprintf(sec->ca_file, sizeof(sec->ca_file), "%s", argv[++i]);
			snprintf(sec->peer_name, sizeof(sec->peer_name), "%s", argv[++i]);
		} else {
			fprintf(stderr, "bench_export: unknown argument '%s'\n", argv[i]);
			return 1;
		}
	}
	if (dpfix_endpoint_parse(argv[1], &ep, err, sizeof(err)) < 0 ||
			(s = dpfix_session_open(&ep, &params, err, sizeof(err))) == NULL) {
		fprintf(stderr, "bench_export: %s\n", err);
		return 1;
	}
	if (probe_records) {
		uint64_t lost = 0;

		dpfix_flow_schema(&schema, 256, &(struct dpfix_flow_schema_params){.ip_version = 4,
			.biflow = biflow});
		clock_gettime(CLOCK_MONOTONIC, &t0);
		cpu0 = cpu_seconds();
		if (export_probe_records(s, &schema, records, &t0, rate, &sent, &lost) != 0)
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		cpu = cpu_seconds() - cpu0;
		printf("{\"url\":\"%s\",\"record_bytes\":%u,\"records\":%" PRIu64 ",\"seconds\":%.3f,"
				"\"records_per_s\":%.0f,\"cpu_s_per_million\":%.3f,\"records_lost\":%" PRIu64
				"}\n", argv[1], schema.max_length, sent, seconds(&t1) - seconds(&t0),
				(double)sent / (seconds(&t1) - seconds(&t0)), cpu / ((double)sent / 1e6), lost);
		return lost != 0;
	}
	build_template(&tmpl);
	if (tmpl.min_record_length != RECORD_LEN) {
		fprintf(stderr, "bench_export: template is %u bytes, not %d\n", tmpl.min_record_length,
				RECORD_LEN);
		return 1;
	}
	memset(rec, 0x11, sizeof(rec));
	rec[RECORD_LEN - 1] = 2;
	dpfix_ipfix_msg_begin(&msg, buf, dpfix_session_max_message(s));
	dpfix_ipfix_msg_add_template(&msg, &tmpl);
	dpfix_session_send(s, buf, dpfix_ipfix_msg_finish(&msg, 0, 0, 1), DPFIX_MESSAGE_TEMPLATES);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	cpu0 = cpu_seconds();
	while (sent < records) {
		uint32_t len;
		int ret;

		dpfix_ipfix_msg_begin(&msg, buf, dpfix_session_max_message(s));
		while (sent + msg.data_records < records &&
				dpfix_ipfix_msg_add_record(&msg, 256, rec, RECORD_LEN) == 0)
			;
		len = dpfix_ipfix_msg_finish(&msg, (uint32_t)time(NULL), (uint32_t)seq, 1);
		pace(&t0, sent, rate);
		while ((ret = dpfix_session_send(s, buf, len, DPFIX_MESSAGE_DATA)) == -EAGAIN) {
			again++;
			usleep(100); /* lib/export's back-off */
		}
		if (ret < 0) {
			fprintf(stderr, "bench_export: send failed: %s\n", strerror(-ret));
			return 1;
		}
		sent += msg.data_records;
		seq += msg.data_records;
	}
	dpfix_session_close(s);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cpu = cpu_seconds() - cpu0;
	printf("{\"url\":\"%s\",\"record_bytes\":%u,\"records\":%" PRIu64 ",\"seconds\":%.3f,\"records_per_s\":%.0f,"
			"\"cpu_s_per_million\":%.3f,\"send_retries\":%" PRIu64 "}\n", argv[1],
			tmpl.min_record_length, sent,
			seconds(&t1) - seconds(&t0), (double)sent / (seconds(&t1) - seconds(&t0)),
			cpu / ((double)sent / 1e6), again);
	return 0;
}
