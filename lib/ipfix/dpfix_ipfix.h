/* IPFIX (RFC 7011) messages: the information-element registry, templates, a message
 * writer that never exceeds its byte limit, and a bounds-checked reader. */
#ifndef DPFIX_IPFIX_H
#define DPFIX_IPFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DPFIX_IPFIX_VERSION 10
#define DPFIX_IPFIX_HEADER_LEN 16
#define DPFIX_IPFIX_SET_HEADER_LEN 4
#define DPFIX_IPFIX_SET_TEMPLATE 2
#define DPFIX_IPFIX_SET_OPTIONS_TEMPLATE 3
#define DPFIX_IPFIX_SET_MIN_DATA 256
#define DPFIX_IPFIX_VARLEN 65535
#define DPFIX_IPFIX_MAX_FIELDS 512

/* ---- information elements (RFC 7012) ---- */

/* RFC 5103 6.1: the PEN whose element N is the reverse of IANA element N. */
#define DPFIX_IPFIX_PEN_REVERSE 29305
/* RFC 5103 6.2's suggestion for enterprise elements: the reverse of element N of a
 * PEN is element N | 0x4000 of the same PEN. */
#define DPFIX_IPFIX_IE_REVERSE_BIT 0x4000
/* dpfix's own elements, under RFC 5612's enterprise number for documentation until
 * dpfix has one registered: no vendor's elements ever carry it (doc/measures.md).
 * Elements 1..4 are the measures' (dpfix_measure_schema.h). */
#define DPFIX_IPFIX_PEN_DPFIX 32473
/* exporterIdentity, string: who the exporter of a session proved to be ((D)TLS PSK
 * identity or certificate name), in an IPFIX file's Export Session Details. */
#define DPFIX_IPFIX_IE_DPFIX_EXPORTER_IDENTITY 5
/* Longest name (and units) of an element added at run time. */
#define DPFIX_IPFIX_IE_NAME_MAX 127

/* Abstract data types (RFC 7012 3.1, RFC 6313, RFC 9740). */
enum dpfix_ipfix_type {
	DPFIX_IPFIX_OCTET_ARRAY,
	DPFIX_IPFIX_UNSIGNED8,
	DPFIX_IPFIX_UNSIGNED16,
	DPFIX_IPFIX_UNSIGNED32,
	DPFIX_IPFIX_UNSIGNED64,
	DPFIX_IPFIX_SIGNED8,
	DPFIX_IPFIX_SIGNED16,
	DPFIX_IPFIX_SIGNED32,
	DPFIX_IPFIX_SIGNED64,
	DPFIX_IPFIX_FLOAT32,
	DPFIX_IPFIX_FLOAT64,
	DPFIX_IPFIX_BOOLEAN,
	DPFIX_IPFIX_MAC_ADDRESS,
	DPFIX_IPFIX_STRING,
	DPFIX_IPFIX_DATETIME_SECONDS,
	DPFIX_IPFIX_DATETIME_MILLISECONDS,
	DPFIX_IPFIX_DATETIME_MICROSECONDS,
	DPFIX_IPFIX_DATETIME_NANOSECONDS,
	DPFIX_IPFIX_IPV4_ADDRESS,
	DPFIX_IPFIX_IPV6_ADDRESS,
	DPFIX_IPFIX_BASIC_LIST,
	DPFIX_IPFIX_SUB_TEMPLATE_LIST,
	DPFIX_IPFIX_SUB_TEMPLATE_MULTI_LIST,
	DPFIX_IPFIX_UNSIGNED256,
	DPFIX_IPFIX_TYPE_COUNT
};

