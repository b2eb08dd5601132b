/* For unit tests that open real sessions on loopback: a port the kernel says is free now
 * (a listener, usrsctp's UDP encapsulation), and a PSK file for (D)TLS. */
#ifndef UNIT_LOOPBACK_H
#define UNIT_LOOPBACK_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dpfix_session.h"

static inline uint16_t
free_port(int type)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, type, 0);
	uint16_t port = 0;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
			getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* A PSK file (mode 600, from mkstemp on path, a "/tmp/...-XXXXXX" template) with one key
 * for identity probe.example, set in p for both ends. 0, or -1 if it cannot be written. */
static inline int
unit_psk_file(struct dpfix_session_params *p, char *path)
{
	static const char line[] = "probe.example:000102030405060708090a0b0c0d0e0f\n";
	int fd = mkstemp(path), ok;

	ok = fd >= 0 && write(fd, line, sizeof(line) - 1) == (ssize_t)(sizeof(line) - 1);
	if (fd >= 0)
		close(fd);
	snprintf(p->security.psk_file, sizeof(p->security.psk_file), "%s", path);
	snprintf(p->security.psk_identity, sizeof(p->security.psk_identity), "probe.example");
	return ok ? 0 : -1;
}

#endif
