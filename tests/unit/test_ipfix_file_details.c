/* Unit tests for the options records the IPFIX file writer adds (lib/ipfix/
 * ipfix_file_details.c, RFC 5655 Message Details and Export Session Details): a file
 * written with details for sessions of every address family mix and transport comes
 * out byte for byte as the writer made it before the record schemas (schema_golden.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dpfix_ipfix.h"
#include "dpfix_ipfix_file.h"
#include "schema_golden.h"
#include "unit_test.h"

static void
set4(struct sockaddr_storage *ss, const char *a, uint16_t port)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	in->sin_family = AF_INET;
	in->sin_port = htons(port);
	inet_pton(AF_INET, a, &in->sin_addr);
}

static void
set6(struct sockaddr_storage *ss, const char *a, uint16_t port)
{
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	inet_pton(AF_INET6, a, &in6->sin6_addr);
}

/* Session k's origin: 0 IPv4/UDP; 1 IPv6/TCP; 2 IPv6 exporter, IPv4 collector (written
 * as ::ffff:a.b.c.d), SCTP stream 3; 3 IPv4 exporter, IPv4-mapped IPv6 collector
 * (written as IPv4), SCTP stream 0; 4 exporter family unknown (zeros), IPv6 collector. */
static void
golden_origin(struct dpfix_ipfix_file_origin *o, int k, const void *session)
{
	memset(o, 0, sizeof(*o));
	o->session = session;
	o->collection_time_ms = 1714565100123ull + (uint64_t)k * 1001;
	switch (k) {
	case 0:
		set4(&o->exporter, "192.0.2.7", 40001);
		set4(&o->collector, "198.51.100.1", 4739);
		o->transport = IPPROTO_UDP;
		break;
	case 1:
		set6(&o->exporter, "2001:db8::7", 40002);
		set6(&o->collector, "2001:db8:1::1", 4740);
		o->transport = IPPROTO_TCP;
		break;
	case 2:
		set6(&o->exporter, "2001:db8::8", 40003);
		set4(&o->collector, "198.51.100.2", 4741);
		o->transport = IPPROTO_SCTP;
		o->sctp_stream = 3;
		break;
	case 3:
		set4(&o->exporter, "192.0.2.9", 40004);
		set6(&o->collector, "::ffff:198.51.100.3", 4742);
		o->transport = IPPROTO_SCTP;
		break;
	default:
		set6(&o->collector, "2001:db8:1::4", 4743);
		o->transport = IPPROTO_TCP;
		break;
	}
}

/* Two messages from each session (the first with its template), then the end of the
 * file: a Message Details record after each message, an Export Session Details record
 * per session. */
static void
test_golden_file(void)
{
	static uint8_t m[4096], file[4096];
	static struct dpfix_ipfix_template t;
	char path[] = "/tmp/dpfix-file-details-XXXXXX";
	struct dpfix_ipfix_file_params p = {.path = path, .details = 1};
	struct dpfix_ipfix_file_writer *w;
	char err[256];
	int sessions[5], fd = mkstemp(path);
	size_t n = 0;
	FILE *f;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	close(fd);
	w = dpfix_ipfix_file_writer_create(&p, err, sizeof(err));
	CHECK(w != NULL);
	if (w == NULL)
		return;
	dpfix_ipfix_template_init(&t, 256, 0);
	dpfix_ipfix_template_add(&t, 0, IE_octetDeltaCount, 8);
	for (int round = 0; round < 2; round++) {
		for (int k = 0; k < 5; k++) {
			struct dpfix_ipfix_file_origin o;
			struct dpfix_ipfix_msg mb;
			uint8_t rec[8] = {0, 0, 0, 0, 0, 0, 1, (uint8_t)k};
			uint32_t len;

			golden_origin(&o, k, &sessions[k]);
			dpfix_ipfix_msg_begin(&mb, m, sizeof(m));
			if (round == 0)
				dpfix_ipfix_msg_add_template(&mb, &t);
			dpfix_ipfix_msg_add_record(&mb, 256, rec, 8);
			len = dpfix_ipfix_msg_finish(&mb, 1714565100 + (uint32_t)(round * 7 + k),
					(uint32_t)round, 1);
			CHECK_EQ_U64(dpfix_ipfix_file_write(w, &o, m, len, err, sizeof(err)), 0);
		}
	}
	CHECK_EQ_U64(dpfix_ipfix_file_writer_stats(w)->details_skipped, 0);
	CHECK_EQ_U64(dpfix_ipfix_file_writer_close(w, err, sizeof(err)), 0);
	f = fopen(path, "rb");
	CHECK(f != NULL);
	if (f != NULL) {
		n = fread(file, 1, sizeof(file), f);
		fclose(f);
	}
	unlink(path);
	CHECK(golden_same("file details", file, (uint32_t)n));
}

int
main(void)
{
	RUN_TEST(test_golden_file);
	return unit_test_summary();
}
