/* Unit tests for lib/session: endpoint URLs (SCHEME://HOST:PORT, [v6]:PORT), the errors
 * for every malformed part, and schemes taken from the transports registered. Opening
 * sessions needs drivers and is tested elsewhere. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "dpfix_session.h"
#include "dpfix_transport.h"
#include "unit_test.h"

static void
check_ok(const char *url, const char *scheme, const char *host, uint16_t port)
{
	struct dpfix_endpoint ep;
	char err[DPFIX_SESSION_ERRLEN] = "";
	int ret = dpfix_endpoint_parse(url, &ep, err, sizeof(err));

	if (ret != 0)
		fprintf(stderr, "  %s: unexpected error: %s\n", url, err);
	CHECK(ret == 0);
	CHECK(strcmp(ep.scheme, scheme) == 0);
	CHECK(strcmp(ep.host, host) == 0);
	CHECK_EQ_U64(ep.port, port);
}

/* An error names the URL; what says which part is wrong. */
static void
check_error(const char *url, const char *what)
{
	struct dpfix_endpoint ep;
	char err[DPFIX_SESSION_ERRLEN] = "";
	int ret = dpfix_endpoint_parse(url, &ep, err, sizeof(err));

	if (ret != -EINVAL || strstr(err, what) == NULL)
		fprintf(stderr, "  '%s': got %d '%s', wanted -EINVAL and '%s'\n", url, ret, err, what);
	CHECK(ret == -EINVAL);
	CHECK(strstr(err, url) != NULL);
	CHECK(strstr(err, what) != NULL);
}

static void
test_endpoint_ipv4(void)
{
	check_ok("udp://127.0.0.1:4739", "udp", "127.0.0.1", 4739);
	check_ok("tcp://192.0.2.10:1", "tcp", "192.0.2.10", 1);
	check_ok("udp://0.0.0.0:65535", "udp", "0.0.0.0", 65535);
}

static void
test_endpoint_ipv6(void)
{
	check_ok("udp://[::1]:4739", "udp", "::1", 4739);
	check_ok("dtls+udp://[2001:db8::1:2]:4740", "dtls+udp", "2001:db8::1:2", 4740);
	check_ok("sctp://[fe80::1%eth0]:4739", "sctp", "fe80::1%eth0", 4739);
}

static void
test_endpoint_hostname(void)
{
	char url[400], host[256];

	check_ok("udp://localhost:4739", "udp", "localhost", 4739);
	check_ok("tls+tcp://collector.example.net:4740", "tls+tcp", "collector.example.net", 4740);
	check_ok("udp://a:9", "udp", "a", 9);

	/* The longest host that fits the buffer, and one more. */
	memset(host, 'h', 255);
	host[255] = '\0';
	snprintf(url, sizeof(url), "udp://%s:4739", host);
	check_ok(url, "udp", host, 4739);
	snprintf(url, sizeof(url), "udp://%sh:4739", host);
	check_error(url, "host");
}

static void
test_endpoint_errors(void)
{
	check_error("127.0.0.1:4739", "not SCHEME://HOST:PORT");
	check_error("udp:/127.0.0.1:4739", "not SCHEME://HOST:PORT");
	check_error("://127.0.0.1:4739", "scheme");
	check_error("averyveryverylongscheme://127.0.0.1:4739", "scheme");
	check_error("udp://127.0.0.1", "missing :PORT");
	check_error("udp://localhost", "missing :PORT");
	check_error("udp://:4739", "host");
	check_error("udp://127.0.0.1:", "port");
	check_error("udp://127.0.0.1:0", "port '0'");
	check_error("udp://127.0.0.1:65536", "port '65536'");
	check_error("udp://127.0.0.1:99999999999999999999999", "port");
	check_error("udp://127.0.0.1:-1", "port '-1'");
	/* strtoul negates a leading minus: this one would come back as port 1. */
	check_error("udp://127.0.0.1:-18446744073709551615", "port '-18446744073709551615'");
	check_error("udp://127.0.0.1:47x", "port '47x'");
	check_error("udp://[::1", "[ADDR]:PORT");
	check_error("udp://[::1:4739", "[ADDR]:PORT");
	check_error("udp://[::1]", "[ADDR]:PORT");
	check_error("udp://[::1]4739", "[ADDR]:PORT");
	check_error("udp://[::1]:", "port");
	check_error("udp://[]:4739", "host");
	check_error("", "not SCHEME://HOST:PORT");
}

