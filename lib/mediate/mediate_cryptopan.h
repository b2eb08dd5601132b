/* Crypto-PAn (Xu, Fan, Ammar, Moon, 2002): keyed, prefix-preserving pseudonymisation of
 * addresses. Two addresses that share their first k bits map to two that share their
 * first k bits, and the same key gives the same mapping every time. IPv4 matches the
 * reference implementation's sample trace; IPv6 is the same construction over 128 bits
 * (as Yawning Angel's Go cryptopan does, whose IPv6 vectors it matches). Internal to
 * lib/mediate. */
#ifndef MEDIATE_CRYPTOPAN_H
#define MEDIATE_CRYPTOPAN_H

#include <stddef.h>
#include <stdint.h>

#define MED_CRYPTOPAN_KEY_LEN 32

struct med_cryptopan;

/* From a 32-octet key (16 for AES-128, 16 to derive the pad). NULL: out of memory. */
struct med_cryptopan *med_cryptopan_new(const uint8_t key[MED_CRYPTOPAN_KEY_LEN]);
void med_cryptopan_free(struct med_cryptopan *c);
/* Pseudonymises the address at a in place: len 4 (IPv4) or 16 (IPv6). */
void med_cryptopan_address(struct med_cryptopan *c, uint8_t *a, size_t len);

#endif
