/* Export sessions: an endpoint URL, a transport chosen by its scheme, and the size
 * limit for messages. Transport drivers (drivers/transport/) register themselves here;
 * the exporter and collector never see a socket. */
#ifndef DPFIX_SESSION_H
#define DPFIX_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DPFIX_SESSION_ERRLEN 512

struct dpfix_endpoint {
	char scheme[16];        /* udp, tcp, sctp, dtls+udp, tls+tcp, dtls+sctp */
	char host[256];         /* name or address, without IPv6 brackets */
	uint16_t port;
};

/* Parses SCHEME://HOST:PORT ([v6addr] for IPv6). -EINVAL with err filled in. */
int dpfix_endpoint_parse(const char *url, struct dpfix_endpoint *ep, char *err, size_t errlen);

struct dpfix_session_params {
	uint32_t mtu;           /* path MTU on the wire (IP packet size) for datagram transports */
};

struct dpfix_session;

struct dpfix_transport_ops {
	const char *scheme;
	/* Opens the exporter side; fills s->max_message. */
	int (*open)(struct dpfix_session *s, char *err, size_t errlen);
	/* Sends one whole IPFIX message: 0, or negative errno. Never blocks for long. */
	int (*send)(struct dpfix_session *s, const void *msg, size_t len);
	void (*close)(struct dpfix_session *s);
};

struct dpfix_session {
	const struct dpfix_transport_ops *ops;
	struct dpfix_endpoint endpoint;
	struct dpfix_session_params params;
	uint32_t max_message;   /* the largest IPFIX message this session may carry */
	int reliable;           /* templates once per session (TCP/SCTP) or resent (UDP) */
	int fd;
	void *driver;           /* driver-private state */
	uint64_t messages_sent;
	uint64_t bytes_sent;
	uint64_t send_errors;
};

/* Called by transport drivers from a constructor. */
void dpfix_transport_register(const struct dpfix_transport_ops *ops);
const struct dpfix_transport_ops *dpfix_transport_find(const char *scheme);

/* Opens an exporting session to ep. NULL with err filled in on failure. */
struct dpfix_session *dpfix_session_open(const struct dpfix_endpoint *ep,
		const struct dpfix_session_params *params, char *err, size_t errlen);
int dpfix_session_send(struct dpfix_session *s, const void *msg, size_t len);
void dpfix_session_close(struct dpfix_session *s);

#endif
