/* Configuration around dpfix's XDP program: which object net_af_xdp loads (ours unless
 * the --vdev names one) and the xdp_pass rules' text. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dpfix_xdp_user.h"

const char *
dpfix_xdp_object_path(void)
{
	static char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	/* An installed probe uses the installed object; one in the build tree, the build's. */
	if (n > 0) {
		exe[n] = '\0';
		if (strcmp(exe, DPFIX_PROBE_INSTALLED) == 0)
			return DPFIX_XDP_OBJECT_INSTALLED;
	}
	return DPFIX_XDP_OBJECT_BUILD;
}

static int
is_af_xdp_vdev(const char *v)
{
	return strncmp(v, "net_af_xdp", 10) == 0;
}

static char *
with_program(const char *vdev)
{
	const char *path = dpfix_xdp_object_path();
	size_t len = strlen(vdev) + strlen(",xdp_prog=") + strlen(path) + 1;
	char *s = malloc(len);

	if (s != NULL)
		snprintf(s, len, "%s,xdp_prog=%s", vdev, path);
	return s;
}

/* What dpfix_xdp_default_program allocated: EAL permutes the array it is given, so
 * the rewritten strings are kept here to be freed. */
static char **args_made;
static char *strings_made[64];
static unsigned int nb_strings_made;

char **
dpfix_xdp_default_program(int argc, char **argv)
{
	char **out = calloc((size_t)argc + 1, sizeof(*out));

	if (out == NULL)
		return argv;
	args_made = out;
	for (int i = 0; i < argc; i++) {
		char *v = argv[i];

		out[i] = v;
		if (strcmp(v, "--") == 0) {
			memcpy(&out[i], &argv[i], (size_t)(argc - i) * sizeof(*out));
			break;
		}
		if (strcmp(v, "--vdev") == 0 && i + 1 < argc) {
			i++;
			out[i] = argv[i];
			v = argv[i];
		} else if (strncmp(v, "--vdev=", 7) == 0) {
			v += 7;
		} else {
			continue;
		}
		if (is_af_xdp_vdev(v) && strstr(v, "xdp_prog=") == NULL &&
				nb_strings_made < sizeof(strings_made) / sizeof(strings_made[0])) {
			char *rewritten = with_program(argv[i]);

			if (rewritten != NULL)
				out[i] = strings_made[nb_strings_made++] = rewritten;
		}
	}
	return out;
}

void
dpfix_xdp_default_program_free(void)
{
	for (unsigned int i = 0; i < nb_strings_made; i++)
		free(strings_made[i]);
	nb_strings_made = 0;
	free(args_made);
	args_made = NULL;
}

static int
parse_protocol(const char *s, __u8 *protocol)
{
	static const struct {
		const char *name;
		__u8 number;
	} names[] = {{"tcp", IPPROTO_TCP}, {"udp", IPPROTO_UDP}, {"sctp", IPPROTO_SCTP},
		{"icmp", IPPROTO_ICMP}, {"icmpv6", IPPROTO_ICMPV6}};
	char *end;
	unsigned long n;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0) {
			*protocol = names[i].number;
			return 0;
		}
	n = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || n == 0 || n > 255)
		return -EINVAL;
	*protocol = (__u8)n;
	return 0;
}

int
dpfix_xdp_rule_parse(const char *text, struct dpfix_xdp_rule *rule, char *err, size_t errlen)
{
	char buf[128], *rest, *proto_text = NULL, *port_text = NULL;
	const char *addr;

	memset(rule, 0, sizeof(*rule));
	if (strlen(text) >= sizeof(buf))
		goto bad;
	strcpy(buf, text);
	if (buf[0] == '[') {
		rest = strchr(buf, ']');
		if (rest == NULL || (rest[1] != '\0' && rest[1] != ':'))
			goto bad;
		*rest++ = '\0';
		addr = buf + 1;
	} else {
		addr = buf;
		rest = strchr(buf, ':');
	}
	if (rest != NULL && *rest == ':') {
		*rest++ = '\0';
		proto_text = rest;
		port_text = strchr(rest, ':');
		if (port_text != NULL)
			*port_text++ = '\0';
	}
	if (inet_pton(AF_INET, addr, rule->addr) == 1)
		rule->family = 4;
	else if (buf[0] == '[' && inet_pton(AF_INET6, addr, rule->addr) == 1)
		rule->family = 6;
	else
		goto bad;
	if (proto_text != NULL && parse_protocol(proto_text, &rule->protocol) != 0)
		goto bad;
	if (port_text != NULL) {
		char *end;
		unsigned long port = strtoul(port_text, &end, 10);

		if (*port_text == '\0' || *end != '\0' || port == 0 || port > 65535 ||
				(rule->protocol != IPPROTO_TCP && rule->protocol != IPPROTO_UDP &&
				 rule->protocol != IPPROTO_SCTP))
			goto bad;
		rule->port = htons((uint16_t)port);
	}
	return 0;
bad:
	snprintf(err, errlen, "'%s' is not ADDRESS[:PROTOCOL[:PORT]] (IPv6 in brackets, e.g. "
			"192.0.2.1, 192.0.2.1:udp:4739, [2001:db8::1]:tcp:22; PROTOCOL tcp, udp, sctp, "
			"icmp, icmpv6 or 1-255; a port only with tcp, udp or sctp)", text);
	return -EINVAL;
}