/* Data type semantics (RFC 7012 3.2); NONE where the registry gives none. */
enum dpfix_ipfix_semantics {
	DPFIX_IPFIX_SEM_NONE,
	DPFIX_IPFIX_SEM_DEFAULT,
	DPFIX_IPFIX_SEM_QUANTITY,
	DPFIX_IPFIX_SEM_TOTAL_COUNTER,
	DPFIX_IPFIX_SEM_DELTA_COUNTER,
	DPFIX_IPFIX_SEM_IDENTIFIER,
	DPFIX_IPFIX_SEM_FLAGS,
	DPFIX_IPFIX_SEM_LIST,
	DPFIX_IPFIX_SEM_SNMP_COUNTER,
	DPFIX_IPFIX_SEM_SNMP_GAUGE,
	DPFIX_IPFIX_SEM_COUNT
};

enum dpfix_ipfix_status {
	DPFIX_IPFIX_STATUS_CURRENT,
	DPFIX_IPFIX_STATUS_DEPRECATED,
};

/* One information element. IANA elements and their RFC 5103 reverse elements are
 * generated from the registry in lib/ipfix/registry; enterprise elements are added
 * at run time (dpfix_ipfix_ie_load). Entries never move once returned. */
struct dpfix_ipfix_ie {
	uint16_t id;
	uint32_t pen;           /* 0 for IANA elements */
	const char *name;
	enum dpfix_ipfix_type type;
	enum dpfix_ipfix_semantics semantics;
	enum dpfix_ipfix_status status;
	const char *units;      /* "octets", "packets"...; NULL where none is given */
	bool has_range;         /* the registry gives range_low..range_high */
	bool reversible;        /* a reverse element exists for this one */
	uint64_t range_low;
	uint64_t range_high;
};

/* The element (pen, id), or NULL if unknown: constant time for IANA and reverse
 * elements, a binary search for enterprise ones. */
const struct dpfix_ipfix_ie *dpfix_ipfix_ie_by_id(uint32_t pen, uint16_t id);
/* The element called name (case matters), or NULL: a binary search. */
const struct dpfix_ipfix_ie *dpfix_ipfix_ie_by_name(const char *name);

/* Adds an enterprise element (a copy is kept; pen is neither 0 nor 29305, id in
 * 1..32767, the name letters and digits). If ie->reversible, also adds its reverse
 * element (id | DPFIX_IPFIX_IE_REVERSE_BIT, "reverse" + Name). -EEXIST if an id or
 * name is taken, -EINVAL if a field is invalid, -ENOMEM. Not for the data path:
 * add elements before threads that look them up start. */
int dpfix_ipfix_ie_add(const struct dpfix_ipfix_ie *ie);
/* Adds the enterprise elements of a file (format: doc/information-elements.md).
 * Returns how many were added, or a negative errno with err holding
 * "FILE:LINE: reason 'value'"; a file with any error adds nothing. */
int dpfix_ipfix_ie_load(const char *path, char *err, size_t errlen);
struct dpfix_config_list;
/* A program's --elements: each file loaded in turn (dpfix_ipfix_ie_load), how many
 * elements it added said at INFO. 0, or the first failure's negative errno with err
 * holding "FILE:LINE: reason 'value'" (the files before it stay loaded). */
int dpfix_ipfix_ie_load_files(const struct dpfix_config_list *files, char *err, size_t errlen);
/* Forgets every element added at run time (their pointers become invalid). */
void dpfix_ipfix_ie_reset(void);

/* "unsigned64", "dateTimeMicroseconds"...: the registry's names. */
const char *dpfix_ipfix_type_name(enum dpfix_ipfix_type type);
int dpfix_ipfix_type_by_name(const char *name, enum dpfix_ipfix_type *type);
const char *dpfix_ipfix_semantics_name(enum dpfix_ipfix_semantics semantics);
int dpfix_ipfix_semantics_by_name(const char *name, enum dpfix_ipfix_semantics *semantics);

/* IE_<name> for every IANA element, generated from the registry. */
#include "dpfix_ipfix_ie_ids.h"

/* ---- values (RFC 7011 sections 6 and 7) ---- */

/* Whether a value of type may be len octets long: its full size, a reduced size
 * (RFC 7011 6.2), or any length for strings, octet arrays and lists. */
