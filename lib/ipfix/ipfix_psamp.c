/* Builders for the PSAMP options records: each template lists its fields once and the
 * encoder writes them in that order; the unit tests decode every record through its
 * template and check each element's registry type and length. */
#include <errno.h>
#include <string.h>

#include "dpfix_ipfix_bytes.h"
#include "dpfix_ipfix_psamp.h"

static int
is_hash(uint16_t algorithm)
{
	return algorithm == DPFIX_IPFIX_SELECTOR_HASH_BOB ||
			algorithm == DPFIX_IPFIX_SELECTOR_HASH_IPSX ||
			algorithm == DPFIX_IPFIX_SELECTOR_HASH_CRC;
}

int
dpfix_ipfix_selector_report_template(struct dpfix_ipfix_template *t, uint16_t id,
		uint16_t algorithm)
{
	dpfix_ipfix_template_init(t, id, 1);
	dpfix_ipfix_template_add(t, 0, IE_selectorId, 8);
	dpfix_ipfix_template_add(t, 0, IE_selectorAlgorithm, 2);
	if (algorithm == DPFIX_IPFIX_SELECTOR_SYSTEMATIC_COUNT) {
		dpfix_ipfix_template_add(t, 0, IE_samplingPacketInterval, 4);
		dpfix_ipfix_template_add(t, 0, IE_samplingPacketSpace, 4);
	} else if (algorithm == DPFIX_IPFIX_SELECTOR_RANDOM_N_OF_N) {
		dpfix_ipfix_template_add(t, 0, IE_samplingSize, 4);
		dpfix_ipfix_template_add(t, 0, IE_samplingPopulation, 4);
	} else if (is_hash(algorithm)) {
		dpfix_ipfix_template_add(t, 0, IE_hashIPPayloadOffset, 8);
		dpfix_ipfix_template_add(t, 0, IE_hashIPPayloadSize, 8);
		dpfix_ipfix_template_add(t, 0, IE_hashOutputRangeMin, 8);
		dpfix_ipfix_template_add(t, 0, IE_hashOutputRangeMax, 8);
		dpfix_ipfix_template_add(t, 0, IE_hashSelectedRangeMin, 8);
		dpfix_ipfix_template_add(t, 0, IE_hashSelectedRangeMax, 8);
		dpfix_ipfix_template_add(t, 0, IE_hashInitialiserValue, 8);
	} else {
		return -EINVAL;
	}
	return 0;
}

uint32_t
dpfix_ipfix_selector_report_record(const struct dpfix_ipfix_selector_report *s, uint8_t *out)
{
	uint8_t *p = out;

	p = dpfix_put_be(p, s->selector_id, 8);
	p = dpfix_put_be(p, s->algorithm, 2);
	if (s->algorithm == DPFIX_IPFIX_SELECTOR_SYSTEMATIC_COUNT) {
		p = dpfix_put_be(p, s->packet_interval, 4);
		p = dpfix_put_be(p, s->packet_space, 4);
	} else if (s->algorithm == DPFIX_IPFIX_SELECTOR_RANDOM_N_OF_N) {
		p = dpfix_put_be(p, s->size, 4);
		p = dpfix_put_be(p, s->population, 4);
	} else if (is_hash(s->algorithm)) {
		p = dpfix_put_be(p, s->payload_offset, 8);
		p = dpfix_put_be(p, s->payload_size, 8);
		p = dpfix_put_be(p, s->output_min, 8);
		p = dpfix_put_be(p, s->output_max, 8);
		p = dpfix_put_be(p, s->selected_min, 8);
		p = dpfix_put_be(p, s->selected_max, 8);
		p = dpfix_put_be(p, s->initialiser, 8);
	} else {
		return 0;
	}
	return (uint32_t)(p - out);
}

void
dpfix_ipfix_selector_stats_template(struct dpfix_ipfix_template *t, uint16_t id)
{
	dpfix_ipfix_template_init(t, id, 1);
	dpfix_ipfix_template_add(t, 0, IE_selectorId, 8);
	dpfix_ipfix_template_add(t, 0, IE_selectorIdTotalPktsObserved, 8);
	dpfix_ipfix_template_add(t, 0, IE_selectorIdTotalPktsSelected, 8);
}

uint32_t
dpfix_ipfix_selector_stats_record(const struct dpfix_ipfix_selector_stats *s, uint8_t *out)
{
	uint8_t *p = out;

	p = dpfix_put_be(p, s->selector_id, 8);
	p = dpfix_put_be(p, s->observed, 8);
	p = dpfix_put_be(p, s->selected, 8);
	return (uint32_t)(p - out);
}

void
dpfix_ipfix_selection_sequence_template(struct dpfix_ipfix_template *t, uint16_t id)
{
	dpfix_ipfix_template_init(t, id, 1);
	dpfix_ipfix_template_add(t, 0, IE_selectionSequenceId, 8);
	dpfix_ipfix_template_add(t, 0, IE_ingressInterface, 4);
	dpfix_ipfix_template_add(t, 0, IE_selectorId, 8);
}

uint32_t
dpfix_ipfix_selection_sequence_record(const struct dpfix_ipfix_selection_sequence *s,
		uint8_t *out)
{
	uint8_t *p = out;

	p = dpfix_put_be(p, s->selection_sequence_id, 8);
	p = dpfix_put_be(p, s->ingress_interface, 4);
	p = dpfix_put_be(p, s->selector_id, 8);
	return (uint32_t)(p - out);
}
