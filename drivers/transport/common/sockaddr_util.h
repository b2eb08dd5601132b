/* Socket-address helpers shared by the transport drivers: resolving an endpoint and
 * printing an address as ADDR:PORT. */
#ifndef SOCKADDR_UTIL_H
#define SOCKADDR_UTIL_H

#include <netdb.h>
#include <stddef.h>
#include <sys/socket.h>

#include "dpfix_session.h"

/* getaddrinfo for ep; flags e.g. AI_PASSIVE. 0 or -EINVAL with err filled in. */
int sockaddr_resolve(const struct dpfix_endpoint *ep, int socktype, int flags,
		struct addrinfo **res, char *err, size_t errlen);
/* A listener's socket, bind or listen failed with errno e: err names the endpoint and
 * why, and who may hold the address when it is in use. Returns -e. */
int sockaddr_listen_error(const struct dpfix_endpoint *ep, int e, char *err, size_t errlen);
void sockaddr_format(const struct sockaddr *sa, socklen_t len, char *out, size_t outlen);

#endif
