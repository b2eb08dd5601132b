/* Configuration files and command-line options described by one table of options.
 * Every error names where it came from (file:line or the option) and the bad value. */
#ifndef DPFIX_CONFIG_H
#define DPFIX_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

enum dpfix_config_type {
	DPFIX_CONFIG_U32,      /* decimal integer within [min, max] */
	DPFIX_CONFIG_DURATION, /* seconds, fractions allowed; stored as uint64_t milliseconds */
	DPFIX_CONFIG_BOOL,     /* yes/no, true/false, on/off, 1/0 */
	DPFIX_CONFIG_STRING,   /* stored in a char[size] */
	DPFIX_CONFIG_LIST,     /* repeatable; appended to a struct dpfix_config_list */
	DPFIX_CONFIG_FLAGS,    /* names from the option's list joined by ',', or "none";
	                        * stored as a uint32_t with bit i for names[i] */
	DPFIX_CONFIG_CUSTOM,   /* the option's own parse function reads the value, so a
	                        * structured value is checked where its file:line is known */
	DPFIX_CONFIG_CHOICE,   /* one name from the option's list; stored as a uint32_t,
	                        * its index there */
	DPFIX_CONFIG_U64,      /* decimal integer within [min, max], stored as a uint64_t
	                        * (sizes in bytes past 4 GiB) */
};

#define DPFIX_CONFIG_LIST_MAX 16
#define DPFIX_CONFIG_LIST_LEN 320

struct dpfix_config_list {
	unsigned int count;
	char items[DPFIX_CONFIG_LIST_MAX][DPFIX_CONFIG_LIST_LEN];
};

struct dpfix_config_option {
	const char *key;        /* config file key; the command line uses --key-with-dashes */
	enum dpfix_config_type type;
	size_t offset;          /* where in the settings struct the value goes */
	size_t size;            /* DPFIX_CONFIG_STRING: the buffer size */
	uint64_t min, max;      /* U32: value range; DURATION: range in milliseconds */
	const char *help;
	const char *const *names; /* FLAGS, CHOICE: the accepted names, NULL-terminated
	                           * (FLAGS: at most 32) */
	/* CUSTOM: stores value in settings (the whole struct) or returns -EINVAL with err
	 * filled in; origin ("probe.conf:12", "--sampling") starts every message. */
	int (*parse)(void *settings, const char *value, const char *origin, char *err,
			size_t errlen);
	const char *value_name;   /* CUSTOM: how --help shows the value ("PORT:SELECTOR") */
	/* The value the option has unless set, as its parser takes it ("15", "no",
	 * "udp://127.0.0.1:4739"); applied by dpfix_config_defaults and shown by --help. NULL:
	 * zero, empty, none. The one place a default is written. */
	const char *default_value;
	/* Text --help adds after help, made when it is shown (what this build offers). */
	const char *(*help_more)(void);
};

/* An option table entry for field of settings type stype. */
#define DPFIX_CONFIG_OPTION(stype, key, type, field, min, max, help) \
	{key, type, offsetof(stype, field), sizeof(((stype *)0)->field), min, max, help}

/* An entry with a default value (text, as the parser takes it). */
#define DPFIX_CONFIG_OPTION_DEFAULT(stype, key, type, field, def, min, max, help) \
	{key, type, offsetof(stype, field), sizeof(((stype *)0)->field), min, max, help, NULL, \
		NULL, NULL, def, NULL}

/* A number as the text of a default: DPFIX_CONFIG_TEXT(DPFIX_SCTP_UDP_PORT) is "9899". */
#define DPFIX_CONFIG_TEXT(x) DPFIX_CONFIG_TEXT_(x)
#define DPFIX_CONFIG_TEXT_(x) #x

/* A FLAGS entry: field is a uint32_t, names a NULL-terminated list. */
#define DPFIX_CONFIG_FLAGS_OPTION(stype, key, field, names, help) \
	{key, DPFIX_CONFIG_FLAGS, offsetof(stype, field), sizeof(((stype *)0)->field), 0, 0, help, \
		names}

/* A CHOICE entry: field is a uint32_t, names a NULL-terminated list, def one of them. */
#define DPFIX_CONFIG_CHOICE_OPTION(stype, key, field, names, def, help) \
	{key, DPFIX_CONFIG_CHOICE, offsetof(stype, field), sizeof(((stype *)0)->field), 0, 0, \
		help, names, NULL, NULL, def, NULL}

/* A CUSTOM entry: parse(settings, value, origin, err, errlen) does the work. */
#define DPFIX_CONFIG_CUSTOM_OPTION(key, parse, value_name, help) \
	{key, DPFIX_CONFIG_CUSTOM, 0, 0, 0, 0, help, NULL, parse, value_name}

#define DPFIX_CONFIG_ERRLEN 512

/* Sets one option from its text value. origin names the source for messages
 * ("probe.conf:12" or "--idle-timeout"). Returns 0 or -EINVAL with err filled in. */
int dpfix_config_set(const struct dpfix_config_option *options, void *settings,
		const char *key, const char *value, const char *origin,
		char *err, size_t errlen);

/* Sets every option that has a default_value to it (the others are left as they are).
 * 0, or -EINVAL with err when a default does not parse: a defect in the table. */
int dpfix_config_defaults(const struct dpfix_config_option *options, void *settings,
		char *err, size_t errlen);

/* Reads "key = value" lines ('#' starts a comment) and applies each through
 * dpfix_config_set. Stops at the first error: a half-understood config is refused. */
int dpfix_config_load_file(const struct dpfix_config_option *options, void *settings,
		const char *path, char *err, size_t errlen);

/* Program arguments: --config FILE is read first wherever it appears, then every
 * --option VALUE overrides it (a yes/no option may stand alone: --quiet). Returns 0,
 * 1 if --help or -h was given (the caller prints its usage), or -EINVAL with err. */
int dpfix_config_from_args(const struct dpfix_config_option *options, void *settings, int argc,
		char **argv, char *err, size_t errlen);

/* The option whose command-line name is name ("idle-timeout"), or NULL. */
const struct dpfix_config_option *dpfix_config_find_cli(const struct dpfix_config_option *options,
		const char *name);

/* Opens a file of secrets (pre-shared keys, a password) for reading. A file its group or
 * others may read is refused: a secret others can read is a leaked one. key names the
 * option in messages ("psk_file"). NULL with err saying why. */
FILE *dpfix_config_open_secret(const char *key, const char *path, char *err, size_t errlen);

/* Prints each option, its type and help text, for --help. */
void dpfix_config_print_help(const struct dpfix_config_option *options, FILE *out);

#endif