bool dpfix_ipfix_type_length_valid(enum dpfix_ipfix_type type, uint32_t len);
/* The full size of type in octets, 0 for types without one (strings, lists...). */
uint16_t dpfix_ipfix_type_size(enum dpfix_ipfix_type type);

/* A point in time: seconds since the UNIX epoch (negative before 1970) and
 * nanoseconds into that second. */
struct dpfix_ipfix_time {
	int64_t sec;
	uint32_t nsec;          /* 0..999999999 */
};

/* NTP timestamps (dateTimeMicroseconds/Nanoseconds) carry no era (RFC 7011 5.2):
 * a decoder puts them in the 2^32-second window centred on a pivot time. The
 * default pivot, the start of NTP era 1, gives 1968-01-20 to 2104-02-26. */
#define DPFIX_IPFIX_NTP_PIVOT_DEFAULT INT64_C(2085978496) /* 2036-02-07T06:28:16Z */

/* A decoded value. Octets (string, octetArray, unsigned256 big-endian, and the
 * RFC 6313 lists, which dpfix keeps opaque) point into the decoded record. */
struct dpfix_ipfix_value {
	enum dpfix_ipfix_type type;
	union {
		uint64_t u;                     /* unsigned8..64 */
		int64_t i;                      /* signed8..64 */
		double f;                       /* float32, float64 */
		bool b;                         /* boolean */
		uint8_t addr[16];               /* macAddress 6, ipv4Address 4, ipv6Address 16 */
		struct dpfix_ipfix_time t;      /* dateTime* */
		struct {
			const uint8_t *p;
			uint16_t len;
		} octets;
	};
};

/* Decodes a field of type from its len octets, reduced sizes included (RFC 7011
 * 6.2: integers sign- or zero-extended, float64 from float32). NTP times are put
 * in the window around ntp_pivot. -EBADMSG if len is not valid for type or a
 * boolean is neither 1 (true) nor 2 (false); -EILSEQ if a string is not UTF-8 (the
 * octets are still set). */
int dpfix_ipfix_value_decode(enum dpfix_ipfix_type type, const uint8_t *v, uint16_t len,
		int64_t ntp_pivot, struct dpfix_ipfix_value *out);
/* Encodes val in exactly len octets, reduced size where RFC 7011 6.2 allows it.
 * -ERANGE if the value does not fit in len octets (never truncated), -EINVAL if len
 * is not valid for the type. A string shorter than len is padded with zeros;
 * octet arrays must be exactly len long. Times are floored to the type's unit. */
int dpfix_ipfix_value_encode(const struct dpfix_ipfix_value *val, uint8_t *v, uint16_t len);
/* Encodes val as a field of template length field_len into out (room octets):
 * DPFIX_IPFIX_VARLEN writes the RFC 7011 7 length prefix first. Returns the octets
 * written; -ENOSPC if room is short, else as dpfix_ipfix_value_encode. */
int dpfix_ipfix_field_encode(const struct dpfix_ipfix_value *val, uint16_t field_len,
		uint8_t *out, size_t room);

/* Writes the length prefix of a variable-length field (RFC 7011 7): one octet below
 * 255, else 255 and two octets. Returns 1 or 3; -ERANGE above 65535, -ENOSPC if
 * room is short. */
int dpfix_ipfix_varlen_encode(uint8_t *out, size_t room, uint32_t len);
/* Reads a length prefix from avail octets: sets *len, returns 1 or 3, or -EBADMSG
 * if the prefix is cut short. */
int dpfix_ipfix_varlen_decode(const uint8_t *p, size_t avail, uint16_t *len);

/* Integers of any reduced size, big-endian. get: -EBADMSG unless len is 1..8.
 * put: -ERANGE if x does not fit in len octets, -EINVAL unless len is 1..8. */
int dpfix_ipfix_get_unsigned(const uint8_t *v, uint16_t len, uint64_t *x);
/* The same as get without the check, for a field whose template was checked: a value
 * of any reduced size (RFC 7011 6.2); 0 for len 0, the first 8 octets past 8. */
