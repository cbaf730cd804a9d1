#!/usr/bin/env python3
"""Compile one ASL file with iasl, failing on any warning or remark.

iasl-build.py IASL IN.asl OUT.aml INCLUDE_DIR...
iasl's own exit status ignores warnings, so its summary line is checked too:
"Compilation successful. 0 Errors, 0 Warnings, 0 Remarks, 2 Optimizations"
(older releases say "complete"; "failed" when there were errors).
"""
import os
import re
import subprocess
import sys
import tempfile

iasl, src, out = sys.argv[1:4]
incs = [arg for d in sys.argv[4:] for arg in ('-I', d)]
with tempfile.TemporaryDirectory() as tmp:
    base = os.path.join(tmp, 'out')
    r = subprocess.run([iasl] + incs + ['-p', base, src],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    m = re.search(r'Compilation \w+\. (\d+) Errors?, (\d+) Warnings?, (\d+) Remarks?', r.stdout)
    if r.returncode != 0 or not m or any(int(x) for x in m.groups()):
        sys.stderr.write(r.stdout)
        sys.stderr.write('iasl-build: %s must compile with no errors, warnings or remarks\n' % src)
        sys.exit(1)
    with open(base + '.aml', 'rb') as f:
        data = f.read()
with open(out, 'wb') as f:
    f.write(data)
