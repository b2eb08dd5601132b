/* The exporting side's template management (RFC 7011 8, 8.1, 8.4): the templates an
 * exporter uses, held as values; which of them the current session has been sent; a
 * refresh timer on UDP; withdrawal on TCP and SCTP. The caller owns the messages and
 * the session: these functions only write template records into a message. */
#ifndef DPFIX_IPFIX_EXPORT_H
#define DPFIX_IPFIX_EXPORT_H

#include <stdint.h>

#include "dpfix_ipfix.h"

/* The most templates one manager holds: as many as a collector keeps per session, so a
 * Mediator can pass on everything one exporter defines in a domain. Entries are
 * allocated as they are added. */
#define DPFIX_IPFIX_TM_MAX 4096

/* Which kinds dpfix_ipfix_tm_withdraw_all() withdraws. */
#define DPFIX_IPFIX_TM_DATA 1
#define DPFIX_IPFIX_TM_OPTIONS 2

struct dpfix_ipfix_tm_entry {
	struct dpfix_ipfix_template t;
	uint8_t sent;               /* on the current session */
};

struct dpfix_ipfix_template_manager {
	struct dpfix_ipfix_tm_entry **entries; /* count used, room for capacity */
	uint16_t count;
	uint16_t capacity;
	uint16_t unsent;            /* entries not sent on the current session */
	int reliable;               /* TCP/SCTP: once per session; UDP: refreshed */
	uint64_t refresh_ns;        /* UDP: send every template again this often */
	uint64_t refreshed_ns;      /* when the last complete round was written */
};

void dpfix_ipfix_tm_init(struct dpfix_ipfix_template_manager *tm, uint64_t refresh_ns);
/* Frees what the templates took (tm_init makes it usable again). */
void dpfix_ipfix_tm_free(struct dpfix_ipfix_template_manager *tm);
/* Adds a template (copied). -EEXIST if its id is taken, -ENOSPC past the maximum,
 * -ENOMEM. */
int dpfix_ipfix_tm_add(struct dpfix_ipfix_template_manager *tm, const struct dpfix_ipfix_template *t);
const struct dpfix_ipfix_template *dpfix_ipfix_tm_get(const struct dpfix_ipfix_template_manager *tm,
		uint16_t id);
/* A new session: it knows no template. */
void dpfix_ipfix_tm_session(struct dpfix_ipfix_template_manager *tm, int reliable);
/* Nonzero when templates must be written before more data: one the session has not
 * been sent, or on UDP the refresh interval has passed. */
int dpfix_ipfix_tm_due(const struct dpfix_ipfix_template_manager *tm, uint64_t now_ns);
/* Writes the templates due into m, as many as fit; returns how many are still due
 * (send m and call again while positive). */
int dpfix_ipfix_tm_write(struct dpfix_ipfix_template_manager *tm, struct dpfix_ipfix_msg *m,
		uint64_t now_ns);
/* Removes template id. If the session was sent it over TCP/SCTP, a withdrawal goes into
 * m first (-ENOSPC if m has no room: nothing changes). -ENOENT if unknown. */
int dpfix_ipfix_tm_remove(struct dpfix_ipfix_template_manager *tm, uint16_t id,
		struct dpfix_ipfix_msg *m);
/* TCP/SCTP: withdraws every sent template of the kinds in `kinds` (all-templates
 * withdrawals, RFC 7011 8.1) into m; they count as not sent. Nothing on UDP. Returns
 * the withdrawal records written, or -ENOSPC (nothing changes). */
int dpfix_ipfix_tm_withdraw_all(struct dpfix_ipfix_template_manager *tm, int kinds,
		struct dpfix_ipfix_msg *m);

#endif