uint64_t dpfix_ipfix_read_unsigned(const uint8_t *v, uint16_t len);
int dpfix_ipfix_get_signed(const uint8_t *v, uint16_t len, int64_t *x);
int dpfix_ipfix_put_unsigned(uint8_t *v, uint16_t len, uint64_t x);
int dpfix_ipfix_put_signed(uint8_t *v, uint16_t len, int64_t x);

/* Whether s is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF). */
bool dpfix_ipfix_utf8_valid(const uint8_t *s, size_t len);
/* The length (1..4) of the well-formed UTF-8 character at s (len > 0 octets), or
 * minus the length of its maximal ill-formed subpart, which a reader replaces with
 * one U+FFFD (Unicode 3.9, "substitution of maximal subparts"). */
int dpfix_ipfix_utf8_next(const uint8_t *s, size_t len);

/* ---- templates ---- */

struct dpfix_ipfix_field_spec {
	uint16_t id;            /* without the enterprise bit */
	uint16_t length;        /* DPFIX_IPFIX_VARLEN for variable length */
	uint32_t pen;
};

struct dpfix_ipfix_template {
	uint16_t id;
	uint16_t field_count;
	uint16_t scope_count;   /* nonzero for options templates */
	uint16_t min_record_length; /* fixed fields, plus 1 per variable-length field */
	uint16_t varlen_count;  /* variable-length fields; 0: every record is min_record_length */
	struct dpfix_ipfix_field_spec fields[DPFIX_IPFIX_MAX_FIELDS];
};

/* Empties t for its fields to be added: template id, and the scope count of an options
 * template (0 for a data template). */
void dpfix_ipfix_template_init(struct dpfix_ipfix_template *t, uint16_t id, uint16_t scope_count);
/* Appends a field; keeps min_record_length current. -ENOSPC past the maximum. */
int dpfix_ipfix_template_add(struct dpfix_ipfix_template *t, uint32_t pen, uint16_t id,
		uint16_t length);

/* ---- writer ---- */

struct dpfix_ipfix_msg {
	uint8_t *buf;
	uint32_t limit;         /* bytes this message may use, header included */
	uint32_t len;
	uint32_t set_offset;    /* start of the open set, 0 if none */
	uint16_t set_id;
	uint32_t data_records;  /* data records in this message, for sequence numbers */
};

/* Starts a message in buf of at most limit bytes (the session's size limit). */
void dpfix_ipfix_msg_begin(struct dpfix_ipfix_msg *m, uint8_t *buf, uint32_t limit);
/* Adds a template record (Template Set, or Options Template Set if scope_count; each
 * options template in a set of its own). -ENOSPC if it does not fit; the message is unchanged then. */
int dpfix_ipfix_msg_add_template(struct dpfix_ipfix_msg *m, const struct dpfix_ipfix_template *t);
/* Adds a Template Withdrawal (RFC 7011 8.1) for template_id, or for every template of
 * the set's kind when template_id is the set id (2: templates, 3: options templates).
 * For TCP and SCTP only; -ENOSPC if it does not fit. */
int dpfix_ipfix_msg_add_withdrawal(struct dpfix_ipfix_msg *m, uint16_t set_id, uint16_t template_id);
/* Adds an encoded data record to the Data Set for template_id. -ENOSPC if full. */
int dpfix_ipfix_msg_add_record(struct dpfix_ipfix_msg *m, uint16_t template_id,
		const uint8_t *record, uint32_t len);
/* Closes the open set, writes the header and returns the message length. */
uint32_t dpfix_ipfix_msg_finish(struct dpfix_ipfix_msg *m, uint32_t export_time,
		uint32_t sequence, uint32_t domain);

/* ---- reader ---- */

struct dpfix_ipfix_header {
	uint16_t version;
	uint16_t length;
	uint32_t export_time;
	uint32_t sequence;
	uint32_t domain;
};

