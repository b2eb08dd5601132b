/* Plain IPFIX over UDP (RFC 7011 10.3): one message per datagram, sized to the
 * path MTU, templates resent by the exporter on a timer. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dpfix_session.h"

#define IPV4_UDP_HEADERS 28
#define IPV6_UDP_HEADERS 48

static int
udp_open(struct dpfix_session *s, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_protocol = IPPROTO_UDP};
	struct addrinfo *res;
	char port[8];
	int fd, rc, headers;

	snprintf(port, sizeof(port), "%u", s->endpoint.port);
	rc = getaddrinfo(s->endpoint.host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "collector %s: %s", s->endpoint.host, gai_strerror(rc));
		return -EINVAL;
	}
	fd = socket(res->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
		rc = -errno;
		snprintf(err, errlen, "collector udp://%s:%u: %s", s->endpoint.host, s->endpoint.port,
				strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return rc;
	}
	headers = res->ai_family == AF_INET6 ? IPV6_UDP_HEADERS : IPV4_UDP_HEADERS;
	freeaddrinfo(res);
	if (s->params.mtu <= (uint32_t)headers + 256) {
		snprintf(err, errlen, "MTU %u leaves no room for IPFIX messages", s->params.mtu);
		close(fd);
		return -EINVAL;
	}
	s->fd = fd;
	s->max_message = s->params.mtu - (uint32_t)headers;
	if (s->max_message > 65535 - 8)
		s->max_message = 65535 - 8;
	s->reliable = 0;
	return 0;
}

static int
udp_send(struct dpfix_session *s, const void *msg, size_t len)
{
	ssize_t n = send(s->fd, msg, len, MSG_DONTWAIT);

	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? 0 : -EIO;
}

static void
udp_close(struct dpfix_session *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static const struct dpfix_transport_ops udp_ops = {
	.scheme = "udp",
	.open = udp_open,
	.send = udp_send,
	.close = udp_close,
};

__attribute__((constructor)) static void
udp_transport_init(void)
{
	dpfix_transport_register(&udp_ops);
}
