/* Endpoint resolution and address printing for the transport drivers. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sockaddr_util.h"

int
sockaddr_resolve(const struct dpfix_endpoint *ep, int socktype, int flags, struct addrinfo **res,
		char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = socktype, .ai_flags = flags};
	char port[8];
	int rc;

	snprintf(port, sizeof(port), "%u", ep->port);
	rc = getaddrinfo(ep->host, port, &hints, res);
	if (rc != 0) {
		snprintf(err, errlen, "%s://%s:%u: %s", ep->scheme, ep->host, ep->port, gai_strerror(rc));
		return -EINVAL;
	}
	return 0;
}

int
sockaddr_listen_error(const struct dpfix_endpoint *ep, int e, char *err, size_t errlen)
{
	snprintf(err, errlen, "listen %s://%s:%u: %s%s", ep->scheme, ep->host, ep->port, strerror(e),
			e == EADDRINUSE ? " (another collector, or another listener of this one, holds "
			"it)" : "");
	return -e;
}

void
sockaddr_format(const struct sockaddr *sa, socklen_t len, char *out, size_t outlen)
{
	char host[NI_MAXHOST], port[NI_MAXSERV];

	if (getnameinfo(sa, len, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(out, outlen, "?");
		return;
	}
	snprintf(out, outlen, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
}
