#!/usr/bin/python3
"""Writes the malformed tensor files of tests/error (run once; the files are
committed, tests never run Python). Based on tests/e2e/data/smol_mlp."""
import json
import os
import struct
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "e2e"))
import numpy as np  # noqa: E402
from torchref import load_st, save_st  # noqa: E402

data = os.path.join(here, "..", "..", "e2e", "data")
w = load_st(os.path.join(data, "smol_mlp", "weights.safetensors"))
feed = load_st(os.path.join(data, "smol_mlp", "feed.safetensors"))


def out(name):
    return os.path.join(here, name + ".safetensors")


def raw(name, header, body=b"", length=None):
    h = json.dumps(header).encode() if not isinstance(header, bytes) else header
    with open(out(name), "wb") as f:
        f.write(struct.pack("<Q", len(h) if length is None else length) + h + body)


save_st(out("weights_missing_tensor"), {k: v for k, v in w.items() if k != "fc3.bias"})
save_st(out("weights_extra_tensor"), dict(w, **{"fc4.weight": np.zeros((2, 2), np.float32)}))
save_st(out("weights_wrong_shape"), dict(w, **{"fc1.weight": w["fc1.weight"].T.copy()}))
save_st(out("weights_wrong_dtype"), dict(w, **{"fc1.bias": np.arange(5, dtype=np.int32)}))
raw("weights_f16", {"fc1.weight": {"dtype": "F16", "shape": [5, 3], "data_offsets": [0, 30]}},
    b"\0" * 30)
save_st(out("feed_missing_input"), {"x": feed["x"]})
good = open(os.path.join(data, "smol_mlp", "feed.safetensors"), "rb").read()
with open(out("feed_truncated"), "wb") as f:
    f.write(good[:-7])
raw("feed_huge_header", b"{}", length=1 << 62)
raw("feed_offsets_past_end",
    {"x": {"dtype": "F32", "shape": [4, 3], "data_offsets": [0, 48]},
     "target": {"dtype": "F32", "shape": [4, 2], "data_offsets": [48, 4000]}}, b"\0" * 80)
raw("feed_not_json", b"{\"x\": [1, 2", b"")
lab = load_st(os.path.join(data, "named_dims_conv_chain", "feed.safetensors"))
lab["label"] = lab["label"].copy()
lab["label"][2] = 5
save_st(out("feed_label_out_of_range"), lab)
# Headers the DOM parser alone would accept wrongly: a NUL byte (nlohmann stops
# there) and a tensor named twice (the last entry would silently win).
good_len = struct.unpack("<Q", good[:8])[0]
body = good[8 + good_len:]
x_entry = json.dumps({"dtype": "F32", "shape": [4, 3], "data_offsets": [0, 48]}).encode()
t_entry = json.dumps({"dtype": "F32", "shape": [4, 2], "data_offsets": [48, 80]}).encode()
raw("feed_nul_in_header", b'{"x": ' + x_entry + b', "target": ' + t_entry + b'}\0garbage', body)
raw("feed_duplicate_name",
    b'{"x": ' + x_entry + b', "target": ' + t_entry + b', "x": ' + x_entry + b'}', body)
# A tensor name holding a newline and a terminal escape (clear screen): the
# message must stay on one line, with the name escaped.
raw("feed_name_injection",
    b'{"x": ' + x_entry + b', "target": ' + t_entry +
    b', "evil\\n\\u001b[2J": {"dtype": "F32", "shape": [0], "data_offsets": [80, 80]}}', body)
# A feed with a NaN: refused when read, unless --allow-nonfinite.
nan_feed = dict(feed)
nan_feed["x"] = feed["x"].copy()
nan_feed["x"].reshape(-1)[5] = np.nan
save_st(out("feed_nan"), nan_feed)