/* The transport of the session a decoder serves decides the template rules
 * (RFC 7011 8): withdrawals are honoured on TCP and SCTP (and in files) and ignored on
 * UDP; a different definition of a known id replaces it on UDP (and in files) but is an
 * error on TCP and SCTP; only UDP templates expire (8.4, 10.3.6). */
enum dpfix_ipfix_transport {
	DPFIX_IPFIX_TRANSPORT_FILE,     /* RFC 5655 file, or not known */
	DPFIX_IPFIX_TRANSPORT_UDP,
	DPFIX_IPFIX_TRANSPORT_TCP,
	DPFIX_IPFIX_TRANSPORT_SCTP,
};

/* The transport of a session over IP protocol ip_protocol (IPPROTO_UDP, IPPROTO_TCP or
 * IPPROTO_SCTP); DPFIX_IPFIX_TRANSPORT_FILE for any other. */
enum dpfix_ipfix_transport dpfix_ipfix_transport_of_protocol(uint8_t ip_protocol);

/* The memory the templates of a process's decoders may take (a collector's sessions,
 * one thread): each decoder holds up to DPFIX_IPFIX_TEMPLATE_RESERVE bytes of templates
 * whatever the others hold, so no session can lock another out; beyond its reserve it
 * draws on the shared limit_bytes. A stored template takes about 48 bytes plus 8 a
 * field. So all templates together take at most limit_bytes + sessions x reserve. */
struct dpfix_ipfix_template_budget {
	uint64_t limit_bytes;   /* the shared pool; 0: no limit */
	uint64_t shared_bytes;  /* drawn from it */
	uint64_t held_bytes;    /* held by all templates, reserves included */
	uint64_t peak_bytes;    /* the most held_bytes has been */
};
#define DPFIX_IPFIX_TEMPLATE_RESERVE (64u * 1024)

struct dpfix_ipfix_decoder_params {
	enum dpfix_ipfix_transport transport;
	/* UDP: a template not refreshed within this many seconds of the decoder's clock
	 * expires; 0 keeps templates for the whole session. */
	uint32_t template_lifetime_s;
	/* Shared with the process's other decoders (not copied); NULL: no limit but the
	 * session's 4096 templates. */
	struct dpfix_ipfix_template_budget *budget;
};

#define DPFIX_IPFIX_DECODE_COUNTERS(X) \
	X(messages, "messages decoded") \
	X(data_records, "data records decoded") \
	X(options_records, "options data records decoded") \
	X(templates, "templates learned (new ids)") \
	X(templates_refreshed, "templates sent again unchanged") \
	X(templates_replaced, "templates redefined, new definition used (UDP, files)") \
	X(templates_redefined_invalid, "templates redefined without withdrawal on TCP/SCTP: dropped") \
	X(templates_withdrawn, "templates withdrawn") \
	X(withdrawals_all, "all-templates withdrawals") \
	X(withdrawals_invalid, "withdrawals ignored: unknown template, wrong kind, or UDP") \
	X(templates_expired, "UDP templates expired: not refreshed within their lifetime") \
	X(sets_unknown_template, "data sets skipped: template not (yet) known") \
	X(templates_refused_length, "template definitions refused: a field length its element's " \
			"type forbids (RFC 7011 6.2, 7)") \
	X(sets_refused_template, "data sets skipped: their template was refused") \
	X(templates_refused_memory, "templates not kept: the template memory shared by the " \
			"sessions was used up (their data sets count in sets_unknown_template)") \
	X(malformed_messages, "messages refused as malformed") \
	X(sequence_lost, "data records missing by sequence number") \
	X(sequence_out_of_order, "messages that arrived behind the sequence") \
	X(sequence_recovered, "records of late messages that filled a gap counted as lost") \
	X(sequence_resets, "sequence jumps back taken as an exporter restart")

