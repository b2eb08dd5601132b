/* dpfix's XDP program on the probe's net_af_xdp ports: rules in, counters out. */
#ifndef XDP_CAPTURE_H
#define XDP_CAPTURE_H

#include "probe_config.h"

/* After the ports have started: arms the program on each net_af_xdp port with the
 * xdp_pass rules. Returns 0 or a negative errno (printed). */
int xdp_capture_setup(const struct probe_settings *s);

#endif
