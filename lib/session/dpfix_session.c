/* Session plumbing shared by all transports: URL parsing, the driver registry, and
 * the counters every session keeps. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpfix_session.h"

#define MAX_TRANSPORTS 8

static const struct dpfix_transport_ops *transports[MAX_TRANSPORTS];
static unsigned int transport_count;

void
dpfix_transport_register(const struct dpfix_transport_ops *ops)
{
	if (transport_count < MAX_TRANSPORTS)
		transports[transport_count++] = ops;
}

const struct dpfix_transport_ops *
dpfix_transport_find(const char *scheme)
{
	for (unsigned int i = 0; i < transport_count; i++)
		if (strcmp(transports[i]->scheme, scheme) == 0)
			return transports[i];
	return NULL;
}

int
dpfix_endpoint_parse(const char *url, struct dpfix_endpoint *ep, char *err, size_t errlen)
{
	const char *sep = strstr(url, "://"), *host, *colon;
	size_t scheme_len, host_len;
	char *end;
	unsigned long port;

	memset(ep, 0, sizeof(*ep));
	if (sep == NULL) {
		snprintf(err, errlen, "'%s' is not SCHEME://HOST:PORT", url);
		return -EINVAL;
	}
	scheme_len = (size_t)(sep - url);
	if (scheme_len == 0 || scheme_len >= sizeof(ep->scheme)) {
		snprintf(err, errlen, "'%s': missing or unknown scheme", url);
		return -EINVAL;
	}
	memcpy(ep->scheme, url, scheme_len);
	host = sep + 3;
	if (*host == '[') {
		const char *close = strchr(host, ']');

		if (close == NULL || close[1] != ':') {
			snprintf(err, errlen, "'%s': IPv6 address needs [ADDR]:PORT", url);
			return -EINVAL;
		}
		host++;
		host_len = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = strrchr(host, ':');
		if (colon == NULL) {
			snprintf(err, errlen, "'%s': missing :PORT", url);
			return -EINVAL;
		}
		host_len = (size_t)(colon - host);
	}
	if (host_len == 0 || host_len >= sizeof(ep->host)) {
		snprintf(err, errlen, "'%s': missing or overlong host", url);
		return -EINVAL;
	}
	memcpy(ep->host, host, host_len);
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 || port == 0 ||
			port > 65535) {
		snprintf(err, errlen, "'%s': port '%s' is not in 1..65535", url, colon + 1);
		return -EINVAL;
	}
	ep->port = (uint16_t)port;
	return 0;
}

struct dpfix_session *
dpfix_session_open(const struct dpfix_endpoint *ep, const struct dpfix_session_params *params,
		char *err, size_t errlen)
{
	const struct dpfix_transport_ops *ops = dpfix_transport_find(ep->scheme);
	struct dpfix_session *s;

	if (ops == NULL) {
		snprintf(err, errlen, "transport '%s' is not available in this build", ep->scheme);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->ops = ops;
	s->endpoint = *ep;
	s->params = *params;
	s->fd = -1;
	if (ops->open(s, err, errlen) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

int
dpfix_session_send(struct dpfix_session *s, const void *msg, size_t len)
{
	int ret;

	if (len > s->max_message) {
		s->send_errors++;
		return -EMSGSIZE;
	}
	ret = s->ops->send(s, msg, len);
	if (ret < 0) {
		s->send_errors++;
		return ret;
	}
	s->messages_sent++;
	s->bytes_sent += len;
	return 0;
}

void
dpfix_session_close(struct dpfix_session *s)
{
	if (s == NULL)
		return;
	s->ops->close(s);
	free(s);
}
