/* Unit tests for the options records the IPFIX file writer adds (lib/ipfix/
 * ipfix_file_details.c, RFC 5655 Message Details and Export Session Details): a file
 * written with details for sessions of every address family mix and transport comes
 * out byte for byte as the writer made it before the record schemas (schema_golden.h);
 * an authenticated exporter's identity is in its Export Session Details, cut at 254
 * octets, and size rotation keeps room for it. */
#include <arpa/inet.h>
#include <dirent.h>
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

/* The file's bytes (size at most) into buf, then the file is gone. */
static size_t
read_and_remove(const char *path, uint8_t *buf, size_t size)
{
	FILE *f = fopen(path, "rb");
	size_t n = 0;

	CHECK(f != NULL);
	if (f != NULL) {
		n = fread(buf, 1, size, f);
		fclose(f);
	}
	unlink(path);
	return n;
}

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
	size_t n;

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
	n = read_and_remove(path, file, sizeof(file));
	CHECK(golden_same("file details", file, (uint32_t)n));
}

/* Writes count messages of session 1 with identity id to w. */
static void
write_messages(struct dpfix_ipfix_file_writer *w, const char *id, int count)
{
	static uint8_t m[4096];
	static struct dpfix_ipfix_template t;
	char err[256];

	dpfix_ipfix_template_init(&t, 256, 0);
	dpfix_ipfix_template_add(&t, 0, IE_octetDeltaCount, 8);
	for (int i = 0; i < count; i++) {
		struct dpfix_ipfix_file_origin o;
		struct dpfix_ipfix_msg mb;
		uint8_t rec[8] = {0, 0, 0, 0, 0, 0, 1, (uint8_t)i};
		uint32_t len;

		golden_origin(&o, 1, w);
		o.identity = id;
		dpfix_ipfix_msg_begin(&mb, m, sizeof(m));
		if (i == 0)
			dpfix_ipfix_msg_add_template(&mb, &t);
		dpfix_ipfix_msg_add_record(&mb, 256, rec, 8);
		len = dpfix_ipfix_msg_finish(&mb, 1714565100 + (uint32_t)i, (uint32_t)i, 1);
		CHECK_EQ_U64(dpfix_ipfix_file_write(w, &o, m, len, err, sizeof(err)), 0);
	}
}

/* A 300-octet identity: the Export Session Details template has dpfix's
 * exporterIdentity (enterprise bit, element 5, variable length, PEN 32473) and the
 * record its first 254 octets. */
static void
test_identity(void)
{
	static const uint8_t field[] = {0x80, 0x05, 0xff, 0xff, 0x00, 0x00, 0x7e, 0xd9};
	static uint8_t file[8192], want[255];
	static char id[301];
	char path[] = "/tmp/dpfix-file-identity-XXXXXX";
	struct dpfix_ipfix_file_params p = {.path = path, .details = 1};
	struct dpfix_ipfix_file_writer *w;
	char err[256];
	int fd = mkstemp(path);
	size_t n;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	close(fd);
	memset(id, 'a', 300);
	w = dpfix_ipfix_file_writer_create(&p, err, sizeof(err));
	CHECK(w != NULL);
	if (w == NULL)
		return;
	write_messages(w, id, 2);
	CHECK_EQ_U64(dpfix_ipfix_file_writer_close(w, err, sizeof(err)), 0);
	n = read_and_remove(path, file, sizeof(file));
	want[0] = 254;
	memset(want + 1, 'a', 254);
	CHECK(memmem(file, n, field, sizeof(field)) != NULL);
	CHECK(n > sizeof(want) && memcmp(file + n - sizeof(want), want, sizeof(want)) == 0);
}

/* Size rotation with a long identity: every file stays within the size. */
static void
test_identity_rotation(void)
{
	static char id[255];
	char dir[] = "/tmp/dpfix-file-identity-XXXXXX", path[64];
	struct dpfix_ipfix_file_params p = {.path = path, .details = 1, .rotate_bytes = 1200};
	struct dpfix_ipfix_file_writer *w;
	struct dirent *e;
	char err[256];
	int files = 0;
	DIR *d;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/f.ipfix", dir);
	memset(id, 'b', 254);
	w = dpfix_ipfix_file_writer_create(&p, err, sizeof(err));
	CHECK(w != NULL);
	if (w == NULL)
		return;
	write_messages(w, id, 40);
	CHECK_EQ_U64(dpfix_ipfix_file_writer_close(w, err, sizeof(err)), 0);
	d = opendir(dir);
	CHECK(d != NULL);
	while (d != NULL && (e = readdir(d)) != NULL) {
		char name[384];
		FILE *f;
		long size = -1;

		if (e->d_name[0] == '.')
			continue;
		snprintf(name, sizeof(name), "%s/%s", dir, e->d_name);
		f = fopen(name, "rb");
		if (f != NULL && fseek(f, 0, SEEK_END) == 0)
			size = ftell(f);
		if (f != NULL)
			fclose(f);
		CHECK(size > 0 && size <= 1200);
		unlink(name);
		files++;
	}
	if (d != NULL)
		closedir(d);
	rmdir(dir);
	CHECK(files >= 2);
}

int
main(void)
{
	RUN_TEST(test_golden_file);
	RUN_TEST(test_identity);
	RUN_TEST(test_identity_rotation);
	return unit_test_summary();
}
