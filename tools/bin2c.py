#!/usr/bin/env python3
"""Turn a binary file into a C array: bin2c.py IN OUT SYMBOL."""
import sys

data = open(sys.argv[1], 'rb').read()
sym = sys.argv[3]
with open(sys.argv[2], 'w') as f:
    f.write('/* Generated from %s by tools/bin2c.py; do not edit. */\n' % sys.argv[1].split('/')[-1])
    f.write('const unsigned char %s[] = {\n' % sym)
    for i in range(0, len(data), 12):
        f.write('\t' + ' '.join('0x%02x,' % b for b in data[i:i + 12]) + '\n')
    f.write('};\nconst unsigned int %s_len = %d;\n' % (sym, len(data)))
