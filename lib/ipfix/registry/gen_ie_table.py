#!/usr/bin/env python3
"""Generates the C information-element table of lib/ipfix from IANA's registry.

Run by meson at build time (nothing generated is committed):
    gen_ie_table.py ipfix.xml OUT.c OUT_ids.h

Every element of the XML's "ipfix-information-elements" sub-registry becomes an
entry (id, name, abstract data type, semantics, units, range, status), and every
reversible one also gets its RFC 5103 reverse element (PEN 29305, same id,
"reverse" + Name). Which elements are not reversible is decided by the rule of RFC
5103 section 6.1, applied to the element groups IANA's XML still records for the
RFC 5102 elements. Any value the generator does not understand stops the build with
FILE:LINE: reason 'value'.
"""
import re
import sys
from xml.parsers import expat

REVERSE_PEN = 29305

# Abstract data types (RFC 7012 3.1, RFC 6313, RFC 9740) -> enum dpfix_ipfix_type.
TYPES = {
    'octetArray': 'DPFIX_IPFIX_OCTET_ARRAY',
    'unsigned8': 'DPFIX_IPFIX_UNSIGNED8',
    'unsigned16': 'DPFIX_IPFIX_UNSIGNED16',
    'unsigned32': 'DPFIX_IPFIX_UNSIGNED32',
    'unsigned64': 'DPFIX_IPFIX_UNSIGNED64',
    'signed8': 'DPFIX_IPFIX_SIGNED8',
    'signed16': 'DPFIX_IPFIX_SIGNED16',
    'signed32': 'DPFIX_IPFIX_SIGNED32',
    'signed64': 'DPFIX_IPFIX_SIGNED64',
    'float32': 'DPFIX_IPFIX_FLOAT32',
    'float64': 'DPFIX_IPFIX_FLOAT64',
    'boolean': 'DPFIX_IPFIX_BOOLEAN',
    'macAddress': 'DPFIX_IPFIX_MAC_ADDRESS',
    'string': 'DPFIX_IPFIX_STRING',
    'dateTimeSeconds': 'DPFIX_IPFIX_DATETIME_SECONDS',
    'dateTimeMilliseconds': 'DPFIX_IPFIX_DATETIME_MILLISECONDS',
    'dateTimeMicroseconds': 'DPFIX_IPFIX_DATETIME_MICROSECONDS',
    'dateTimeNanoseconds': 'DPFIX_IPFIX_DATETIME_NANOSECONDS',
    'ipv4Address': 'DPFIX_IPFIX_IPV4_ADDRESS',
    'ipv6Address': 'DPFIX_IPFIX_IPV6_ADDRESS',
    'basicList': 'DPFIX_IPFIX_BASIC_LIST',
    'subTemplateList': 'DPFIX_IPFIX_SUB_TEMPLATE_LIST',
    'subTemplateMultiList': 'DPFIX_IPFIX_SUB_TEMPLATE_MULTI_LIST',
    'unsigned256': 'DPFIX_IPFIX_UNSIGNED256',
}

# Data type semantics (RFC 7012 3.2, RFC 6313) -> enum dpfix_ipfix_semantics.
SEMANTICS = {
    '': 'DPFIX_IPFIX_SEM_NONE',
    'default': 'DPFIX_IPFIX_SEM_DEFAULT',
    'quantity': 'DPFIX_IPFIX_SEM_QUANTITY',
    'totalCounter': 'DPFIX_IPFIX_SEM_TOTAL_COUNTER',
    'deltaCounter': 'DPFIX_IPFIX_SEM_DELTA_COUNTER',
    'identifier': 'DPFIX_IPFIX_SEM_IDENTIFIER',
    'flags': 'DPFIX_IPFIX_SEM_FLAGS',
    'list': 'DPFIX_IPFIX_SEM_LIST',
    'snmpCounter': 'DPFIX_IPFIX_SEM_SNMP_COUNTER',
    'snmpGauge': 'DPFIX_IPFIX_SEM_SNMP_GAUGE',
}

STATUS = {
    'current': 'DPFIX_IPFIX_STATUS_CURRENT',
    'deprecated': 'DPFIX_IPFIX_STATUS_DEPRECATED',
}

# RFC 5103 section 6.1, "The following specific Information Elements are not
# reversible": (1) the identifiers flowId, templateId, observationDomainId and
# commonPropertiesId; (2) the process configuration elements of RFC 5102 section 5.2
# and (3) the process statistics elements of its section 5.3, which IANA's XML
# groups as "config" and "processCounter"; (4) paddingOctets; (5) biflowDirection.
NOT_REVERSIBLE_NAMES = {'flowId', 'templateId', 'observationDomainId',
                        'commonPropertiesId', 'paddingOctets', 'biflowDirection'}
NOT_REVERSIBLE_GROUPS = {'config', 'processCounter'}