/* Why a message was refused; each is counted (stats.malformed[reason]). */
#define DPFIX_IPFIX_MALFORMED_REASONS(X) \
	X(MESSAGE_SHORT, "message shorter than the 16-byte header") \
	X(VERSION, "version is not 10") \
	X(MESSAGE_LENGTH, "header length differs from the bytes received") \
	X(SET_HEADER, "set header cut short") \
	X(SET_LENGTH, "set length below 4 or past the message end") \
	X(SET_ID, "reserved set id (0, 1, 4..255)") \
	X(TEMPLATE_ID, "template id below 256") \
	X(TEMPLATE_FIELDS, "field count over 512, or scope count not in 1..field count") \
	X(TEMPLATE_SHORT, "template record cut short by its set") \
	X(FIELD_LENGTH, "field length 0, or records too long for any message") \
	X(RECORD_OVERRUN, "data record overruns its set") \
	X(TEMPLATE_LIMIT, "more templates than a session may hold (4096)")

enum dpfix_ipfix_malformed {
#define DPFIX_IPFIX_MALFORMED_ENUM(name, text) DPFIX_IPFIX_MALFORMED_##name,
	DPFIX_IPFIX_MALFORMED_REASONS(DPFIX_IPFIX_MALFORMED_ENUM)
#undef DPFIX_IPFIX_MALFORMED_ENUM
	DPFIX_IPFIX_MALFORMED_COUNT
};

struct dpfix_ipfix_decode_stats {
#define DPFIX_IPFIX_DECODE_FIELD(name, text) uint64_t name;
	DPFIX_IPFIX_DECODE_COUNTERS(DPFIX_IPFIX_DECODE_FIELD)
#undef DPFIX_IPFIX_DECODE_FIELD
	uint64_t malformed[DPFIX_IPFIX_MALFORMED_COUNT]; /* by reason; sums to malformed_messages */
};

/* "MESSAGE_LENGTH" and its description. */
const char *dpfix_ipfix_malformed_name(enum dpfix_ipfix_malformed r);
const char *dpfix_ipfix_malformed_text(enum dpfix_ipfix_malformed r);
const char *dpfix_ipfix_transport_name(enum dpfix_ipfix_transport tr);

/* Templates and sequence state of one transport session (RFC 7011 scope): templates
 * per observation domain, sequence numbers per observation domain. */
struct dpfix_ipfix_decoder;

typedef void (*dpfix_ipfix_record_cb)(void *ctx, const struct dpfix_ipfix_header *h,
		const struct dpfix_ipfix_template *t, const uint8_t *record, uint32_t len);

struct dpfix_ipfix_decoder *dpfix_ipfix_decoder_create_params(
		const struct dpfix_ipfix_decoder_params *p);
/* A decoder with the rules for files (DPFIX_IPFIX_TRANSPORT_FILE). */
struct dpfix_ipfix_decoder *dpfix_ipfix_decoder_create(void);
void dpfix_ipfix_decoder_free(struct dpfix_ipfix_decoder *d);

/* The clock template lifetimes are measured with (seconds; a collector passes its
 * wall clock before each message). Until it is set, each message's export time is
 * used. */
void dpfix_ipfix_decoder_set_time(struct dpfix_ipfix_decoder *d, uint64_t now_s);

#define DPFIX_IPFIX_DECODE_WARNING 1

/* Decodes one whole message of exactly len bytes, calling cb for every data record.
 * Returns 0; or DPFIX_IPFIX_DECODE_WARNING when the message was decoded but broke a
 * template rule (an invalid withdrawal or redefinition: ignored or handled as RFC 7011
 * 8 says, counted, and the first such fault named in err); or -EBADMSG with err naming
 * what is wrong and at which offset (nothing after that point is delivered; records
 * and templates before it were). */
int dpfix_ipfix_decode(struct dpfix_ipfix_decoder *d, const uint8_t *buf, size_t len,
		dpfix_ipfix_record_cb cb, void *ctx, char *err, size_t errlen);

