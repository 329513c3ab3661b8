#!/usr/bin/python3
"""Writes the SmolMLP example's data set (the files beside this script): a small synthetic
function of three inputs with two outputs,

    y0 = x0 * x1 + 0.5 * x2,    y1 = 0.5 * sin(pi * x0),    x uniform in [-1, 1]^3,

as train.safetensors (512 samples) and test.safetensors (128), tensors "x" F32 [N, 3] and
"target" F32 [N, 2]. Standard library only; the output is committed, so nothing runs this
but someone changing the data."""
import json, math, os, random, struct

def write(path, tensors):
    header, data, off = {}, b"", 0
    for name, (shape, values) in tensors.items():
        raw = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [off, off + len(raw)]}
        data += raw
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)

rng = random.Random(2024)
here = os.path.dirname(os.path.abspath(__file__))
for name, n in (("train", 512), ("test", 128)):
    xs, ys = [], []
    for _ in range(n):
        x = [rng.uniform(-1, 1) for _ in range(3)]
        xs += x
        ys += [x[0] * x[1] + 0.5 * x[2], 0.5 * math.sin(math.pi * x[0])]
    write(os.path.join(here, name + ".safetensors"), {"x": ([n, 3], xs), "target": ([n, 2], ys)})