NAME_RE = re.compile(r'[A-Za-z][A-Za-z0-9]*\Z')
NUMBER_RE = re.compile(r'(0[xX][0-9A-Fa-f]+|[0-9]+)\Z')


def fail(path, line, reason, value):
    sys.exit(f"{path}:{line}: {reason} '{value}'")


def parse_range(path, line, text):
    """'low-high' with decimal or 0x numbers; None when the registry gives none."""
    if text == '':
        return None
    parts = text.split('-')
    if len(parts) != 2 or not all(NUMBER_RE.match(p.strip()) for p in parts):
        fail(path, line, 'range is not LOW-HIGH', text)
    low, high = (int(p.strip(), 0) for p in parts)
    if low > high or high >= 1 << 64:
        fail(path, line, 'range is empty or beyond 64 bits', text)
    return low, high


class _RecordReader:
    """Collects the records of one sub-registry of IANA's XML: for each, the line of
    its <record> tag and the text of the children named in FIELDS (no nesting)."""

    FIELDS = ('elementId', 'name', 'dataType', 'dataTypeSemantics', 'status', 'units',
              'range', 'group')

    def __init__(self, registry_id):
        self.registry_id = registry_id
        self.records = []
        self._registries = []  # ids of the <registry> elements open
        self._depth = 0
        self._record_depth = None
        self._field = None
        self._text = []

    def start(self, tag, attrs, line):
        self._depth += 1
        tag = tag.rsplit(' ', 1)[-1]
        if tag == 'registry':
            self._registries.append(attrs.get('id'))
        elif (tag == 'record' and self._record_depth is None and self._registries
              and self._registries[-1] == self.registry_id):
            self._record_depth = self._depth
            self.records.append({'line': line})
        elif (self._record_depth is not None and self._depth == self._record_depth + 1
              and tag in self.FIELDS):
            self._field, self._text = tag, []

    def end(self, tag):
        tag = tag.rsplit(' ', 1)[-1]
        if self._field is not None and self._depth == self._record_depth + 1:
            self.records[-1][self._field] = ''.join(self._text).strip()
            self._field = None
        if tag == 'record' and self._depth == self._record_depth:
            self._record_depth = None
        if tag == 'registry':
            self._registries.pop()
        self._depth -= 1

    def text(self, data):
        if self._field is not None:
            self._text.append(data)


def read_records(path, registry_id):
    reader = _RecordReader(registry_id)
    parser = expat.ParserCreate(namespace_separator=' ')
    parser.StartElementHandler = lambda tag, attrs: reader.start(
        tag, attrs, parser.CurrentLineNumber)
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.text
    try:
        with open(path, 'rb') as f:
            parser.ParseFile(f)
    except expat.ExpatError as err:
        fail(path, err.lineno, 'not well-formed XML', expat.ErrorString(err.code))
    if not reader.records:
        sys.exit(f"{path}: no '{registry_id}' registry: not IANA's ipfix.xml?")
    return reader.records


def read_elements(path):
    elements = []
    for rec in read_records(path, 'ipfix-information-elements'):
        line = rec['line']
        ident, name, dtype = (rec.get(k, '') for k in ('elementId', 'name', 'dataType'))
        sem, status, units, rng = (rec.get(k, '') for k in
                                   ('dataTypeSemantics', 'status', 'units', 'range'))
        if dtype == '':
            continue  # reserved, unassigned, NetFlow v9 ranges, withdrawn ids: no element
        if not ident.isdigit() or not 1 <= int(ident) <= 0x7fff:
            fail(path, line, 'element id is not in 1..32767', ident)
        if not NAME_RE.match(name):
            fail(path, line, 'element name is not an identifier', name)
        if dtype not in TYPES:
            fail(path, line, 'unknown abstract data type', dtype)
        if sem not in SEMANTICS:
            fail(path, line, 'unknown data type semantics', sem)
        if status not in STATUS:
            fail(path, line, 'unknown status', status)
        elements.append({'line': line, 'id': int(ident), 'name': name, 'type': dtype,
                         'semantics': sem, 'status': status, 'units': units,
                         'range': parse_range(path, line, rng),
                         'group': rec.get('group')})
    return elements


def check_unique(path, elements):
    ids, names = {}, {}
    for e in elements:
        if e['id'] in ids:
            fail(path, e['line'], 'element id used twice', e['id'])
        if e['name'] in names:
            fail(path, e['line'], 'element name used twice', e['name'])
        ids[e['id']] = names[e['name']] = e


def mark_reversible(path, elements):
    names = {e['name'] for e in elements}
    for name in NOT_REVERSIBLE_NAMES:
        if name not in names:
            sys.exit(f"{path}: RFC 5103 names '{name}' as not reversible, "
                     "but the registry has no such element")
    found_groups = {e['group'] for e in elements}
    if not NOT_REVERSIBLE_GROUPS <= found_groups:
        sys.exit(f"{path}: groups {sorted(NOT_REVERSIBLE_GROUPS - found_groups)} "
                 'missing: the RFC 5103 rule cannot be applied')
    for e in elements:
        e['reversible'] = (e['name'] not in NOT_REVERSIBLE_NAMES and
                           e['group'] not in NOT_REVERSIBLE_GROUPS)


