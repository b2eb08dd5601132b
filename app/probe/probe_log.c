/* The probe's log type, and the libraries' messages routed to it (probe_log.h). */
#include "dpfix_export.h"
#include "dpfix_session.h"
#include "probe_log.h"

RTE_LOG_REGISTER(probe_logtype, dpfix.probe, INFO);

static uint32_t
rte_level(enum dpfix_log_level level)
{
	switch (level) {
	case DPFIX_LOG_ERROR:
		return RTE_LOG_ERR;
	case DPFIX_LOG_WARNING:
		return RTE_LOG_WARNING;
	default:
		return RTE_LOG_INFO;
	}
}

static void
log_session(enum dpfix_log_level level, const char *msg)
{
	rte_log(rte_level(level), probe_logtype, "dpfix-probe: session: %s\n", msg);
}

/* lib/export's messages start with "export: " already. */
static void
log_export(enum dpfix_log_level level, const char *msg)
{
	rte_log(rte_level(level), probe_logtype, "dpfix-probe: %s\n", msg);
}

void
probe_log_libraries(void)
{
	dpfix_session_set_logger(log_session);
	dpfix_export_set_logger(log_export);
}