/* A failed parse leaves no half-filled endpoint behind. */
static void
test_endpoint_error_clears(void)
{
	struct dpfix_endpoint ep, zero;
	char err[DPFIX_SESSION_ERRLEN];

	memset(&zero, 0, sizeof(zero));
	memset(&ep, 0x5a, sizeof(ep));
	CHECK(dpfix_endpoint_parse("udp://127.0.0.1:0", &ep, err, sizeof(err)) == -EINVAL);
	CHECK(ep.port == 0);
	memset(&ep, 0x5a, sizeof(ep));
	CHECK(dpfix_endpoint_parse("nothing", &ep, err, sizeof(err)) == -EINVAL);
	CHECK(memcmp(&ep, &zero, sizeof(ep)) == 0);
}

/* The schemes are those of the drivers linked in: none in this test at first. */
static void
test_transport_registry(void)
{
	static const struct dpfix_transport_ops fake = {.name = "fake", .secure_scheme = "tls+fake"};
	struct dpfix_endpoint ep;
	char err[DPFIX_SESSION_ERRLEN] = "";

	/* No driver is linked into this test, so no scheme is available... */
	CHECK(dpfix_transport_find("udp") == NULL);
	CHECK(dpfix_endpoint_parse("udp://127.0.0.1:4739", &ep, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "'udp'") != NULL);
	CHECK(strstr(err, "not available in this build ()") != NULL);
	/* ...until one registers. */
	dpfix_transport_register(&fake);
	CHECK(dpfix_transport_find("fake") == &fake);
	CHECK(dpfix_transport_find("fak") == NULL);
	CHECK(dpfix_endpoint_parse("tls+fake://h:1", &ep, err, sizeof(err)) == 0);
	CHECK(strcmp(ep.transport, "fake") == 0 && ep.security == DPFIX_SECURITY_TLS);
	CHECK(strcmp(dpfix_session_schemes(), "fake, tls+fake") == 0);
}

/* Transports with the names, schemes and protocols of udp, tcp and sctp, for the URL
 * tests (opening sessions needs the real drivers and is tested elsewhere). */
static void
register_url_transports(void)
{
	static const struct dpfix_transport_ops ops[] = {
		{.name = "udp", .secure_scheme = "dtls+udp", .ip_protocol = IPPROTO_UDP},
		{.name = "tcp", .secure_scheme = "tls+tcp", .ip_protocol = IPPROTO_TCP},
		{.name = "sctp", .secure_scheme = "dtls+sctp", .ip_protocol = IPPROTO_SCTP},
	};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		dpfix_transport_register(&ops[i]);
}

/* The scheme names the transport and its security; nothing else is accepted. */
static void
test_endpoint_schemes(void)
{
	static const struct {
		const char *url, *transport;
		uint8_t ip_protocol;
		enum dpfix_security security;
	} ok[] = {
		{"udp://h:1", "udp", IPPROTO_UDP, DPFIX_SECURITY_NONE},
		{"tcp://h:1", "tcp", IPPROTO_TCP, DPFIX_SECURITY_NONE},
		{"sctp://h:1", "sctp", IPPROTO_SCTP, DPFIX_SECURITY_NONE},
		{"dtls+udp://h:1", "udp", IPPROTO_UDP, DPFIX_SECURITY_DTLS},
		{"tls+tcp://h:1", "tcp", IPPROTO_TCP, DPFIX_SECURITY_TLS},
		{"dtls+sctp://h:1", "sctp", IPPROTO_SCTP, DPFIX_SECURITY_DTLS},
	};
	static const char *const bad[] = {"tls+udp://h:1", "dtls+tcp://h:1", "http://h:1",
		"UDP://h:1"};
	struct dpfix_endpoint ep;
	char err[DPFIX_SESSION_ERRLEN];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CHECK(dpfix_endpoint_parse(ok[i].url, &ep, err, sizeof(err)) == 0);
		CHECK(strcmp(ep.transport, ok[i].transport) == 0);
		CHECK_EQ_U64(ep.ip_protocol, ok[i].ip_protocol);
		CHECK(ep.security == ok[i].security);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(dpfix_endpoint_parse(bad[i], &ep, err, sizeof(err)) == -EINVAL);
		CHECK(strstr(err, "not available") != NULL);
	}
}

int
main(void)
{
	RUN_TEST(test_transport_registry);
	register_url_transports();
	RUN_TEST(test_endpoint_ipv4);
	RUN_TEST(test_endpoint_ipv6);
	RUN_TEST(test_endpoint_hostname);
	RUN_TEST(test_endpoint_errors);
	RUN_TEST(test_endpoint_error_clears);
	RUN_TEST(test_endpoint_schemes);
	return unit_test_summary();
}