def reverse_name(name):
    return 'reverse' + name[0].upper() + name[1:]


def c_string(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'


def entry(e, pen, name, reversible):
    low, high = e['range'] if e['range'] else (0, 0)
    units = c_string(e['units']) if e['units'] else 'NULL'
    return ('\t{' + f".id = {e['id']}, .pen = {pen}, .name = {c_string(name)}, "
            f".type = {TYPES[e['type']]}, .semantics = {SEMANTICS[e['semantics']]}, "
            f".status = {STATUS[e['status']]}, .units = {units}, "
            f".has_range = {1 if e['range'] else 0}, .range_low = {low}u, "
            f".range_high = {high}u, .reversible = {1 if reversible else 0}" + '},')


def write_table(path, elements):
    elements = sorted(elements, key=lambda e: e['id'])
    reverse = [e for e in elements if e['reversible']]
    max_id = elements[-1]['id']
    rows = [(e, 0, e['name'], e['reversible']) for e in elements]
    rows += [(e, REVERSE_PEN, reverse_name(e['name']), False) for e in reverse]
    names = [r[2] for r in rows]
    if len(set(names)) != len(names):
        sys.exit('a reverse element name collides with an IANA name')
    # strcmp order: the names are ASCII, so Python's code-point order is byte order.
    name_order = sorted(range(len(rows)), key=lambda i: names[i])
    iana_slot = ['UINT16_MAX'] * (max_id + 1)
    reverse_slot = ['UINT16_MAX'] * (max_id + 1)
    for i, (e, pen, _, _) in enumerate(rows):
        (reverse_slot if pen else iana_slot)[e['id']] = str(i)

    def array(values, per_line=12):
        return '\n'.join('\t' + ', '.join(values[i:i + per_line]) + ','
                         for i in range(0, len(values), per_line))

    with open(path, 'w', encoding='ascii') as f:
        f.write('/* Generated by lib/ipfix/registry/gen_ie_table.py from IANA\'s IPFIX\n'
                ' * registry (lib/ipfix/registry): do not edit. */\n'
                '#include <stdint.h>\n#include <stddef.h>\n\n'
                '#include "ipfix_ie_table.h"\n\n')
        f.write(f'const uint32_t ipfix_ie_table_count = {len(rows)};\n\n')
        f.write('/* IANA elements by id, then their RFC 5103 reverse elements by id. */\n')
        f.write('const struct dpfix_ipfix_ie ipfix_ie_table[] = {\n')
        f.write('\n'.join(entry(*r) for r in rows) + '\n};\n\n')
        f.write('/* ipfix_ie_table index of IANA element id, UINT16_MAX if unassigned. */\n')
        f.write(f'const uint16_t ipfix_ie_iana_slot[{max_id + 1}] = {{\n'
                + array(iana_slot) + '\n};\n\n')
        f.write('/* ipfix_ie_table index of the reverse element of id (PEN 29305). */\n')
        f.write(f'const uint16_t ipfix_ie_reverse_slot[{max_id + 1}] = {{\n'
                + array(reverse_slot) + '\n};\n\n')
        f.write('/* ipfix_ie_table indexes in strcmp order of the names. */\n')
        f.write(f'const uint16_t ipfix_ie_name_order[{len(rows)}] = {{\n'
                + array([str(i) for i in name_order]) + '\n};\n')


def write_ids(path, elements):
    elements = sorted(elements, key=lambda e: e['id'])
    with open(path, 'w', encoding='ascii') as f:
        f.write('/* Generated by lib/ipfix/registry/gen_ie_table.py from IANA\'s IPFIX\n'
                ' * registry (lib/ipfix/registry): do not edit.\n'
                ' * IE_<name>: the id of every IANA information element. */\n'
                '#ifndef DPFIX_IPFIX_IE_IDS_H\n#define DPFIX_IPFIX_IE_IDS_H\n\n')
        f.write(f"#define DPFIX_IPFIX_IE_IANA_MAX_ID {elements[-1]['id']}\n\n")
        f.write('enum dpfix_ipfix_ie_id {\n')
        f.write('\n'.join(f"\tIE_{e['name']} = {e['id']}," for e in elements))
        f.write('\n};\n\n#endif\n')


def main():
    if len(sys.argv) != 4:
        sys.exit('usage: gen_ie_table.py ipfix.xml OUT.c OUT.h')
    xml_path, out_c, out_h = sys.argv[1:]
    elements = read_elements(xml_path)
    check_unique(xml_path, elements)
    mark_reversible(xml_path, elements)
    if len(elements) * 2 >= 0xffff:
        sys.exit('too many elements for 16-bit table indexes')
    write_table(out_c, elements)
    write_ids(out_h, elements)


if __name__ == '__main__':
    main()