const struct dpfix_ipfix_decode_stats *dpfix_ipfix_decoder_stats(const struct dpfix_ipfix_decoder *d);
/* The bytes the decoder's templates take (see struct dpfix_ipfix_template_budget). */
uint64_t dpfix_ipfix_decoder_template_bytes(const struct dpfix_ipfix_decoder *d);
/* The sequence numbers of the i-th observation domain the decoder has seen (from 0):
 * its id, the first message's sequence number, and the one the next message should
 * carry. 0, or -ENOENT past the last. Lets a collector check that a session which
 * continues another (a planned hand-off) goes on where that one ended. */
int dpfix_ipfix_decoder_sequence(const struct dpfix_ipfix_decoder *d, uint32_t i, uint32_t *domain,
		uint32_t *first, uint32_t *expected);
/* sum += s, every counter. */
void dpfix_ipfix_decode_stats_add(struct dpfix_ipfix_decode_stats *sum,
		const struct dpfix_ipfix_decode_stats *s);
/* Data records the decoder saw lost: missing by sequence number and not filled by a late
 * message (sequence_lost beyond sequence_recovered), or in data sets it could not decode
 * (sets_unknown_template, sets_refused_template). Appends each such counter with its
 * value to names ("sequence_lost 40 (4 recovered), sets_unknown_template 2"), separated
 * by ", " from what names holds; returns whether there was any. */
int dpfix_ipfix_decode_loss(const struct dpfix_ipfix_decode_stats *s, char *names,
		size_t len);

/* A template of observation domain `domain`: t is its definition, or NULL when the
 * template was withdrawn. */
typedef void (*dpfix_ipfix_template_cb)(void *ctx, uint32_t domain, uint16_t template_id,
		const struct dpfix_ipfix_template *t);
/* Tells cb of every template learned or withdrawn from now on, as it is decoded
 * (dump tools print them; the file writer notices templates that clash with its own). */
void dpfix_ipfix_decoder_set_template_cb(struct dpfix_ipfix_decoder *d, dpfix_ipfix_template_cb cb,
		void *ctx);
/* Calls cb for every template the decoder currently holds (a file writer rewrites them
 * at the start of each new file). */
void dpfix_ipfix_decoder_foreach_template(const struct dpfix_ipfix_decoder *d,
		dpfix_ipfix_template_cb cb, void *ctx);

/* Reads just the header; -EBADMSG if len is short or the version is not 10. */
int dpfix_ipfix_read_header(const uint8_t *buf, size_t len, struct dpfix_ipfix_header *h);

/* Splits a data record into its fields: offsets[i], lengths[i] for field i.
 * Returns the record's length, or -EBADMSG if it overruns len. */
int dpfix_ipfix_record_fields(const struct dpfix_ipfix_template *t, const uint8_t *record,
		uint32_t len, uint32_t *offsets, uint16_t *lengths);

/* ---- formatting ---- */

/* Writes the value of one field as JSON (numbers bare, addresses and times quoted).
 * Unknown types print as a hex string. Returns the characters written. */
int dpfix_ipfix_format_json_value(enum dpfix_ipfix_type type, const uint8_t *v, uint16_t len,
		char *out, size_t outlen);

/* Writes one data record as a JSON object keyed by IE names (unknown elements as
 * "pen:id" or "_ieID") followed by a newline. Returns 0 or -EBADMSG. */
int dpfix_ipfix_record_to_json(const struct dpfix_ipfix_template *t, const uint8_t *record,
		uint32_t len, FILE *out);

/* A field's key in records: its IE name, "pen:id" for unknown enterprise elements,
 * "_ieID" for unknown IANA ones. Returns what snprintf returns. */
int dpfix_ipfix_field_name(const struct dpfix_ipfix_field_spec *f, char *out, size_t outlen);

/* Writes one data record as "name=value" pairs on one line (values as in JSON).
 * Returns 0 or -EBADMSG. */
int dpfix_ipfix_record_to_text(const struct dpfix_ipfix_template *t, const uint8_t *record,
		uint32_t len, FILE *out);

#endif
