/* The (D)TLS options every program with sessions takes (probe, collector, mediator), and
 * its SCTP-over-UDP port, as rows for its option table (lib/config): one wording, one set
 * of names. Header only:
 * the rows are expanded into each program's table, so the table stays flat. */
#ifndef DPFIX_SESSION_CONFIG_H
#define DPFIX_SESSION_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "dpfix_config.h"
#include "dpfix_session.h"

/* The rows for the struct dpfix_security_params at field of stype. An exporter adds
 * its psk_identity (and keylog_file) of its own. */
#define DPFIX_SESSION_SECURITY_OPTIONS(stype, field) \
	DPFIX_CONFIG_OPTION(stype, "psk_file", DPFIX_CONFIG_STRING, field.psk_file, 0, 0, \
		"(D)TLS with pre-shared keys: a file of identity:hexkey lines, mode 600 (keys " \
		"never go on the command line)"), \
	DPFIX_CONFIG_OPTION(stype, "cert", DPFIX_CONFIG_STRING, field.cert_file, 0, 0, \
		"(D)TLS with X.509: this end's certificate chain (PEM)"), \
	DPFIX_CONFIG_OPTION(stype, "key", DPFIX_CONFIG_STRING, field.key_file, 0, 0, \
		"its private key (PEM)"), \
	DPFIX_CONFIG_OPTION(stype, "ca", DPFIX_CONFIG_STRING, field.ca_file, 0, 0, \
		"CA certificates that sign the peers' certificates (PEM)"), \
	DPFIX_CONFIG_OPTION(stype, "crl", DPFIX_CONFIG_STRING, field.crl_file, 0, 0, \
		"optional CRL (PEM)"), \
	DPFIX_CONFIG_OPTION(stype, "peer_name", DPFIX_CONFIG_STRING, field.peer_name, 0, 0, \
		"name the peer's certificate must carry (SAN, else CN)"), \
	DPFIX_CONFIG_OPTION(stype, "ciphers", DPFIX_CONFIG_STRING, field.ciphers, 0, 0, \
		"(D)TLS suites, wolfSSL names joined by ':' (default: ECDHE/DHE AEAD suites; " \
		"NULL, anonymous, export, RC4 and DES suites are refused)")

/* The UDP port of SCTP over UDP (RFC 6951): a collector's, the one listeners take it on
 * and the one exporters send it to (an exporter's own port is ephemeral). */
#define DPFIX_SESSION_SCTP_UDP_PORT_OPTION(stype, field) \
	DPFIX_CONFIG_OPTION_DEFAULT(stype, "sctp_udp_port", DPFIX_CONFIG_U32, field, \
		DPFIX_CONFIG_TEXT(DPFIX_SCTP_UDP_PORT), 1, 65535, \
		"UDP port that carries SCTP, RFC 6951 (the collector's end)")

/* An option whose value is an endpoint URL: its help ends with this build's schemes. */
#define DPFIX_SESSION_ENDPOINT_OPTION(stype, key, type, field, def, help) \
	{key, type, offsetof(stype, field), sizeof(((stype *)0)->field), 0, 0, help, NULL, NULL, \
		NULL, def, dpfix_session_config_schemes}

/* For an endpoint option's help_more: "SCHEME one of udp, tcp, ..." of this build. */
static inline const char *
dpfix_session_config_schemes(void)
{
	static char text[200];

	snprintf(text, sizeof(text), "(SCHEME one of %s)", dpfix_session_schemes());
	return text;
}

#endif
